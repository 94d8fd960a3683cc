//! One row per plausible signing mistake: the request is signed by AWS's own signer
//! (`aws-sigv4`) one way and sent another, and the explanation names exactly that
//! mistake — in `<Explanation>` and in `x-strict-s3-reason`. A correct request gets no
//! explanation; `--aws-exact-errors` removes both.

mod common;

use std::time::Duration;

use common::*;
use strict_s3::{Config, Credential};

const OTHER_AK: &str = "AKIDOTHERKEY";
const OTHER_SK: &str = "other/secret/key";

async fn server() -> TestServer {
    let config = Config {
        buckets: vec!["bkt".into()],
        credentials: vec![Credential::new(AK, SK), Credential::new(OTHER_AK, OTHER_SK)],
        ..Config::in_memory()
    };
    let s = TestServer::start(config, t0()).await;
    s.put("/bkt/obj", b"x").await;
    s
}

#[tokio::test]
async fn each_mistake_is_named() {
    let s = server().await;
    let now = st(t0());
    let port = s.host.rsplit(':').next().unwrap().to_string();
    let hour = Duration::from_secs(3600);
    let presigned_get = Raw::new("GET", "/bkt/obj").presign(&s.host, SK, REGION, now, hour);

    let rows: Vec<(&str, Raw, String)> = vec![
        (
            "presigned GET used with PUT",
            Raw {
                method: "PUT".into(),
                ..presigned_get.clone()
            }
            .body(b"y"),
            "signed for GET and sent as PUT".into(),
        ),
        (
            "signed for localhost, sent to 127.0.0.1",
            Raw::new("GET", "/bkt/obj")
                .presign(&format!("localhost:{port}"), SK, REGION, now, hour)
                .set_header("host", &s.host),
            format!("valid for Host \"localhost:{port}\""),
        ),
        (
            "signed for another port (a Docker port mapping)",
            Raw::new("GET", "/bkt/obj")
                .presign("127.0.0.1:9000", SK, REGION, now, hour)
                .set_header("host", &s.host),
            "valid for Host \"127.0.0.1:9000\"".into(),
        ),
        (
            "signed virtual-hosted, sent path-style",
            {
                let u = Raw::new("GET", "/obj").presign(
                    &format!("bkt.localhost:{port}"),
                    SK,
                    REGION,
                    now,
                    hour,
                );
                Raw {
                    target: format!("/bkt{}", u.target),
                    ..u
                }
                .set_header("host", &s.host)
            },
            format!("virtual-hosted URL (Host \"bkt.localhost:{port}\")"),
        ),
        (
            "signed Content-Type differs",
            Raw::new("PUT", "/bkt/up")
                .header("content-type", "image/png")
                .presign(&s.host, SK, REGION, now, hour)
                .set_header("content-type", "text/plain")
                .body(b"z"),
            "valid with Content-Type \"image/png\"".into(),
        ),
        (
            "signed with another configured key's secret",
            Raw::new("GET", "/bkt/obj").sign(&s.host, OTHER_SK, REGION, now),
            format!("secret of access key {OTHER_AK}"),
        ),
        (
            "path encoded twice",
            {
                let signed = Raw::new("GET", "/bkt/a%2520b").sign(&s.host, SK, REGION, now);
                Raw {
                    target: "/bkt/a%20b".into(),
                    ..signed
                }
            },
            "path encoded twice".into(),
        ),
        (
            "+ meant literally in the query",
            {
                let signed = Raw::new("GET", "/bkt?prefix=a%2Bb").sign(&s.host, SK, REGION, now);
                Raw {
                    target: "/bkt?prefix=a+b".into(),
                    ..signed
                }
            },
            "literal plus".into(),
        ),
        (
            "payload hash changed after signing",
            Raw::new("GET", "/bkt/obj")
                .sign_with(&s.host, AK, SK, REGION, "s3", now, PayloadMode::Unsigned)
                .set_header(
                    "x-amz-content-sha256",
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                ),
            "payload hash UNSIGNED-PAYLOAD".into(),
        ),
    ];
    let mut failures = Vec::new();
    for (name, req, expect) in rows {
        let resp = s.send(&req).await;
        let explanation = resp.xml("Explanation").unwrap_or_default();
        let header = resp
            .header("x-strict-s3-reason")
            .unwrap_or_default()
            .to_string();
        if resp.status != 403
            || resp.code().as_deref() != Some("SignatureDoesNotMatch")
            || !explanation.contains(&expect)
            || !header.contains(&expect)
        {
            failures.push(format!("{name}: expected 403 SignatureDoesNotMatch explaining {expect:?}, got {} {explanation:?} / header {header:?}", resp.status));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_wrong_secret_gets_the_generic_explanation_and_a_good_request_none() {
    let s = server().await;
    let now = st(t0());
    let resp = s
        .send(&Raw::new("GET", "/bkt/obj").sign(&s.host, "not-any-secret", REGION, now))
        .await;
    resp.assert_error(403, "SignatureDoesNotMatch", None);
    assert!(
        resp.xml("Explanation")
            .unwrap()
            .starts_with("no single change"),
        "{}",
        resp.body_text()
    );
    let ok = s
        .send(&Raw::new("GET", "/bkt/obj").sign(&s.host, SK, REGION, now))
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("x-strict-s3-reason"), None);
    // Other rejections explain themselves with their numbers.
    s.clock.advance(Duration::from_secs(7200));
    let url =
        Raw::new("GET", "/bkt/obj").presign(&s.host, SK, REGION, now, Duration::from_secs(3600));
    let resp = s.send(&url).await;
    resp.assert_error(403, "AccessDenied", Some("Request has expired"));
    assert_eq!(
        resp.xml("Explanation").as_deref(),
        Some(
            "the URL expired 3600 seconds ago at 2026-01-15T13:00:00Z (signed at 2026-01-15T12:00:00Z for 3600 s, server time 2026-01-15T14:00:00Z)"
        )
    );
}

#[tokio::test]
async fn aws_exact_errors_leaves_the_explanation_out() {
    let config = Config {
        buckets: vec!["bkt".into()],
        aws_exact_errors: true,
        ..Config::in_memory()
    };
    let s = TestServer::start(config, t0()).await;
    let resp = s
        .send(&Raw::new("GET", "/bkt/obj").sign(&s.host, "wrong", REGION, st(t0())))
        .await;
    resp.assert_error(403, "SignatureDoesNotMatch", None);
    assert_eq!(resp.xml("Explanation"), None);
    assert_eq!(resp.header("x-strict-s3-reason"), None);
    assert!(
        resp.xml("CanonicalRequest").is_some(),
        "AWS's own elements stay"
    );
}
