//! The clock a test suite moves over HTTP: `GET` / `PUT /_strict/clock` on a server
//! started with its default clock. Each time-dependent check follows it, shown without
//! sleeping: presigned expiry and not-yet-valid, header-auth skew, SigV2 Expires, POST
//! policy expiration, Last-Modified, Date and a multipart upload's Initiated. A bad body
//! is 400 with the reason and moves nothing.

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use strict_s3::{Config, Server};
use time::macros::datetime;

struct Plain {
    handle: strict_s3::ServerHandle,
    host: String,
}

/// A server on the clock it runs on by default (the one `PUT /_strict/clock` moves).
async fn server() -> Plain {
    let handle = Server::builder()
        .config(Config {
            buckets: vec!["bkt".into()],
            ..Config::in_memory()
        })
        .start()
        .await
        .unwrap();
    let host = handle.local_addr().to_string();
    Plain { handle, host }
}

async fn set(s: &Plain, body: &str) -> Resp {
    send_raw(
        &s.host,
        &Raw::new("PUT", "/_strict/clock")
            .header("host", &s.host)
            .body(body.as_bytes()),
    )
    .await
}

async fn reading(s: &Plain) -> serde_json::Value {
    let resp = send_raw(
        &s.host,
        &Raw::new("GET", "/_strict/clock").header("host", &s.host),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    serde_json::from_str(&resp.body_text()).unwrap()
}

fn at(t: time::OffsetDateTime) -> std::time::SystemTime {
    st(t)
}

#[tokio::test]
async fn the_clock_reads_and_moves_over_http() {
    let s = server().await;
    let r = reading(&s).await;
    assert_eq!(r["offset_seconds"], 0);
    assert_eq!(r["frozen"], false);

    let resp = set(&s, r#"{"now": "2026-01-15T12:00:00Z", "frozen": true}"#).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let r: serde_json::Value = serde_json::from_str(&resp.body_text()).unwrap();
    assert_eq!(r["now"], "2026-01-15T12:00:00Z");
    assert_eq!(r["frozen"], true);
    assert_eq!(
        reading(&s).await["now"],
        "2026-01-15T12:00:00Z",
        "it stands still"
    );

    // An offset moves a frozen clock to that distance from the system clock; unfreezing
    // lets it run from where it stood.
    let resp = set(&s, r#"{"offset_seconds": -3600}"#).await;
    let r: serde_json::Value = serde_json::from_str(&resp.body_text()).unwrap();
    assert_eq!(
        (r["offset_seconds"].as_i64(), r["frozen"].as_bool()),
        (Some(-3600), Some(true))
    );
    let resp = set(&s, r#"{"frozen": false}"#).await;
    let r: serde_json::Value = serde_json::from_str(&resp.body_text()).unwrap();
    assert_eq!(r["frozen"], false);
    assert!(
        (r["offset_seconds"].as_i64().unwrap() + 3600).abs() <= 1,
        "{r}"
    );

    // Bad bodies: 400, the reason, and the clock as it was.
    set(&s, r#"{"now": "2026-01-15T12:00:00Z", "frozen": true}"#).await;
    for (body, reason) in [
        ("soon", "must be JSON"),
        (r#"{"now": "yesterday"}"#, "not an RFC 3339 time"),
        (
            r#"{"now": "2026-01-15T12:00:00Z", "offset_seconds": 5}"#,
            "not both",
        ),
        (r#"{"offset": 5}"#, "unknown field"),
        ("{}", "nothing to change"),
        (r#"{"offset_seconds": "five"}"#, "must be JSON"),
    ] {
        let resp = set(&s, body).await;
        assert_eq!(resp.status, 400, "{body}");
        assert!(
            resp.body_text().contains(reason),
            "{body}: {}",
            resp.body_text()
        );
    }
    assert_eq!(reading(&s).await["now"], "2026-01-15T12:00:00Z");
    let big = format!(r#"{{"now": "{}"}}"#, "x".repeat(5000));
    assert_eq!(set(&s, &big).await.status, 400);

    // Other methods, and other hosts, are refused.
    let post = send_raw(
        &s.host,
        &Raw::new("POST", "/_strict/clock").header("host", &s.host),
    )
    .await;
    assert_eq!(post.status, 405);
    let rebinding = send_raw(
        &s.host,
        &Raw::new("PUT", "/_strict/clock")
            .header("host", "evil.example")
            .body(br#"{"offset_seconds": 1}"#),
    )
    .await;
    assert_eq!(rebinding.status, 403);
    assert_eq!(reading(&s).await["now"], "2026-01-15T12:00:00Z");
}

#[tokio::test]
async fn every_time_check_follows_the_clock() {
    let s = server().await;
    let t0 = datetime!(2026-01-15 12:00:00 UTC);
    assert_eq!(
        set(&s, r#"{"now": "2026-01-15T12:00:00Z", "frozen": true}"#)
            .await
            .status,
        200
    );
    let move_to = |t: &'static str| format!(r#"{{"now": "{t}"}}"#);

    // Last-Modified and Date are the clock's.
    let put = Raw::new("PUT", "/bkt/k")
        .body(b"v")
        .sign(&s.host, SK, REGION, at(t0));
    let resp = send_raw(&s.host, &put).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    assert_eq!(resp.header("date"), Some("Thu, 15 Jan 2026 12:00:00 GMT"));
    let head = Raw::new("HEAD", "/bkt/k").sign(&s.host, SK, REGION, at(t0));
    let resp = send_raw(&s.host, &head).await;
    assert_eq!(
        resp.header("last-modified"),
        Some("Thu, 15 Jan 2026 12:00:00 GMT")
    );
    // A multipart upload's Initiated.
    let create = Raw::new("POST", "/bkt/mp?uploads").sign(&s.host, SK, REGION, at(t0));
    assert_eq!(send_raw(&s.host, &create).await.status, 200);
    let list = Raw::new("GET", "/bkt?uploads").sign(&s.host, SK, REGION, at(t0));
    let body = send_raw(&s.host, &list).await.body_text();
    assert!(
        body.contains("<Initiated>2026-01-15T12:00:00.000Z</Initiated>"),
        "{body}"
    );

    // A presigned URL (10 minutes), a SigV2 URL (Expires in 10 minutes), a header-signed
    // request and a POST form (policy expiring at 13:00), all made at 12:00.
    let url =
        Raw::new("GET", "/bkt/k").presign(&s.host, SK, REGION, at(t0), Duration::from_secs(600));
    let expires = t0.unix_timestamp() + 600;
    let v2 = {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(SK.as_bytes()).unwrap();
        mac.update(format!("GET\n\n\n{expires}\n/bkt/k").as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let sig = percent_encoding::utf8_percent_encode(&sig, percent_encoding::NON_ALPHANUMERIC);
        Raw::new(
            "GET",
            &format!("/bkt/k?AWSAccessKeyId={AK}&Expires={expires}&Signature={sig}"),
        )
        .header("host", &s.host)
    };
    let header = Raw::new("GET", "/bkt/k").sign(&s.host, SK, REGION, at(t0));
    let form = post_form(&s.host, t0);
    for r in [&url, &v2, &header] {
        assert_eq!(send_raw(&s.host, r).await.status, 200);
    }
    assert_eq!(send_raw(&s.host, &form).await.status, 204);

    // 12:10:01: both URLs have expired; the header-signed request is within the skew.
    set(&s, &move_to("2026-01-15T12:10:01Z")).await;
    send_raw(&s.host, &url)
        .await
        .assert_error(403, "AccessDenied", Some("Request has expired"));
    send_raw(&s.host, &v2)
        .await
        .assert_error(403, "AccessDenied", Some("Request has expired"));
    assert_eq!(send_raw(&s.host, &header).await.status, 200);
    // 12:15:01: the header-signed request is skewed.
    set(&s, &move_to("2026-01-15T12:15:01Z")).await;
    send_raw(&s.host, &header)
        .await
        .assert_error(403, "RequestTimeTooSkewed", None);
    // 13:00:01: the form's policy has expired.
    set(&s, &move_to("2026-01-15T13:00:01Z")).await;
    send_raw(&s.host, &post_form(&s.host, t0))
        .await
        .assert_error(
            403,
            "AccessDenied",
            Some("Invalid according to Policy: Policy expired."),
        );
    // 11:40: the URL is not valid yet (signed 20 minutes in the future).
    set(&s, &move_to("2026-01-15T11:40:00Z")).await;
    send_raw(&s.host, &url).await.assert_error(
        403,
        "AccessDenied",
        Some("Request is not yet valid"),
    );
    // And back at 12:05 all work again.
    set(&s, &move_to("2026-01-15T12:05:00Z")).await;
    for r in [&url, &v2, &header] {
        assert_eq!(send_raw(&s.host, r).await.status, 200);
    }
    s.handle.shutdown().await;
}

/// An embedded server given a `ManualClock` is moved by its program, not over HTTP.
#[tokio::test]
async fn a_manual_clock_is_not_moved_over_http() {
    let s = TestServer::default().await;
    let resp = send_raw(
        &s.host,
        &Raw::new("PUT", "/_strict/clock")
            .header("host", &s.host)
            .body(br#"{"offset_seconds": 60}"#),
    )
    .await;
    assert_eq!(resp.status, 409);
    assert!(
        resp.body_text().contains("ManualClock"),
        "{}",
        resp.body_text()
    );
}

/// A SigV4 POST form for bkt/form.txt, its policy expiring an hour after `t`.
fn post_form(host: &str, t: time::OffsetDateTime) -> Raw {
    const BOUNDARY: &str = "----strictS3ClockBoundary";
    let b64 = base64::engine::general_purpose::STANDARD;
    let date = "20260115T120000Z";
    let credential = format!("{AK}/20260115/us-east-1/s3/aws4_request");
    let expiration = strict_s3::dates::iso(t + time::Duration::hours(1));
    let policy = b64.encode(format!(
        r#"{{"expiration": "{expiration}", "conditions": [{{"bucket": "bkt"}}, {{"key": "form.txt"}}, {{"x-amz-credential": "{credential}"}}, {{"x-amz-algorithm": "AWS4-HMAC-SHA256"}}, {{"x-amz-date": "{date}"}}]}}"#
    ));
    let key = aws_sigv4::sign::v4::generate_signing_key(SK, at(t), REGION, "s3");
    let signature = aws_sigv4::sign::v4::calculate_signature(key, policy.as_bytes());
    let mut body = String::new();
    for (name, value) in [
        ("key", "form.txt"),
        ("x-amz-credential", credential.as_str()),
        ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        ("x-amz-date", date),
        ("policy", policy.as_str()),
        ("x-amz-signature", signature.as_str()),
    ] {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.txt\"\r\n\r\nx\r\n--{BOUNDARY}--\r\n"
    ));
    Raw::new("POST", "/bkt")
        .header("host", host)
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body.as_bytes())
}
