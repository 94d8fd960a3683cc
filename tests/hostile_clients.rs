//! What real and hostile clients found (issues 9 and 16), one test per rule, each with its
//! accepted twin so a server that accepts (or refuses) everything fails here: SigV2 dates
//! and bucket paths, the SigV2 and SigV4 diagnoses, exactly one of each authentication
//! part, S3's order of checks, `Expect: 100-continue`, `encoding-type=url`, header bytes,
//! and the normalization hint. SigV4 requests are signed by `aws-sigv4` (AWS's signer);
//! SigV2 ones by the small HMAC-SHA1 signer below, over the exact bytes sent.

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use hmac::{Hmac, KeyInit, Mac};
use strict_s3::{Config, Credential};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const DATE_ERR: &str = "AWS authentication requires a valid Date or x-amz-date header";

fn hmac_sha1_b64(secret: &str, sts: &[u8]) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(sts);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A SigV2 header-signed request: `Date: date`, the string to sign built from the
/// documented rules with `resource` as given.
fn v2(method: &str, target: &str, date: &str, resource: &str, secret: &str) -> Raw {
    let sig = hmac_sha1_b64(
        secret,
        format!("{method}\n\n\n{date}\n{resource}").as_bytes(),
    );
    Raw::new(method, target)
        .header("date", date)
        .header("authorization", &format!("AWS {AK}:{sig}"))
}

fn v2_query(method: &str, path: &str, expires: i64, content_type: &str) -> Raw {
    let sig = hmac_sha1_b64(
        SK,
        format!("{method}\n\n{content_type}\n{expires}\n{path}").as_bytes(),
    );
    Raw::new(
        method,
        &format!(
            "{path}?AWSAccessKeyId={AK}&Expires={expires}&Signature={}",
            enc(&sig)
        ),
    )
}

/// A key as a path: every byte but the unreserved ones and `/` percent-encoded.
fn enc_path(s: &str) -> String {
    const PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    percent_encoding::utf8_percent_encode(s, PATH).to_string()
}

/// A SigV4 presigned GET of `target`, signed at `at`, valid for `secs` seconds.
fn presigned_get(s: &TestServer, target: &str, at: std::time::SystemTime, secs: u64) -> Raw {
    Raw::new("GET", target).presign(&s.host, SK, REGION, at, Duration::from_secs(secs))
}

fn explanation(resp: &Resp) -> String {
    resp.xml("Explanation").unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// 9.1 SigV2 dates

#[tokio::test]
async fn sigv2_accepts_the_date_forms_clients_send_and_refuses_garbage() {
    let s = TestServer::default().await;
    s.put("/bkt/obj", b"v2").await;
    // t0 is Thu 2026-01-15 12:00:00 UTC.
    for date in [
        "Thu, 15 Jan 2026 12:00:00 GMT",
        "Thu, 15 Jan 2026 12:00:00 +0000", // s3cmd, AWS's own examples
        "Thu, 15 Jan 2026 12:00:00 UTC",   // rclone (Go's time.RFC1123)
        "Thu, 15 Jan 2026 07:00:00 -0500",
        "Thursday, 15-Jan-26 12:00:00 GMT",
        "Thu Jan 15 12:00:00 2026",
    ] {
        let resp = s.send(&v2("GET", "/bkt/obj", date, "/bkt/obj", SK)).await;
        assert_eq!(resp.status, 200, "{date}: {}", resp.body_text());
    }
    // In x-amz-date, which replaces Date (the Date line is then empty).
    let amz = "Thu, 15 Jan 2026 12:00:00 +0000";
    let sig = hmac_sha1_b64(
        SK,
        format!("GET\n\n\n\nx-amz-date:{amz}\n/bkt/obj").as_bytes(),
    );
    let resp = s
        .send(
            &Raw::new("GET", "/bkt/obj")
                .header("x-amz-date", amz)
                .header("authorization", &format!("AWS {AK}:{sig}")),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    for bad in [
        "Bad Date",
        "Fr, 15 Jan 2026 12:00:00 +0000",
        "Fri, 15 Jan 2026 12:00:00 GMT",
        "2026-01-15T12:00:00Z",
    ] {
        let resp = s.send(&v2("GET", "/bkt/obj", bad, "/bkt/obj", SK)).await;
        resp.assert_error(403, "AccessDenied", Some(DATE_ERR));
    }
    // A parsed offset is applied: an hour off is skewed, not accepted.
    let resp = s
        .send(&v2(
            "GET",
            "/bkt/obj",
            "Thu, 15 Jan 2026 12:00:00 -0100",
            "/bkt/obj",
            SK,
        ))
        .await;
    resp.assert_error(403, "RequestTimeTooSkewed", None);
}

// ---------------------------------------------------------------------------------------
// 9.2 SigV2 bucket paths, and empty sub-resource values

#[tokio::test]
async fn sigv2_bucket_requests_verify_with_or_without_the_trailing_slash() {
    let s = TestServer::default().await;
    let date = httpdate::fmt_http_date(st(t0()));
    for resource in ["/bkt/", "/bkt"] {
        let resp = s.send(&v2("GET", "/bkt", &date, resource, SK)).await;
        assert_eq!(resp.status, 200, "{resource}: {}", resp.body_text());
        let resp = s.send(&v2("GET", "/bkt/", &date, resource, SK)).await;
        assert_eq!(
            resp.status,
            200,
            "{resource} for /bkt/: {}",
            resp.body_text()
        );
    }
    for wrong in ["/bkt2/", "/bkt//", "/"] {
        let resp = s.send(&v2("GET", "/bkt", &date, wrong, SK)).await;
        resp.assert_error(403, "SignatureDoesNotMatch", None);
    }
    // `?uploads=` (the Go SDK's spelling) signs as `?uploads`.
    let resp = s
        .send(&v2("POST", "/bkt/k?uploads=", &date, "/bkt/k?uploads", SK))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
}

// ---------------------------------------------------------------------------------------
// 9.3, 16.3a SigV2 diagnosis

#[tokio::test]
async fn sigv2_mismatches_are_explained_one_change_at_a_time() {
    let s = TestServer::start(
        Config {
            buckets: vec!["bkt".into()],
            credentials: vec![
                Credential::new(AK, SK),
                Credential::new("AKIDOTHER", "other-secret"),
            ],
            ..Config::in_memory()
        },
        t0(),
    )
    .await;
    s.put("/bkt/obj", b"v2").await;
    let now = t0().unix_timestamp();
    let date = httpdate::fmt_http_date(st(t0()));
    let cases: Vec<(&str, Raw, &str)> = vec![
        (
            "a GET URL used for PUT (aws s3 presign makes SigV2 GET URLs)",
            Raw {
                method: "PUT".into(),
                ..v2_query("GET", "/bkt/obj", now + 60, "")
            },
            "signed for GET and sent as PUT",
        ),
        (
            "a PUT URL signed without Content-Type, sent with one (aws-sdk-js#557)",
            v2_query("PUT", "/bkt/up", now + 60, "").header("content-type", "multipart/form-data"),
            "valid with no Content-Type, but the request was sent with Content-Type \"multipart/form-data\"",
        ),
        (
            "Content-MD5 not signed",
            v2("GET", "/bkt/obj", &date, "/bkt/obj", SK)
                .header("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
            "valid without Content-MD5",
        ),
        (
            "a sub-resource appended after signing",
            Raw::new(
                "GET",
                &format!(
                    "{}&versionId=v1",
                    v2_query("GET", "/bkt/obj", now + 60, "").target
                ),
            ),
            "without the query parameter ?versionId=v1",
        ),
        (
            "an x-amz-* header added after signing",
            v2("GET", "/bkt/obj", &date, "/bkt/obj", SK).header("x-amz-meta-late", "1"),
            "without the header x-amz-meta-late",
        ),
        (
            "the bucket left out of the resource",
            v2("GET", "/bkt/obj", &date, "/obj", SK),
            "for the resource /obj without the bucket",
        ),
        (
            "another configured key's secret",
            v2("GET", "/bkt/obj", &date, "/bkt/obj", "other-secret"),
            "made with the secret of access key AKIDOTHER",
        ),
    ];
    for (name, req, says) in cases {
        let resp = s.send(&req).await;
        resp.assert_error(403, "SignatureDoesNotMatch", None);
        assert!(
            explanation(&resp).contains(says),
            "{name}: {}",
            resp.body_text()
        );
        assert!(resp.xml("StringToSign").is_some(), "{name}");
        assert!(resp.xml("StringToSignBytes").is_some(), "{name}");
    }
    // x-amz-date sent, but the Date header signed in its place.
    let amz = date.clone();
    let sig = hmac_sha1_b64(
        SK,
        format!("GET\n\n\n{date}\nx-amz-date:{amz}\n/bkt/obj").as_bytes(),
    );
    let resp = s
        .send(
            &Raw::new("GET", "/bkt/obj")
                .header("date", &date)
                .header("x-amz-date", &amz)
                .header("authorization", &format!("AWS {AK}:{sig}")),
        )
        .await;
    resp.assert_error(403, "SignatureDoesNotMatch", None);
    assert!(
        explanation(&resp).contains("valid with the Date header"),
        "{}",
        resp.body_text()
    );
    // A wrong secret matches no change.
    let resp = s
        .send(&v2("GET", "/bkt/obj", &date, "/bkt/obj", "nope"))
        .await;
    resp.assert_error(403, "SignatureDoesNotMatch", None);
    assert!(
        explanation(&resp).contains("no single change"),
        "{}",
        resp.body_text()
    );
    // The accepted twins.
    assert_eq!(
        s.send(&v2_query("GET", "/bkt/obj", now + 60, ""))
            .await
            .status,
        200
    );
    let put = v2_query("PUT", "/bkt/up", now + 60, "multipart/form-data")
        .header("content-type", "multipart/form-data");
    assert_eq!(s.send(&put).await.status, 200);
}

// ---------------------------------------------------------------------------------------
// 16.3b, 9.4 SigV4: a parameter added to a presigned URL; repeated parameters

#[tokio::test]
async fn sigv4_names_a_parameter_added_after_presigning() {
    let s = TestServer::default().await;
    s.put("/bkt/obj", b"x").await;
    let url = presigned_get(&s, "/bkt/obj", s.clock_now(), 600);
    assert_eq!(s.send(&url).await.status, 200);
    for (added, name) in [("versionId=abc", "versionId"), ("x-id=GetObject", "x-id")] {
        let resp = s
            .send(&Raw::new("GET", &format!("{}&{added}", url.target)))
            .await;
        resp.assert_error(403, "SignatureDoesNotMatch", None);
        assert!(
            explanation(&resp).contains(&format!("without the query parameter {name}=")),
            "{added}: {}",
            resp.body_text()
        );
    }
}

#[tokio::test]
async fn sigv4_signs_only_the_first_value_of_a_repeated_parameter() {
    let s = TestServer::default().await;
    s.put("/bkt/a", b"x").await;
    // aws-sigv4 signs both values (generic SigV4); S3 signs `prefix=a` only.
    let both = Raw::new("GET", "/bkt?prefix=a&prefix=b").sign(&s.host, SK, REGION, s.clock_now());
    let resp = s.send(&both).await;
    resp.assert_error(403, "SignatureDoesNotMatch", None);
    assert!(
        resp.xml("CanonicalRequest")
            .unwrap()
            .contains("\nprefix=a\n"),
        "{}",
        resp.body_text()
    );
    assert!(explanation(&resp).contains("every value of the repeated query parameter prefix"));
    // Signed as S3 reads it: the first value only.
    let first = Raw::new("GET", "/bkt?prefix=a").sign(&s.host, SK, REGION, s.clock_now());
    let resp = s
        .send(&Raw {
            target: "/bkt?prefix=a&prefix=b".into(),
            ..first
        })
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    assert_eq!(resp.xml("Prefix").as_deref(), Some("a"));
}

// ---------------------------------------------------------------------------------------
// 9.4 exactly one of each authentication part

#[tokio::test]
async fn repeated_authentication_parts_are_refused() {
    let s = TestServer::default().await;
    s.put("/bkt/obj", b"x").await;
    let good = Raw::new("GET", "/bkt/obj").sign(&s.host, SK, REGION, s.clock_now());
    assert_eq!(s.send(&good).await.status, 200);
    let auth = good.header_value("authorization").unwrap().to_string();
    // The same header with one signature digit changed: well-formed, and wrong.
    let (head, sig) = auth.rsplit_once("Signature=").unwrap();
    let flipped = if sig.starts_with('0') { "1" } else { "0" };
    let bogus = format!("{head}Signature={flipped}{}", &sig[1..]);
    let with = |extra: &[(&str, &str)], drop: &str| {
        let mut r = good.clone().without_header(drop);
        for (n, v) in extra {
            r = r.header(n, v);
        }
        r
    };
    for (name, req) in [
        ("valid, then bogus", with(&[("authorization", &bogus)], "")),
        (
            "bogus, then valid",
            with(
                &[("authorization", &bogus), ("authorization", &auth)],
                "authorization",
            ),
        ),
    ] {
        let resp = s.send(&req).await;
        resp.assert_error(
            400,
            "InvalidArgument",
            Some("Only one authorization header may be sent"),
        );
        assert_eq!(
            resp.xml("ArgumentName").as_deref(),
            Some("authorization"),
            "{name}"
        );
    }
    let date = good.header_value("x-amz-date").unwrap().to_string();
    s.send(&with(&[("x-amz-date", &date)], ""))
        .await
        .assert_error(403, "AccessDenied", Some(DATE_ERR));
    let sha = good
        .header_value("x-amz-content-sha256")
        .unwrap()
        .to_string();
    let resp = s.send(&with(&[("x-amz-content-sha256", &sha)], "")).await;
    resp.assert_error(400, "InvalidArgument", None);
    assert_eq!(
        resp.xml("ArgumentName").as_deref(),
        Some("x-amz-content-sha256")
    );

    // Presigned: SigV4 and SigV2 parameters.
    let url = presigned_get(&s, "/bkt/obj", s.clock_now(), 60);
    for name in ["X-Amz-Credential", "X-Amz-Date", "X-Amz-Signature"] {
        let value = url.query_value(name).unwrap();
        let resp = s
            .send(&Raw::new(
                "GET",
                &format!("{}&{name}={}", url.target, enc(&value)),
            ))
            .await;
        resp.assert_error(
            400,
            "AuthorizationQueryParametersError",
            Some(&format!("{name} must appear only once.")),
        );
    }
    let v2url = v2_query("GET", "/bkt/obj", t0().unix_timestamp() + 60, "");
    assert_eq!(s.send(&v2url).await.status, 200);
    let sig = v2url.query_value("Signature").unwrap();
    for (name, value) in [
        ("Signature", "bogus".to_string()),
        ("Signature", sig),
        ("AWSAccessKeyId", AK.to_string()),
    ] {
        let resp = s
            .send(&Raw::new(
                "GET",
                &format!("{}&{name}={}", v2url.target, enc(&value)),
            ))
            .await;
        resp.assert_error(400, "InvalidArgument", None);
        assert_eq!(resp.xml("ArgumentName").as_deref(), Some(name));
    }
}

// ---------------------------------------------------------------------------------------
// 9.6 the order of checks

#[tokio::test]
async fn authentication_comes_before_not_implemented_and_lookups() {
    let s = TestServer::default().await;
    s.put("/bkt/obj", b"x").await;
    for target in [
        "/bkt/obj?acl",
        "/bkt?policy",
        "/bkt/obj?tagging",
        "/bkt?lifecycle",
        "/bkt",
        "/",
    ] {
        let resp = s.send(&Raw::new("GET", target)).await;
        resp.assert_error(403, "AccessDenied", Some("Access Denied"));
    }
    for target in ["/nobucket/obj", "/nobucket/obj?acl", "/nobucket"] {
        let resp = s.send(&Raw::new("GET", target)).await;
        resp.assert_error(
            404,
            "NoSuchBucket",
            Some("The specified bucket does not exist"),
        );
    }
    // A bad signature is reported before the bucket is looked up.
    let bad = Raw::new("GET", "/nobucket/obj").sign(&s.host, "wrong", REGION, s.clock_now());
    s.send(&bad)
        .await
        .assert_error(403, "SignatureDoesNotMatch", None);
    // Signed twins: the owner reaches the lookup and the route table.
    let signed = |t: &str| Raw::new("GET", t).sign(&s.host, SK, REGION, s.clock_now());
    s.send(&signed("/nobucket/obj"))
        .await
        .assert_error(404, "NoSuchBucket", None);
    s.send(&signed("/bkt?lifecycle"))
        .await
        .assert_error(501, "NotImplemented", None);
    // ?acl is implemented: the owner reads the object's ACL.
    let acl = s.send(&signed("/bkt/obj?acl")).await;
    assert_eq!(acl.status, 200, "{}", acl.body_text());
}

// ---------------------------------------------------------------------------------------
// 9.7 Expect: 100-continue

/// The first status line the server writes after a PUT head with `Expect: 100-continue`.
async fn first_answer(host: &str, req: &Raw) -> (String, TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut stream = TcpStream::connect(host).await.unwrap();
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    for (n, v) in &req.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n",
        req.body.len()
    ));
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("an answer before the body is sent")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    (text.lines().next().unwrap_or_default().to_string(), stream)
}

#[tokio::test]
async fn refusals_come_instead_of_100_continue() {
    let s = TestServer::default().await;
    let body = vec![b'x'; 64 * 1024];
    let put = |path: &str, secret: &str| {
        Raw::new("PUT", path)
            .header("host", &s.host)
            .body(&body)
            .sign(&s.host, secret, REGION, s.clock_now())
    };
    let (line, _) = first_answer(&s.host, &put("/bkt/k", "wrong")).await;
    assert_eq!(line, "HTTP/1.1 403 Forbidden");
    let (line, _) = first_answer(&s.host, &put("/nobucket/k", SK)).await;
    assert_eq!(line, "HTTP/1.1 404 Not Found");
    // The twin: a valid request is told to continue, and stores its body.
    let (line, mut stream) = first_answer(&s.host, &put("/bkt/k", SK)).await;
    assert_eq!(line, "HTTP/1.1 100 Continue");
    stream.write_all(&body).await.unwrap();
    let resp = read_response(&mut stream, false).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let meta = s.handle.storage().head_object("bkt", "k").await.unwrap();
    assert_eq!(meta.size, body.len() as u64);
}

// ---------------------------------------------------------------------------------------
// 9.8 encoding-type=url

#[tokio::test]
async fn url_encoded_listings_encode_as_s3_does() {
    let s = TestServer::default().await;
    for key in ["foo+1/bar", "a b/c", "100%.csv", "top"] {
        s.put(&format!("/bkt/{}", enc_path(key)), b"x").await;
    }
    let list =
        |q: &str| Raw::new("GET", &format!("/bkt?{q}")).sign(&s.host, SK, REGION, s.clock_now());
    let resp = s
        .send(&list("list-type=2&delimiter=%2F&encoding-type=url"))
        .await;
    assert_eq!(resp.status, 200);
    let body = resp.body_text();
    for want in [
        "<Prefix>foo%2B1/</Prefix>",
        "<Prefix>a+b/</Prefix>",
        "<Key>100%25.csv</Key>",
        "<Delimiter>/</Delimiter>",
        "<EncodingType>url</EncodingType>",
    ] {
        assert!(body.contains(want), "{want} in {body}");
    }
    let resp = s.send(&list("prefix=foo%2B1%2F&encoding-type=url")).await;
    let body = resp.body_text();
    assert!(body.contains("<Key>foo%2B1/bar</Key>"), "{body}");
    assert!(body.contains("<Prefix>foo%2B1/</Prefix>"), "{body}");
    // Without encoding-type the keys are as stored.
    let body = s.send(&list("prefix=foo%2B1%2F")).await.body_text();
    assert!(body.contains("<Key>foo+1/bar</Key>"), "{body}");

    let create =
        Raw::new("POST", "/bkt/a%20b/c%2B?uploads").sign(&s.host, SK, REGION, s.clock_now());
    assert_eq!(s.send(&create).await.status, 200);
    let body = s.send(&list("uploads&encoding-type=url")).await.body_text();
    assert!(body.contains("<Key>a+b/c%2B</Key>"), "{body}");
    assert!(body.contains("<EncodingType>url</EncodingType>"), "{body}");
    let body = s.send(&list("uploads")).await.body_text();
    assert!(body.contains("<Key>a b/c+</Key>"), "{body}");
}

// ---------------------------------------------------------------------------------------
// 9.10 header bytes

async fn send_bytes(host: &str, head: Vec<u8>, body: &[u8]) -> Resp {
    let mut stream = TcpStream::connect(host).await.unwrap();
    stream.write_all(&head).await.unwrap();
    stream.write_all(body).await.unwrap();
    read_response(&mut stream, false).await
}

/// The request head of `req`, with `(from, to)` replacing the bytes of one header value.
fn head_bytes(req: &Raw, replace: (&str, &[u8])) -> Vec<u8> {
    let mut out = format!("{} {} HTTP/1.1\r\n", req.method, req.target).into_bytes();
    for (n, v) in &req.headers {
        out.extend_from_slice(format!("{n}: ").as_bytes());
        if v == replace.0 {
            out.extend_from_slice(replace.1);
        } else {
            out.extend_from_slice(v.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(
        format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            req.body.len()
        )
        .as_bytes(),
    );
    out
}

#[tokio::test]
async fn signatures_cover_the_header_bytes_received() {
    let s = TestServer::default().await;
    let signed = Raw::new("PUT", "/bkt/k")
        .header("host", &s.host)
        .header("x-amz-meta-name", "caf\u{FFFD}")
        .body(b"x")
        .sign(&s.host, SK, REGION, s.clock_now());
    // Sent with the byte 0xFF where the signature saw U+FFFD: refused.
    let resp = send_bytes(
        &s.host,
        head_bytes(&signed, ("caf\u{FFFD}", b"caf\xff")),
        b"x",
    )
    .await;
    resp.assert_error(403, "SignatureDoesNotMatch", None);
    assert!(
        resp.xml("CanonicalRequestBytes")
            .unwrap()
            .contains("63 61 66 ff"),
        "the bytes element shows the byte received: {}",
        resp.body_text()
    );
    // Sent as signed (UTF-8 EF BF BD): accepted.
    let resp = send_bytes(&s.host, head_bytes(&signed, ("", b"")), b"x").await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
}

#[tokio::test]
async fn latin1_metadata_round_trips_as_s3_returns_it() {
    let s = TestServer::default().await;
    let date = httpdate::fmt_http_date(st(t0()));
    // What Python's http.client sends for "café": the Latin-1 byte 0xE9, signed over it.
    let mut sts = format!("PUT\n\n\n{date}\nx-amz-meta-name:caf").into_bytes();
    sts.extend_from_slice(b"\xe9\n/bkt/latin");
    let req = Raw::new("PUT", "/bkt/latin")
        .header("host", &s.host)
        .header("date", &date)
        .header("x-amz-meta-name", "PLACEHOLDER")
        .header(
            "authorization",
            &format!("AWS {AK}:{}", hmac_sha1_b64(SK, &sts)),
        );
    let resp = send_bytes(&s.host, head_bytes(&req, ("PLACEHOLDER", b"caf\xe9")), b"").await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let head = Raw::new("HEAD", "/bkt/latin").sign(&s.host, SK, REGION, s.clock_now());
    let resp = s.send(&head).await;
    // RFC 2047, as the user guide shows: "café" → =?UTF-8?B?Y2Fmw6k=?=
    assert_eq!(resp.header("x-amz-meta-name"), Some("=?UTF-8?B?Y2Fmw6k=?="));
    // The same signature over the UTF-8 spelling does not verify the Latin-1 bytes.
    let mut utf8 = format!("PUT\n\n\n{date}\nx-amz-meta-name:caf\u{e9}").into_bytes();
    utf8.extend_from_slice(b"\n/bkt/latin");
    let req = Raw {
        headers: req
            .headers
            .iter()
            .map(|(n, v)| match n.as_str() {
                "authorization" => (n.clone(), format!("AWS {AK}:{}", hmac_sha1_b64(SK, &utf8))),
                _ => (n.clone(), v.clone()),
            })
            .collect(),
        ..req
    };
    let resp = send_bytes(&s.host, head_bytes(&req, ("PLACEHOLDER", b"caf\xe9")), b"").await;
    resp.assert_error(403, "SignatureDoesNotMatch", None);
}

// ---------------------------------------------------------------------------------------
// 9.11 reasons; 16.3c normalization

#[tokio::test]
async fn a_url_dated_in_the_future_says_not_yet_valid() {
    let s = TestServer::default().await;
    s.put("/bkt/obj", b"x").await;
    let url = presigned_get(&s, "/bkt/obj", st(t0() + time::Duration::minutes(20)), 3600);
    let resp = s.send(&url).await;
    resp.assert_error(403, "AccessDenied", Some("Request is not yet valid"));
    assert!(
        explanation(&resp).contains("not yet valid"),
        "{}",
        resp.body_text()
    );
    assert!(
        explanation(&resp).contains("1200 seconds after"),
        "{}",
        resp.body_text()
    );
    s.clock.set(t0() + time::Duration::minutes(20));
    assert_eq!(s.send(&url).await.status, 200);
}

#[tokio::test]
async fn a_key_that_differs_only_in_normalization_is_named() {
    let s = TestServer::default().await;
    let nfd = "cafe\u{301}.txt"; // as uploaded from macOS
    let nfc = "caf\u{e9}.txt";
    s.put(&format!("/bkt/{}", enc_path(nfd)), b"x").await;
    let get = |key: &str| presigned_get(&s, &format!("/bkt/{}", enc_path(key)), s.clock_now(), 60);
    let resp = s.send(&get(nfc)).await;
    resp.assert_error(404, "NoSuchKey", Some("The specified key does not exist."));
    assert!(
        explanation(&resp).contains("differs only in Unicode normalization"),
        "{}",
        resp.body_text()
    );
    assert_eq!(s.send(&get(nfd)).await.status, 200);
    // A key with no such twin gets the plain 404.
    let resp = s.send(&get("caf\u{e8}.txt")).await;
    resp.assert_error(404, "NoSuchKey", None);
    assert!(resp.xml("Explanation").is_none(), "{}", resp.body_text());
}

/// A configured skew is the one S3's error reports (it was written as 900000 whatever the
/// configuration said).
#[tokio::test]
async fn the_skew_error_reports_the_configured_skew() {
    let s = TestServer::start(
        Config {
            buckets: vec!["bkt".into()],
            max_skew: Duration::from_secs(60),
            ..Config::in_memory()
        },
        t0(),
    )
    .await;
    let at = |secs: i64| st(t0() - time::Duration::seconds(secs));
    let old = Raw::new("GET", "/bkt").sign(&s.host, SK, REGION, at(120));
    let resp = s.send(&old).await;
    resp.assert_error(403, "RequestTimeTooSkewed", None);
    assert_eq!(
        resp.xml("MaxAllowedSkewMilliseconds").as_deref(),
        Some("60000")
    );
    assert!(
        explanation(&resp).contains("at most 60 are allowed"),
        "{}",
        resp.body_text()
    );
    let recent = Raw::new("GET", "/bkt").sign(&s.host, SK, REGION, at(30));
    assert_eq!(s.send(&recent).await.status, 200);
}
