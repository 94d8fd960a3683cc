//! The request inspector: `/_strict/requests` lists recent requests with their verdicts
//! and reasons (no secrets), `/_strict/` serves the page.

mod common;

use std::time::Duration;

use common::*;

#[tokio::test]
async fn recent_requests_with_reasons_and_no_secrets() {
    let s = TestServer::default().await;
    s.put("/bkt/obj", b"x").await;
    let now = s.clock_now();
    let url =
        Raw::new("GET", "/bkt/obj").presign(&s.host, SK, REGION, now, Duration::from_secs(60));
    s.clock.advance(Duration::from_secs(120));
    s.send(&url)
        .await
        .assert_error(403, "AccessDenied", Some("Request has expired"));
    s.send(&Raw::new("GET", "/bkt/obj").sign(&s.host, "wrong", REGION, s.clock_now()))
        .await;

    let resp = s.send(&Raw::new("GET", "/_strict/requests")).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let records: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    let records = records.as_array().unwrap();
    assert_eq!(
        records.len(),
        3,
        "newest first, the inspector's own requests not recorded"
    );
    let mismatch = &records[0];
    assert_eq!(mismatch["code"], "SignatureDoesNotMatch");
    assert_eq!(mismatch["verdict"], "refused");
    assert!(
        mismatch["canonical_request"]
            .as_str()
            .unwrap()
            .starts_with("GET\n/bkt/obj\n")
    );
    assert!(
        mismatch["reason"]
            .as_str()
            .unwrap()
            .contains("no single change")
    );
    let checks: Vec<(&str, &str)> = mismatch["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert!(checks.contains(&("access key", "passed")));
    assert!(checks.contains(&("signature", "failed")));
    assert!(checks.contains(&("payload", "not reached")));
    let expired = &records[1];
    assert_eq!(expired["code"], "AccessDenied");
    assert!(
        expired["reason"]
            .as_str()
            .unwrap()
            .contains("expired 60 seconds ago")
    );
    assert_eq!(
        expired["auth"], "sigv4-presigned",
        "the attempted mechanism is reported even when it fails"
    );
    let w = &expired["window"];
    assert_eq!(
        w["expires_at"].as_i64().unwrap() - w["signed_at"].as_i64().unwrap(),
        60
    );
    assert!(w["server_time"].as_i64().unwrap() > w["expires_at"].as_i64().unwrap());
    assert_eq!(records[2]["verdict"], "accepted");
    assert_eq!(records[2]["operation"], "PutObject");
    let text = resp.body_text();
    assert!(!text.contains(SK), "the secret never appears");
    assert!(
        !text.to_lowercase().contains("authorization"),
        "no Authorization header either"
    );

    let page = s.send(&Raw::new("GET", "/_strict/")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.body_text().contains("strict-s3 requests"));
    let html = page.body_text();
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("@import"),
        "self-contained: no script, style or font from elsewhere"
    );
    assert_eq!(s.send(&Raw::new("GET", "/_strict/other")).await.status, 404);
}

/// DNS rebinding: a page on evil.example that points its name at 127.0.0.1 sends
/// `Host: evil.example`; the inspector refuses it and answers loopback names and the
/// configured ones, with headers that keep the page from being sniffed or framed.
#[tokio::test]
async fn the_inspector_answers_only_its_own_hosts() {
    let s = TestServer::start(
        strict_s3::Config {
            buckets: vec!["bkt".into()],
            admin_hosts: vec!["devbox.internal".into()],
            ..strict_s3::Config::in_memory()
        },
        t0(),
    )
    .await;
    let port = s.handle.local_addr().port();
    for path in ["/_strict/", "/_strict/requests"] {
        for host in [
            format!("evil.example:{port}"),
            "localhost.evil.example".into(),
        ] {
            let resp = s.send(&Raw::new("GET", path).header("host", &host)).await;
            assert_eq!(resp.status, 403, "{host}{path}: {}", resp.body_text());
            assert!(
                resp.body_text().contains("forbidden"),
                "{}",
                resp.body_text()
            );
            assert!(!resp.body_text().contains("\"request_id\""));
        }
        for host in [
            s.host.clone(),
            format!("localhost:{port}"),
            format!("devbox.internal:{port}"),
        ] {
            let resp = s.send(&Raw::new("GET", path).header("host", &host)).await;
            assert_eq!(resp.status, 200, "{host}{path}");
            assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
            let csp = resp.header("content-security-policy").unwrap_or_default();
            assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
            assert!(csp.contains("connect-src 'self'"), "{csp}");
        }
    }
}

fn state_of<'a>(record: &'a serde_json::Value, check: &str) -> &'a str {
    record["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == check)
        .unwrap_or_else(|| panic!("no check {check} in {record}"))["state"]
        .as_str()
        .unwrap()
}

/// Each refusal names the check that failed, the ones before it passed and the ones after
/// it not reached, from the authentication error itself; the claimed access key is shown
/// as the authenticator read it, refused or not.
#[tokio::test]
async fn each_refusal_names_its_check() {
    let s = TestServer::default().await;
    s.put("/bkt/obj", b"x").await;

    s.send(&Raw::new("GET", "/bkt/obj").sign(&s.host, SK, "eu-west-9", s.clock_now()))
        .await
        .assert_error(400, "AuthorizationHeaderMalformed", None);
    let r = s.latest_record().await;
    assert_eq!(r["access_key"], AK);
    assert_eq!(r["operation"], "GetObject");
    assert_eq!(state_of(&r, "parameters"), "passed");
    assert_eq!(state_of(&r, "credential scope"), "failed");
    assert_eq!(state_of(&r, "access key"), "not reached");

    let unknown = "AKIAUNKNOWNKEY000000";
    s.send(&Raw::new("GET", "/bkt/obj").sign_with(
        &s.host,
        unknown,
        SK,
        REGION,
        "s3",
        s.clock_now(),
        PayloadMode::Body,
    ))
    .await
    .assert_error(403, "InvalidAccessKeyId", None);
    let r = s.latest_record().await;
    assert_eq!(r["access_key"], unknown);
    assert_eq!(state_of(&r, "credential scope"), "passed");
    assert_eq!(state_of(&r, "access key"), "failed");

    // Signed over one body, sent with another: the signature passes, the payload fails.
    let mut put =
        Raw::new("PUT", "/bkt/obj2")
            .body(b"signed body")
            .sign(&s.host, SK, REGION, s.clock_now());
    put.body = b"other body!".to_vec();
    s.send(&put)
        .await
        .assert_error(400, "XAmzContentSHA256Mismatch", None);
    let r = s.latest_record().await;
    assert_eq!(state_of(&r, "signature"), "passed");
    assert_eq!(state_of(&r, "payload"), "failed");
    assert_eq!(state_of(&r, "operation"), "not reached");

    // Not an authentication failure: every check passed, the operation refused it.
    s.send(&Raw::new("GET", "/bkt/missing").sign(&s.host, SK, REGION, s.clock_now()))
        .await
        .assert_error(404, "NoSuchKey", None);
    let r = s.latest_record().await;
    assert_eq!(state_of(&r, "payload"), "passed");
    assert_eq!(state_of(&r, "operation"), "failed");

    // A POST form is authenticated from its fields: the form's mechanism and key are shown.
    let boundary = "inspectorBoundary";
    let mut form = Vec::new();
    for (n, v) in [
        ("key", "k"),
        ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        (
            "x-amz-credential",
            "AKIAFORMKEY000000000/20260115/us-east-1/s3/aws4_request",
        ),
        ("x-amz-date", "20260115T120000Z"),
        ("policy", "e30="),
        ("x-amz-signature", &"0".repeat(64)),
    ] {
        form.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    form.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nhello\r\n--{boundary}--\r\n").as_bytes(),
    );
    let post = Raw::new("POST", "/bkt")
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .body(&form);
    s.send(&post)
        .await
        .assert_error(403, "InvalidAccessKeyId", None);
    let r = s.latest_record().await;
    assert_eq!(r["auth"], "sigv4-post-policy");
    assert_eq!(r["access_key"], "AKIAFORMKEY000000000");
    assert_eq!(r["operation"], "PostObject");
    assert_eq!(state_of(&r, "access key"), "failed");
}
