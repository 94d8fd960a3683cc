//! The `strict-s3` binary's subcommands, run as a user runs them: `presign` URLs and POST
//! forms are used against a server started in-process (same credentials, system clock)
//! and checked by `explain`; and with no subcommand the binary still serves.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::SystemTime;

use common::{PayloadMode, Raw, send_raw};
use serde_json::Value;
use strict_s3::{Clock, Config, Credential, Server, ServerHandle, SystemClock};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const BIN: &str = env!("CARGO_BIN_EXE_strict-s3");
/// Not the defaults: proves --access-key/--secret-key/--region reach the subcommands.
const AK: &str = "CLITESTACCESSKEY";
const SK: &str = "cli/test+secret";
const REGION: &str = "eu-west-3";

struct Setup {
    server: ServerHandle,
    host: String,
}

async fn server() -> Setup {
    let server = Server::builder()
        .config(Config {
            region: REGION.into(),
            credentials: vec![Credential::new(AK, SK)],
            buckets: vec!["bkt".into()],
            ..Config::in_memory()
        })
        .start()
        .await
        .expect("server starts");
    let host = server.local_addr().to_string();
    Setup { server, host }
}

impl Setup {
    fn endpoint(&self) -> String {
        format!("http://{}", self.host)
    }

    /// `strict-s3 presign …` against this server; the URL (or form) it prints.
    fn presign(&self, args: &[&str]) -> String {
        let mut all = vec!["presign"];
        all.extend_from_slice(args);
        let endpoint = self.endpoint();
        all.extend_from_slice(&["--endpoint", &endpoint]);
        let out = strict_s3(&all);
        assert!(out.status.success(), "presign {args:?}: {}", stderr(&out));
        stdout(&out).trim_end().to_string()
    }
}

/// The binary, with none of the credential or region variables of the environment.
fn clean_command() -> Command {
    let mut cmd = Command::new(BIN);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "S3_ACCESS_KEY",
        "S3_SECRET_KEY",
        "S3_REGION",
        "AWS_REGION",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs the binary with this test's credentials, ignoring any from the environment.
fn strict_s3(args: &[&str]) -> Output {
    clean_command()
        .args(args)
        .args(["--access-key", AK, "--secret-key", SK, "--region", REGION])
        .output()
        .expect("runs strict-s3")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `strict-s3 explain URL EXTRA… --json`: (exit code, report).
fn explain(url: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["explain", url, "--json"];
    args.extend_from_slice(extra);
    let out = strict_s3(&args);
    let report: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("explain --json: {e}\n{}{}", stdout(&out), stderr(&out)));
    (out.status.code().expect("exit code"), report)
}

/// The report's reason (the diagnosis, for a mismatch) says `text`.
#[track_caller]
fn assert_reason(report: &Value, text: &str) {
    let reason = report["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(text), "{text:?} not in {report}");
}

async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, String) {
    let mut req = reqwest::Client::new().request(method.parse().expect("method"), url);
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    let resp = req.body(body).send().await.expect("request sent");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

fn now() -> OffsetDateTime {
    SystemClock.now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_urls_work_against_the_server_and_explain_agrees() {
    let s = server().await;

    let put = s.presign(&["put", "s3://bkt/dir/hello world+1.txt"]);
    assert!(put.starts_with(&format!("{}/bkt/dir/hello%20world%2B1.txt?", s.endpoint())));
    let (status, body) = send("PUT", &put, &[], b"hello".to_vec()).await;
    assert_eq!(status, 200, "{body}");
    let (code, report) = explain(&put, &["--method", "PUT"]);
    assert_eq!(
        (code, &report["valid"]),
        (0, &Value::Bool(true)),
        "{report}"
    );
    assert_eq!(report["auth"], "sigv4-presigned");
    assert_eq!(report["credential_scope"]["region"], REGION);
    assert_eq!(report["signature"]["match"], true);
    assert_eq!(report["expires_seconds"], 900);

    let get = s.presign(&["get", "s3://bkt/dir/hello world+1.txt", "--expires", "2h"]);
    assert!(get.contains("X-Amz-Expires=7200"));
    let (status, body) = send("GET", &get, &[], vec![]).await;
    assert_eq!((status, body.as_str()), (200, "hello"));
    let out = strict_s3(&["explain", &get]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    for expected in [
        "VALID",
        "signed headers     host",
        "canonical request",
        "string to sign",
        "time left",
        "match",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }

    let head = s.presign(&["head", "s3://bkt/dir/hello world+1.txt"]);
    assert_eq!(send("HEAD", &head, &[], vec![]).await.0, 200);
    assert_eq!(explain(&head, &["-X", "HEAD"]).0, 0);

    // A signed Content-Type: the request must carry it, and explain must be told it.
    let typed = s.presign(&["put", "s3://bkt/typed.txt", "--content-type", "text/plain"]);
    let (status, body) = send(
        "PUT",
        &typed,
        &[("content-type", "text/plain")],
        b"t".to_vec(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (code, report) = explain(&typed, &["-X", "PUT", "-H", "Content-Type: text/plain"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["signed_headers"],
        serde_json::json!(["content-type", "host"])
    );
    let (code, report) = explain(&typed, &["-X", "PUT", "-H", "Content-Type: image/png"]);
    assert_eq!(code, 1);
    let reason = report["reason"].as_str().unwrap();
    assert!(reason.contains("Content-Type \"text/plain\""), "{reason}");

    let delete = s.presign(&["delete", "s3://bkt/typed.txt"]);
    assert_eq!(send("DELETE", &delete, &[], vec![]).await.0, 204);
    assert_eq!(explain(&delete, &["--method", "delete"]).0, 0);
    s.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_upload_part() {
    let s = server().await;
    let at = SystemTime::from(now());
    let create = Raw::new("POST", "/bkt/big.bin?uploads").sign_with(
        &s.host,
        AK,
        SK,
        REGION,
        "s3",
        at,
        PayloadMode::Body,
    );
    let resp = send_raw(&s.host, &create).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let upload_id = resp.xml("UploadId").expect("UploadId");

    let url = s.presign(&[
        "upload-part",
        "s3://bkt/big.bin",
        "--upload-id",
        &upload_id,
        "--part",
        "1",
    ]);
    assert!(url.contains("partNumber=1") && url.contains("uploadId="));
    let (status, body) = send("PUT", &url, &[], vec![7u8; 1024]).await;
    assert_eq!(status, 200, "{body}");
    let (code, report) = explain(&url, &["-X", "PUT"]);
    assert_eq!(code, 0, "{report}");

    let out = strict_s3(&[
        "presign",
        "upload-part",
        "s3://bkt/big.bin",
        "--upload-id",
        "x",
        "--part",
        "10001",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    s.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_names_what_is_wrong() {
    let s = server().await;
    let get = s.presign(&["get", "s3://bkt/k.txt", "--expires", "60"]);

    // A tampered signature: the server refuses it, and explain says so.
    let last = get.chars().last().unwrap();
    let tampered = format!(
        "{}{}",
        &get[..get.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let (status, body) = send("GET", &tampered, &[], vec![]).await;
    assert_eq!(status, 403);
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );
    let out = strict_s3(&["explain", &tampered]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("REFUSED 403 SignatureDoesNotMatch"), "{text}");
    assert!(text.contains("differs"), "{text}");
    let (code, report) = explain(&tampered, &[]);
    assert_eq!(code, 1);
    assert_eq!(report["error"]["code"], "SignatureDoesNotMatch");
    assert_eq!(report["failed_check"], "signature");
    assert_eq!(report["signature"]["match"], false);

    // The URL used with another method: the diagnosis names the signed one.
    let out = strict_s3(&["explain", &get, "--method", "PUT"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("diagnosis") && text.contains("valid for method GET"),
        "{text}"
    );
    let (_, report) = explain(&get, &["--method", "PUT"]);
    assert_reason(&report, "signed for GET and sent as PUT");

    // Expired: explain at a later --now reports S3's error with the numbers.
    let later = now() + time::Duration::hours(2);
    let later_text = later
        .replace_nanosecond(0)
        .unwrap()
        .format(&Rfc3339)
        .unwrap();
    let (code, report) = explain(&get, &["--now", &later_text]);
    assert_eq!(code, 1, "{report}");
    let error = &report["error"];
    assert_eq!(error["status"], 403);
    assert_eq!(error["code"], "AccessDenied");
    assert_eq!(error["message"], "Request has expired");
    assert_eq!(report["failed_check"], "time");
    assert_eq!(error["details"]["X-Amz-Expires"], "60");
    let signed_at = OffsetDateTime::parse(report["signed_at"].as_str().unwrap(), &Rfc3339).unwrap();
    let expires_at = signed_at + time::Duration::seconds(60);
    assert_eq!(
        error["details"]["Expires"].as_str().unwrap(),
        strict_s3::auth::error::iso(expires_at)
    );
    assert_eq!(
        error["details"]["ServerTime"].as_str().unwrap(),
        strict_s3::auth::error::iso(later.replace_nanosecond(0).unwrap())
    );
    let ago = (later.replace_nanosecond(0).unwrap() - expires_at).whole_seconds();
    assert_eq!(report["seconds_left"], -ago);
    let reason = report["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("expired {ago} seconds ago")),
        "{reason}"
    );
    let out = strict_s3(&["explain", &get, "--now", &later_text]);
    let text = stdout(&out);
    assert!(
        text.contains("REFUSED 403 AccessDenied")
            && text.contains("Request has expired")
            && text.contains("time elapsed"),
        "{text}"
    );

    // Another region in the configuration: the bucket is there, and a path-style URL
    // signed for us-east-1 is that endpoint's redirect, before the signature is checked.
    let out = Command::new(BIN)
        .args(["explain", &get, "--json"])
        .args([
            "--access-key",
            AK,
            "--secret-key",
            SK,
            "--region",
            "us-west-2",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["error"]["code"], "PermanentRedirect");
    assert_eq!(report["error"]["status"], 301);

    // No signature at all.
    let (code, report) = explain(&format!("{}/bkt/k.txt", s.endpoint()), &["-X", "PUT"]);
    assert_eq!(
        (code, &report["error"]["code"]),
        (1, &Value::from("AccessDenied"))
    );
    s.server.shutdown().await;
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["presign", "get", "s3://bkt/k", "--expires", "8d"][..],
        &["presign", "get", "s3://bkt/k", "--expires", "soon"],
        &["presign", "get", "bkt/k"],
        &["presign", "get", "s3://bkt"],
        &[
            "presign",
            "put",
            "s3://bkt/k",
            "--endpoint",
            "localhost:9000",
        ],
        &["presign", "post", "s3://bkt/", "--max-size", "6GB"],
        &["explain", "not-a-url"],
        &["explain", "http://h/bkt/k", "--now", "yesterday"],
        &["explain", "http://h/bkt/k", "--header", "no colon"],
    ] {
        let out = strict_s3(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty(), "{args:?}");
    }
    let out = strict_s3(&["presign", "get", "s3://bkt/k", "--expires", "8d"]);
    assert!(stderr(&out).contains("604800"), "{}", stderr(&out));
}

const BOUNDARY: &str = "----strictS3CliTest";

/// A multipart/form-data body: the fields in order, then the file.
fn multipart(fields: &[(String, String)], filename: &str, file: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for (n, v) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    b.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    b.extend_from_slice(file);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    b
}

async fn post_form(
    url: &str,
    fields: &[(String, String)],
    filename: &str,
    file: &[u8],
) -> (u16, String) {
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    send(
        "POST",
        url,
        &[("content-type", ct.as_str())],
        multipart(fields, filename, file),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presign_post_json_fields_upload() {
    let s = server().await;
    let out = s.presign(&[
        "post",
        "s3://bkt/uploads/",
        "--max-size",
        "1KB",
        "--content-type",
        "text/",
        "--format",
        "json",
    ]);
    let form: Value = serde_json::from_str(&out).unwrap();
    let url = form["url"].as_str().unwrap();
    assert_eq!(url, format!("{}/bkt", s.endpoint()));
    let fields: Vec<(String, String)> = form["fields"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    assert_eq!(form["fields"]["key"], "uploads/${filename}");
    assert_eq!(form["fields"]["success_action_status"], "201");
    let with_type = |t: &str| -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| {
                let v = if k == "Content-Type" { t } else { v };
                (k.clone(), v.to_string())
            })
            .collect()
    };

    let (status, body) = post_form(url, &with_type("text/plain"), "notes.txt", b"notes").await;
    assert_eq!(status, 201, "{body}");
    assert!(body.contains("<Key>uploads/notes.txt</Key>"), "{body}");
    let get = s.presign(&["get", "s3://bkt/uploads/notes.txt"]);
    assert_eq!(send("GET", &get, &[], vec![]).await, (200, "notes".into()));

    // The policy holds: too big, or another Content-Type, is refused.
    let (status, body) = post_form(url, &with_type("text/plain"), "big.txt", &[b'x'; 1025]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("EntityTooLarge"), "{body}");
    let (status, body) = post_form(url, &with_type("image/png"), "a.png", b"png").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("Policy Condition failed"), "{body}");
    s.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presign_post_curl_works_as_printed() {
    let s = server().await;
    let script = s.presign(&["post", "s3://bkt/curl/", "--format", "curl"]);
    assert!(script.contains("-F 'file=@FILE'"), "{script}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.txt");
    std::fs::write(&file, b"uploaded with curl").unwrap();
    let script = script.replace("@FILE", &format!("@{}", file.display()));
    let out = tokio::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .await
        .expect("sh runs");
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(text.contains("<Key>curl/report.txt</Key>"), "{text}");
    let get = s.presign(&["get", "s3://bkt/curl/report.txt"]);
    assert_eq!(
        send("GET", &get, &[], vec![]).await,
        (200, "uploaded with curl".into())
    );
    s.server.shutdown().await;
}

/// `name="…" value="…"` of each `<input>` in the page, in order.
fn inputs(html: &str) -> Vec<(String, String, String)> {
    let attr = |tag: &str, name: &str| -> String {
        let key = format!("{name}=\"");
        tag.find(&key)
            .map(|i| {
                let rest = &tag[i + key.len()..];
                rest[..rest.find('"').unwrap()]
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&")
            })
            .unwrap_or_default()
    };
    html.split("<input")
        .skip(1)
        .map(|t| {
            let tag = &t[..t.find('>').unwrap()];
            (attr(tag, "type"), attr(tag, "name"), attr(tag, "value"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presign_post_html_is_a_complete_form() {
    let s = server().await;
    let html = s.presign(&[
        "post",
        "s3://bkt/pics/",
        "--content-type",
        "image/",
        "--format",
        "html",
    ]);
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>"));
    let action = format!(
        r#"<form id="upload" action="{}/bkt" method="post" enctype="multipart/form-data">"#,
        s.endpoint()
    );
    assert!(html.contains(&action), "{html}");
    let inputs = inputs(&html);
    let names: Vec<&str> = inputs.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "key",
            "Content-Type",
            "success_action_status",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "policy",
            "x-amz-signature",
            "file"
        ]
    );
    assert!(inputs[..8].iter().all(|(t, _, _)| t == "hidden"));
    assert_eq!(inputs[8].0, "file");
    assert!(html.contains(r#"accept="image/*""#));
    assert_eq!(inputs[0].2, "pics/${filename}");

    // Submitted as a browser would (the script sets Content-Type to the file's type).
    let fields: Vec<(String, String)> = inputs[..8]
        .iter()
        .map(|(_, n, v)| {
            let v = if n == "Content-Type" { "image/png" } else { v };
            (n.clone(), v.to_string())
        })
        .collect();
    let (status, body) =
        post_form(&format!("{}/bkt", s.endpoint()), &fields, "cat.png", b"png").await;
    assert_eq!(status, 201, "{body}");
    assert!(body.contains("<Key>pics/cat.png</Key>"), "{body}");
    s.server.shutdown().await;
}

/// With no subcommand the binary serves, as before: banner first, SIGTERM stops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_subcommand_still_serves() {
    let mut child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0", "--in-memory", "--bucket", "served"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    // Kept open until the end: the server logs to stdout.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let endpoint = first
        .trim()
        .strip_prefix("strict-s3 listening on ")
        .unwrap_or_else(|| panic!("banner: {first:?}"))
        .to_string();
    // It answers S3: an unsigned request is refused the S3 way.
    let (status, body) = send("GET", &format!("{endpoint}/served"), &[], vec![]).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    drop(out);
}

/// `explain` diagnoses a SigV2 URL as the server does: the same search, the same words.
#[test]
fn explain_diagnoses_sigv2_urls() {
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    let expires = now().unix_timestamp() + 600;
    let sign = |method: &str| {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(SK.as_bytes()).unwrap();
        mac.update(format!("{method}\n\n\n{expires}\n/bkt/k.txt").as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let sig = percent_encoding::utf8_percent_encode(&sig, percent_encoding::NON_ALPHANUMERIC);
        format!(
            "http://127.0.0.1:9000/bkt/k.txt?AWSAccessKeyId={AK}&Expires={expires}&Signature={sig}"
        )
    };
    let get = sign("GET");
    let (code, report) = explain(&get, &[]);
    assert_eq!(code, 0, "{report}");
    let (code, report) = explain(&get, &["--method", "PUT"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["error"]["code"], "SignatureDoesNotMatch");
    assert_reason(&report, "signed for GET and sent as PUT");
    let (code, report) = explain(&format!("{get}&versionId=v1"), &[]);
    assert_eq!(code, 1);
    assert_reason(&report, "without the query parameter ?versionId=v1");
}

/// The banner of a server started with `env` set, up to its "Try it" lines.
fn banner_with(env: &[(&str, &str)]) -> String {
    banner_of(&["--addr", "127.0.0.1:0", "--in-memory"], env)
}

/// The banner of a server started with `args`.
fn banner_of(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut child = clean_command()
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    while !banner.contains("presign") {
        if out.read_line(&mut banner).unwrap() == 0 {
            break;
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    banner
}

/// A real-looking secret or session token from the environment never reaches the output
/// (CI logs keep it forever); the documentation's example pair is printed, for copying.
#[test]
fn the_banner_prints_no_real_secret() {
    let secret = "made-up/Secret+Value+0123456789abcdefghijkl";
    let token = "made-up-session-token-value";
    let banner = banner_with(&[
        ("AWS_ACCESS_KEY_ID", "AKIAMADEUPKEY0000001"),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_SESSION_TOKEN", token),
    ]);
    assert!(banner.starts_with("strict-s3 listening on"), "{banner}");
    assert!(!banner.contains(secret), "{banner}");
    assert!(!banner.contains(token), "{banner}");
    assert!(
        banner.contains("(from AWS_SECRET_ACCESS_KEY; not shown)"),
        "{banner}"
    );
    assert!(
        banner.contains("token from AWS_SESSION_TOKEN; not shown"),
        "{banner}"
    );
    assert!(banner.contains("AKIAMADEUPKEY0000001"), "{banner}");
    // Twin: the example pair is the documentation's, and printed.
    let banner = banner_with(&[]);
    assert!(
        banner.contains(strict_s3::config::DEFAULT_SECRET_KEY),
        "{banner}"
    );
}

/// `explain` evaluates the signer's permissions too (`--user`, as the server takes it):
/// a URL the user may use is valid, one it may not is the server's 403 with the access
/// check named.
#[test]
fn explain_evaluates_the_signers_policy() {
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    let (ak, sk) = ("AKIAEXPLAINUSER00000", "explain-user-secret");
    let dir = std::env::temp_dir().join(format!("strict-s3-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("policy.json");
    std::fs::write(
        &policy,
        r#"{"Version":"2012-10-17","Statement":{"Sid":"ReadOnly","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}}"#,
    )
    .unwrap();
    let user = format!("reader:{ak}:{sk}:{}", policy.display());
    let expires = now().unix_timestamp() + 600;
    let sign = |method: &str| {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(sk.as_bytes()).unwrap();
        mac.update(format!("{method}\n\n\n{expires}\n/bkt/k.txt").as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let sig = percent_encoding::utf8_percent_encode(&sig, percent_encoding::NON_ALPHANUMERIC);
        format!(
            "http://127.0.0.1:9000/bkt/k.txt?AWSAccessKeyId={ak}&Expires={expires}&Signature={sig}"
        )
    };
    let (code, report) = explain(&sign("GET"), &["--user", &user]);
    assert_eq!(code, 0, "{report}");
    let (code, report) = explain(&sign("DELETE"), &["--method", "DELETE", "--user", &user]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["error"]["code"], "AccessDenied");
    assert_eq!(report["error"]["status"], 403);
    assert_eq!(
        report["error"]["message"],
        format!(
            "User: arn:aws:iam::123456789012:user/reader is not authorized to perform: s3:DeleteObject on resource: \"arn:aws:s3:::bkt/k.txt\" because no identity-based policy allows the s3:DeleteObject action"
        )
    );
    assert_eq!(report["failed_check"], "access");
    std::fs::remove_dir_all(&dir).ok();
}

/// `explain --config` evaluates offline what the server would: the bucket policy and
/// the accounts of the file. Here another account's root is allowed to read by the
/// bucket policy, refused a write, and a Deny on plain HTTP is named by its Sid.
#[test]
fn explain_evaluates_bucket_rules_from_the_config_file() {
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    let (ak, sk) = ("AKIAPARTNER000000000", "partner-secret-key");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("strict-s3.toml");
    let write = |deny: &str| {
        std::fs::write(
            &config,
            format!(
                r#"[[accounts]]
id = "111122223333"
access_key = "{ak}"
secret_key = "{sk}"

[[buckets]]
name = "shared"
policy = '''{{"Version": "2012-10-17", "Statement": [
  {{"Sid": "PartnerReads", "Effect": "Allow", "Principal": {{"AWS": "111122223333"}},
   "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/*"}}{deny}]}}'''
"#
            ),
        )
        .unwrap()
    };
    let expires = now().unix_timestamp() + 600;
    let sign = |method: &str| {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(sk.as_bytes()).unwrap();
        mac.update(format!("{method}\n\n\n{expires}\n/shared/k.txt").as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let sig = percent_encoding::utf8_percent_encode(&sig, percent_encoding::NON_ALPHANUMERIC);
        format!(
            "http://127.0.0.1:9000/shared/k.txt?AWSAccessKeyId={ak}&Expires={expires}&Signature={sig}"
        )
    };
    write("");
    let cfg = config.to_str().unwrap();
    let (code, report) = explain(&sign("GET"), &["--config", cfg]);
    assert_eq!(code, 0, "{report}");
    let (code, report) = explain(&sign("PUT"), &["--method", "PUT", "--config", cfg]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["error"]["code"], "AccessDenied");
    assert_eq!(report["error"]["message"], "Access Denied");
    assert_reason(&report, "s3:PutObject");
    assert_reason(&report, "111122223333");
    // Without the file, the key is unknown altogether.
    let (code, report) = explain(&sign("GET"), &[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["error"]["code"], "InvalidAccessKeyId");

    write(
        r#",
  {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
   "Resource": "arn:aws:s3:::shared/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}"#,
    );
    let (code, report) = explain(&sign("GET"), &["--config", cfg]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["error"]["code"], "AccessDenied");
    assert_reason(&report, "DenyInsecure");

    // A mistake in the file: exit 2, the line and the field named.
    std::fs::write(
        &config,
        "[[buckets]]\nname = \"shared\"\nownership = \"ObjectWriter\"\n",
    )
    .unwrap();
    let out = strict_s3(&["explain", &sign("GET"), "--config", cfg]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("strict-s3.toml:3:1: unknown field `ownership`"),
        "{}",
        stderr(&out)
    );
}

/// A config file gives the address, region and storage; the command line wins over it;
/// `--seed DIR` makes each subdirectory a bucket.
#[test]
fn flags_win_over_the_config_file_and_seed_adds_buckets() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("strict-s3.toml");
    std::fs::write(
        &config,
        "addr = \"127.0.0.1:0\"\nregion = \"eu-west-2\"\n[storage]\nin_memory = true\n",
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let banner = banner_of(&["--config", cfg], &[]);
    assert!(
        banner.starts_with("strict-s3 listening on http://127.0.0.1:"),
        "{banner}"
    );
    assert!(
        !banner.contains(":9000"),
        "the file's port 0, not the default: {banner}"
    );
    assert!(banner.contains("region      eu-west-2"), "{banner}");
    assert!(banner.contains("in memory"), "{banner}");
    let banner = banner_of(&["--config", cfg, "--region", "us-west-2"], &[]);
    assert!(banner.contains("region      us-west-2"), "{banner}");
    let banner = banner_of(&["--config", cfg], &[("S3_REGION", "ap-south-1")]);
    assert!(banner.contains("region      ap-south-1"), "{banner}");

    std::fs::create_dir_all(dir.path().join("seed/fixtures")).unwrap();
    std::fs::write(dir.path().join("seed/fixtures/a.json"), "{}").unwrap();
    let seed = dir.path().join("seed");
    let banner = banner_of(&["--config", cfg, "--seed", seed.to_str().unwrap()], &[]);
    assert!(banner.contains("buckets     fixtures"), "{banner}");
    // A directory that cannot be a bucket stops the start, naming it.
    std::fs::create_dir_all(dir.path().join("seed/Bad_Name")).unwrap();
    let out = clean_command()
        .args(["--config", cfg, "--seed", seed.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("\"Bad_Name\" cannot be a bucket"),
        "{}",
        stderr(&out)
    );
}
