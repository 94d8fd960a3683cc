//! Browser POST forms built here and signed with AWS's own SigV4 code (`aws-sigv4`):
//! the response modes, content-length-range, SigV2 forms, the form rules, and the
//! malformed-policy and malformed-form errors.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::*;

const BOUNDARY: &str = "----strictS3FormBoundary";

/// A form: text fields, then the file, then (optionally) fields after it.
fn body(before: &[(&str, &str)], file: &[u8], after: &[(&str, &str)]) -> Vec<u8> {
    let field = |b: &mut Vec<u8>, (n, v): &(&str, &str)| {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    };
    let mut b = Vec::new();
    before.iter().for_each(|f| field(&mut b, f));
    b.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\n").as_bytes(),
    );
    b.extend_from_slice(file);
    b.extend_from_slice(b"\r\n");
    after.iter().for_each(|f| field(&mut b, f));
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

fn request(body: Vec<u8>) -> Raw {
    Raw::new("POST", "/bkt")
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(&body)
}

/// A SigV4-signed form over `conditions` (JSON array text) plus the signature fields.
fn signed_v4(conditions: &str, fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let now = st(t0());
    let credential = format!("{AK}/20260115/us-east-1/s3/aws4_request");
    let policy_json = format!(
        r#"{{"expiration": "2026-01-15T13:00:00.000Z", "conditions": [{conditions}, {{"x-amz-credential": "{credential}"}}, {{"x-amz-algorithm": "AWS4-HMAC-SHA256"}}, {{"x-amz-date": "20260115T120000Z"}}]}}"#
    );
    let policy = BASE64.encode(policy_json);
    let key = aws_sigv4::sign::v4::generate_signing_key(SK, now, REGION, "s3");
    let signature = aws_sigv4::sign::v4::calculate_signature(key, policy.as_bytes());
    let mut out: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.extend([
        ("x-amz-credential".into(), credential),
        ("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into()),
        ("x-amz-date".into(), "20260115T120000Z".into()),
        ("policy".into(), policy),
        ("x-amz-signature".into(), signature),
    ]);
    out
}

fn refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[tokio::test]
async fn response_modes() {
    let s = TestServer::default().await;
    let conds = r#"{"bucket": "bkt"}, ["starts-with", "$key", "in/"], ["starts-with", "$success_action_status", ""]"#;
    // A condition on success_action_status needs the field: without it, AWS fails the
    // condition even though it asks for any prefix (s3_direct_upload#29).
    let f = signed_v4(conds, &[("key", "in/${filename}")]);
    let resp = s.send(&request(body(&refs(&f), b"hello", &[]))).await;
    resp.assert_error(
        403,
        "AccessDenied",
        Some(r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$success_action_status", ""]"#),
    );
    // Default (no field, no condition on it): 204, with ETag and Location.
    let plain = r#"{"bucket": "bkt"}, ["starts-with", "$key", "in/"]"#;
    let f = signed_v4(plain, &[("key", "in/${filename}")]);
    let resp = s.send(&request(body(&refs(&f), b"hello", &[]))).await;
    assert_eq!(resp.status, 204, "{}", resp.body_text());
    assert_eq!(
        resp.header("etag"),
        Some("\"5d41402abc4b2a76b9719d911017c592\"")
    );
    assert_eq!(
        resp.header("location"),
        Some(format!("http://{}/bkt/in%2Fnotes.txt", s.host).as_str())
    );
    // 201: PostResponse.
    let f = signed_v4(conds, &[("key", "in/a"), ("success_action_status", "201")]);
    let resp = s.send(&request(body(&refs(&f), b"hello", &[]))).await;
    assert_eq!(resp.status, 201, "{}", resp.body_text());
    assert_eq!(resp.xml("Key").as_deref(), Some("in/a"));
    assert_eq!(resp.xml("Bucket").as_deref(), Some("bkt"));
    assert_eq!(
        resp.xml("ETag").as_deref(),
        Some("\"5d41402abc4b2a76b9719d911017c592\"")
    );
    // 200: empty.
    let f = signed_v4(conds, &[("key", "in/b"), ("success_action_status", "200")]);
    let resp = s.send(&request(body(&refs(&f), b"hello", &[]))).await;
    assert_eq!((resp.status, resp.body.len()), (200, 0));
    // Fields after the file are ignored: not stored, not checked against the policy.
    let f = signed_v4(plain, &[("key", "in/c")]);
    let resp = s
        .send(&request(body(
            &refs(&f),
            b"hello",
            &[("x-amz-meta-late", "1"), ("key", "in/other")],
        )))
        .await;
    assert_eq!(resp.status, 204, "{}", resp.body_text());
    let meta = s.handle.storage().head_object("bkt", "in/c").await.unwrap();
    assert!(meta.attrs.user_metadata.is_empty());
    // The log and the inspector name the form's signature and key.
    let inspected = s.send(&Raw::new("GET", "/_strict/requests")).await;
    let records: serde_json::Value = serde_json::from_slice(&inspected.body).unwrap();
    assert_eq!(records[0]["auth"], "sigv4-post-policy");
    assert_eq!(records[0]["access_key"], AK);
    // Field names are case-insensitive.
    let f = signed_v4(plain, &[("KEY", "in/d")]);
    assert_eq!(
        s.send(&request(body(&refs(&f), b"x", &[]))).await.status,
        204
    );
    assert!(s.handle.storage().head_object("bkt", "in/d").await.is_ok());
}

#[tokio::test]
async fn content_length_range_is_enforced_without_storing() {
    let s = TestServer::default().await;
    let conds = r#"["starts-with", "$key", ""], ["content-length-range", 10, 100]"#;
    let f = signed_v4(conds, &[("key", "sized")]);
    assert_eq!(
        s.send(&request(body(&refs(&f), &[b'a'; 100], &[])))
            .await
            .status,
        204
    );
    let resp = s.send(&request(body(&refs(&f), &[b'a'; 101], &[]))).await;
    resp.assert_error(
        400,
        "EntityTooLarge",
        Some("Your proposed upload exceeds the maximum allowed size"),
    );
    assert_eq!(resp.xml("MaxSizeAllowed").as_deref(), Some("100"));
    let resp = s.send(&request(body(&refs(&f), &[b'a'; 9], &[]))).await;
    resp.assert_error(
        400,
        "EntityTooSmall",
        Some("Your proposed upload is smaller than the minimum allowed size"),
    );
    assert_eq!(resp.xml("ProposedSize").as_deref(), Some("9"));
    assert_eq!(resp.xml("MinSizeAllowed").as_deref(), Some("10"));
    let meta = s
        .handle
        .storage()
        .head_object("bkt", "sized")
        .await
        .unwrap();
    assert_eq!(
        meta.size, 100,
        "the rejected uploads did not replace the object"
    );
}

#[tokio::test]
async fn malformed_policies_and_forms() {
    let s = TestServer::default().await;
    let unknown_op = signed_v4(r#"["matches", "$key", "x"]"#, &[("key", "k")]);
    s.send(&request(body(&refs(&unknown_op), b"x", &[])))
        .await
        .assert_error(400, "InvalidPolicyDocument", None);
    let two_props = signed_v4(r#"{"key": "k", "acl": "private"}"#, &[("key", "k")]);
    s.send(&request(body(&refs(&two_props), b"x", &[]))).await.assert_error(
        400,
        "InvalidPolicyDocument",
        Some("Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."),
    );
    // A field over S3's 20 KB limit before the file.
    let big = "v".repeat(21 * 1024);
    let f = signed_v4(
        r#"["starts-with", "$key", ""]"#,
        &[("key", "k"), ("x-ignore-padding", &big)],
    );
    s.send(&request(body(&refs(&f), b"x", &[])))
        .await
        .assert_error(400, "MaxPostPreDataLengthExceededError", None);
    // Broken multipart framing.
    let resp = s
        .send(
            &Raw::new("POST", "/bkt")
                .header(
                    "content-type",
                    &format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(b"--nope\r\n"),
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.body_text());
    assert!(
        matches!(
            resp.code().as_deref(),
            Some("MalformedPOSTRequest") | Some("InvalidArgument")
        ),
        "{}",
        resp.body_text()
    );
    // No signature at all: an anonymous form is refused (the bucket is not public-write).
    s.send(&request(body(&[("key", "k")], b"x", &[])))
        .await
        .assert_error(403, "AccessDenied", None);
}

#[tokio::test]
async fn sigv2_forms() {
    let s = TestServer::default().await;
    let policy = BASE64.encode(r#"{"expiration": "2026-01-15T13:00:00Z", "conditions": [{"bucket": "bkt"}, ["starts-with", "$key", "v2/"]]}"#);
    let sign = |secret: &str| {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(policy.as_bytes());
        BASE64.encode(mac.finalize().into_bytes())
    };
    let good = sign(SK);
    let f = [
        ("key", "v2/file"),
        ("AWSAccessKeyId", AK),
        ("policy", policy.as_str()),
        ("signature", good.as_str()),
    ];
    assert_eq!(s.send(&request(body(&f, b"v2", &[]))).await.status, 204);
    let bad = sign("wrong");
    let f = [
        ("key", "v2/file"),
        ("AWSAccessKeyId", AK),
        ("policy", policy.as_str()),
        ("signature", bad.as_str()),
    ];
    s.send(&request(body(&f, b"v2", &[])))
        .await
        .assert_error(403, "SignatureDoesNotMatch", None);
    let f = [
        ("key", "other/file"),
        ("AWSAccessKeyId", AK),
        ("policy", policy.as_str()),
        ("signature", good.as_str()),
    ];
    s.send(&request(body(&f, b"v2", &[])))
        .await
        .assert_error(403, "AccessDenied", None);
}

#[tokio::test]
async fn a_form_tags_its_upload_with_the_tagging_field() {
    let s = TestServer::default().await;
    let tagging =
        "<Tagging><TagSet><Tag><Key>origin</Key><Value>form</Value></Tag></TagSet></Tagging>";
    let conds = format!(
        r#"{{"bucket": "bkt"}}, ["starts-with", "$key", "up/"], {{"tagging": "{tagging}"}}"#
    );
    let f = signed_v4(&conds, &[("key", "up/a"), ("tagging", tagging)]);
    let resp = s.send(&request(body(&refs(&f), b"hello", &[]))).await;
    assert_eq!(resp.status, 204, "{}", resp.body_text());
    let get = s
        .send(&Raw::new("GET", "/bkt/up/a?tagging").sign(&s.host, SK, REGION, s.clock_now()))
        .await;
    assert_eq!(get.status, 200);
    assert_eq!(
        (get.xml("Key").as_deref(), get.xml("Value").as_deref()),
        (Some("origin"), Some("form"))
    );
    let obj = s
        .send(&Raw::new("GET", "/bkt/up/a").sign(&s.host, SK, REGION, s.clock_now()))
        .await;
    assert_eq!(obj.header("x-amz-tagging-count"), Some("1"));

    // Twins: a field the policy does not name, a malformed document and a bad tag are
    // refused, and nothing is stored.
    let other =
        "<Tagging><TagSet><Tag><Key>origin</Key><Value>forged</Value></Tag></TagSet></Tagging>";
    let f = signed_v4(&conds, &[("key", "up/b"), ("tagging", other)]);
    s.send(&request(body(&refs(&f), b"hello", &[])))
        .await
        .assert_error(403, "AccessDenied", None);
    for (doc, code) in [
        (
            "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
            "MalformedXML",
        ),
        (
            "<Tagging><TagSet><Tag><Key>aws:k</Key><Value>v</Value></Tag></TagSet></Tagging>",
            "InvalidTag",
        ),
    ] {
        let conds = format!(
            r#"{{"bucket": "bkt"}}, ["starts-with", "$key", "up/"], {{"tagging": "{doc}"}}"#
        );
        let f = signed_v4(&conds, &[("key", "up/c"), ("tagging", doc)]);
        s.send(&request(body(&refs(&f), b"hello", &[])))
            .await
            .assert_error(400, code, None);
    }
    for key in ["up/b", "up/c"] {
        s.send(&Raw::new("GET", &format!("/bkt/{key}")).sign(&s.host, SK, REGION, s.clock_now()))
            .await
            .assert_error(404, "NoSuchKey", None);
    }
}
