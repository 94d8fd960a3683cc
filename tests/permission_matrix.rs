//! The permission table: each operation × its S3 action × allowed / denied × header-signed
//! / presigned, and POST forms, for IAM users whose identity policies allow the action or
//! do not. The allowed side answers the operation's own success status; the denied side
//! is 403 AccessDenied with AWS's same-account message naming the action and resource,
//! so a server that allowed everything, or refused everything, fails here.

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use strict_s3::config::{Config, Credential};
use strict_s3::policy::Policy;

const ALLOWED: (&str, &str) = ("AKIAMATRIXALLOWED000", "matrix-allowed-secret");
const DENIED: (&str, &str) = ("AKIAMATRIXDENIED0000", "matrix-denied-secret");

/// Every action of the table, on bkt and its objects.
const ALLOW_ALL_LISTED: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket",
             "s3:ListBucketMultipartUploads", "s3:GetBucketAcl", "s3:GetObjectAcl",
             "s3:GetBucketLocation", "s3:GetBucketCORS", "s3:GetBucketPolicy",
             "s3:GetBucketOwnershipControls", "s3:GetBucketPublicAccessBlock"],
  "Resource": ["arn:aws:s3:::bkt", "arn:aws:s3:::bkt/*"]}]}"#;

/// The same actions, on another bucket only: nothing on bkt.
const ELSEWHERE: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Action": "s3:*", "Resource": ["arn:aws:s3:::elsewhere", "arn:aws:s3:::elsewhere/*"]}]}"#;

async fn server() -> TestServer {
    let user = |name, (ak, sk): (&str, &str), policy: &str| {
        Credential::user(name, ak, sk, Some(Policy::parse_identity(policy).unwrap()))
    };
    let config = Config {
        buckets: vec!["bkt".into()],
        credentials: vec![
            Credential::new(AK, SK),
            user("allowed", ALLOWED, ALLOW_ALL_LISTED),
            user("denied", DENIED, ELSEWHERE),
        ],
        ..Config::in_memory()
    };
    TestServer::start(config, t0()).await
}

struct Row {
    method: &'static str,
    target: &'static str,
    action: &'static str,
    resource: &'static str,
    /// What the allowed user gets.
    ok: u16,
}

const fn row(
    method: &'static str,
    target: &'static str,
    action: &'static str,
    resource: &'static str,
    ok: u16,
) -> Row {
    Row {
        method,
        target,
        action,
        resource,
        ok,
    }
}

const OBJ: &str = "arn:aws:s3:::bkt/obj";
const BKT: &str = "arn:aws:s3:::bkt";

const TABLE: &[Row] = &[
    row("GET", "/bkt/obj", "s3:GetObject", OBJ, 200),
    row("HEAD", "/bkt/obj", "s3:GetObject", OBJ, 200),
    row("PUT", "/bkt/obj", "s3:PutObject", OBJ, 200),
    row("DELETE", "/bkt/obj", "s3:DeleteObject", OBJ, 204),
    row("POST", "/bkt/obj?uploads", "s3:PutObject", OBJ, 200),
    row("GET", "/bkt/obj?acl", "s3:GetObjectAcl", OBJ, 200),
    row("GET", "/bkt?list-type=2", "s3:ListBucket", BKT, 200),
    row("GET", "/bkt", "s3:ListBucket", BKT, 200),
    row("HEAD", "/bkt", "s3:ListBucket", BKT, 200),
    row(
        "GET",
        "/bkt?uploads",
        "s3:ListBucketMultipartUploads",
        BKT,
        200,
    ),
    row("GET", "/bkt?acl", "s3:GetBucketAcl", BKT, 200),
    row("GET", "/bkt?location", "s3:GetBucketLocation", BKT, 200),
    row("GET", "/bkt?cors", "s3:GetBucketCORS", BKT, 404),
    row("GET", "/bkt?policy", "s3:GetBucketPolicy", BKT, 404),
    row(
        "GET",
        "/bkt?ownershipControls",
        "s3:GetBucketOwnershipControls",
        BKT,
        200,
    ),
    row(
        "GET",
        "/bkt?publicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
        BKT,
        200,
    ),
];

#[derive(Clone, Copy, Debug)]
enum Mode {
    Header,
    Presigned,
}

fn request(s: &TestServer, r: &Row, mode: Mode, (ak, sk): (&str, &str)) -> Raw {
    let raw = Raw::new(r.method, r.target);
    let raw = if r.method == "PUT" {
        raw.body(b"data")
    } else {
        raw
    };
    match mode {
        Mode::Header => raw.sign_with(
            &s.host,
            ak,
            sk,
            REGION,
            "s3",
            s.clock_now(),
            PayloadMode::Body,
        ),
        Mode::Presigned => raw.presign_with(
            &s.host,
            ak,
            sk,
            REGION,
            s.clock_now(),
            Duration::from_secs(600),
        ),
    }
}

#[tokio::test]
async fn each_action_allowed_and_denied_by_header_and_presigned_url() {
    let s = server().await;
    for mode in [Mode::Header, Mode::Presigned] {
        for r in TABLE {
            // A fresh object for each row, written by the root user.
            assert_eq!(s.put("/bkt/obj", b"seed").await.status, 200);
            let what = format!("{mode:?} {} {}", r.method, r.target);

            let resp = s.send(&request(&s, r, mode, DENIED)).await;
            assert_eq!(resp.status, 403, "{what} denied: {}", resp.body_text());
            if r.method != "HEAD" {
                resp.assert_error(403, "AccessDenied", Some(&format!(
                    "User: arn:aws:iam::123456789012:user/denied is not authorized to perform: {} on resource: \"{}\" because no identity-based policy allows the {} action",
                    r.action, r.resource, r.action
                )));
            }

            let resp = s.send(&request(&s, r, mode, ALLOWED)).await;
            assert_eq!(resp.status, r.ok, "{what} allowed: {}", resp.body_text());
        }
    }
}

/// A POST form is the signer's PutObject: the allowed user's form stores the file, the
/// denied user's is 403 AccessDenied and stores nothing.
#[tokio::test]
async fn post_forms_carry_the_signers_put_object() {
    let s = server().await;
    for ((ak, sk), key, status) in [(ALLOWED, "form-ok.txt", 204), (DENIED, "form-no.txt", 403)] {
        let resp = s.send(&post_form(&s, ak, sk, key)).await;
        assert_eq!(resp.status, status, "{ak}: {}", resp.body_text());
        let stored = s
            .send(&Raw::new("GET", &format!("/bkt/{key}")).sign_with(
                &s.host,
                AK,
                SK,
                REGION,
                "s3",
                s.clock_now(),
                PayloadMode::Body,
            ))
            .await;
        if status == 204 {
            assert_eq!(stored.body_text(), "from a form");
        } else {
            resp.assert_error(403, "AccessDenied", None);
            assert!(
                resp.body_text().contains("user/denied")
                    && resp.body_text().contains("s3:PutObject"),
                "{}",
                resp.body_text()
            );
            stored.assert_error(404, "NoSuchKey", None);
        }
    }
}

/// A SigV4 POST form for `key` in bkt, signed with `(ak, sk)`.
fn post_form(s: &TestServer, ak: &str, sk: &str, key: &str) -> Raw {
    const BOUNDARY: &str = "----strictS3MatrixBoundary";
    let b64 = base64::engine::general_purpose::STANDARD;
    let credential = format!("{ak}/20260115/us-east-1/s3/aws4_request");
    let policy = b64.encode(format!(
        r#"{{"expiration": "2026-01-15T13:00:00.000Z", "conditions": [{{"bucket": "bkt"}}, {{"key": "{key}"}}, {{"x-amz-credential": "{credential}"}}, {{"x-amz-algorithm": "AWS4-HMAC-SHA256"}}, {{"x-amz-date": "20260115T120000Z"}}]}}"#
    ));
    let signing_key = aws_sigv4::sign::v4::generate_signing_key(sk, s.clock_now(), REGION, "s3");
    let signature = aws_sigv4::sign::v4::calculate_signature(signing_key, policy.as_bytes());
    let mut body = String::new();
    for (name, value) in [
        ("key", key),
        ("x-amz-credential", &credential),
        ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        ("x-amz-date", "20260115T120000Z"),
        ("policy", &policy),
        ("x-amz-signature", &signature),
    ] {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.txt\"\r\n\r\nfrom a form\r\n--{BOUNDARY}--\r\n"
    ));
    Raw::new("POST", "/bkt")
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body.as_bytes())
}
