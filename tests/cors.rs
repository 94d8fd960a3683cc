//! Bucket CORS over the wire: the configuration document (put, get, delete, persisted),
//! preflights answered before authentication, and the headers on actual responses —
//! success and error alike — each with its refusal twin.

mod common;

use base64::Engine;
use common::*;
use md5::Digest;
use strict_s3::{Config, StorageConfig};

const CONFIG: &str = r#"<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <AllowedOrigin>http://localhost:3000</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>"#;

fn md5(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(b))
}

async fn put_cors(s: &TestServer, doc: &str) -> Resp {
    let req = Raw::new("PUT", "/bkt?cors")
        .header("content-md5", &md5(doc.as_bytes()))
        .body(doc.as_bytes());
    s.send(&req.sign(&s.host, SK, REGION, s.clock_now())).await
}

fn preflight(path: &str, origin: Option<&str>, method: Option<&str>, headers: Option<&str>) -> Raw {
    let mut r = Raw::new("OPTIONS", path);
    if let Some(o) = origin {
        r = r.header("origin", o);
    }
    if let Some(m) = method {
        r = r.header("access-control-request-method", m);
    }
    if let Some(h) = headers {
        r = r.header("access-control-request-headers", h);
    }
    r
}

#[tokio::test]
async fn configuration_document_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        buckets: vec!["bkt".into()],
        storage: StorageConfig::Disk(dir.path().into()),
        ..Config::default()
    };
    let s = TestServer::start(config.clone(), t0()).await;
    let get = || Raw::new("GET", "/bkt?cors").sign(&s.host, SK, REGION, s.clock_now());
    let resp = s.send(&get()).await;
    resp.assert_error(
        404,
        "NoSuchCORSConfiguration",
        Some("The CORS configuration does not exist"),
    );
    assert_eq!(put_cors(&s, CONFIG).await.status, 200);
    let resp = s.send(&get()).await;
    assert_eq!(resp.status, 200);
    assert!(
        resp.body_text()
            .contains("<AllowedOrigin>http://localhost:3000</AllowedOrigin>")
    );
    // Refusals: unsupported method, two wildcards, bad MD5, no MD5.
    let bad = CONFIG.replace(
        "<AllowedMethod>POST</AllowedMethod>",
        "<AllowedMethod>PATCH</AllowedMethod>",
    );
    put_cors(&s, &bad).await.assert_error(
        400,
        "InvalidRequest",
        Some("Found unsupported HTTP method in CORS config. Unsupported method is PATCH"),
    );
    let two = CONFIG.replace("http://localhost:3000", "http://*.*.test");
    put_cors(&s, &two)
        .await
        .assert_error(400, "InvalidRequest", None);
    let req = Raw::new("PUT", "/bkt?cors")
        .header("content-md5", &md5(b"other"))
        .body(CONFIG.as_bytes());
    s.send(&req.sign(&s.host, SK, REGION, s.clock_now()))
        .await
        .assert_error(400, "BadDigest", None);
    let req = Raw::new("PUT", "/bkt?cors").body(CONFIG.as_bytes());
    s.send(&req.sign(&s.host, SK, REGION, s.clock_now()))
        .await
        .assert_error(400, "InvalidRequest", None);
    put_cors(&s, "<CORSConfiguration><CORSRule>")
        .await
        .assert_error(400, "MalformedXML", None);
    // Persisted with the bucket.
    let storage = s.handle.storage();
    s.handle.shutdown().await;
    drop(storage);
    let s = TestServer::start(config, t0()).await;
    let resp = s
        .send(&Raw::new("GET", "/bkt?cors").sign(&s.host, SK, REGION, s.clock_now()))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let del = s
        .send(&Raw::new("DELETE", "/bkt?cors").sign(&s.host, SK, REGION, s.clock_now()))
        .await;
    assert_eq!(del.status, 204);
    let resp = s
        .send(&Raw::new("GET", "/bkt?cors").sign(&s.host, SK, REGION, s.clock_now()))
        .await;
    resp.assert_error(404, "NoSuchCORSConfiguration", None);
}

#[tokio::test]
async fn preflights() {
    let s = TestServer::default().await;
    // No configuration yet.
    let resp = s
        .send(&preflight(
            "/bkt/k",
            Some("http://localhost:3000"),
            Some("PUT"),
            None,
        ))
        .await;
    resp.assert_error(
        403,
        "AccessForbidden",
        Some("CORSResponse: CORS is not enabled for this bucket."),
    );
    assert_eq!(resp.xml("Method").as_deref(), Some("PUT"));
    assert_eq!(
        resp.xml("ResourceType").as_deref(),
        Some("BUCKET"),
        "as recorded against S3"
    );
    let resp = s
        .send(&preflight(
            "/bkt/k",
            Some("http://localhost:3000"),
            None,
            None,
        ))
        .await;
    resp.assert_error(
        403,
        "AccessForbidden",
        Some("CORSResponse: CORS is not enabled for this bucket."),
    );
    assert_eq!(resp.xml("Method").as_deref(), Some("OPTIONS"));
    assert_eq!(put_cors(&s, CONFIG).await.status, 200);

    let ok = s
        .send(&preflight(
            "/bkt/k",
            Some("http://localhost:3000"),
            Some("PUT"),
            Some("content-type, x-amz-meta-a"),
        ))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body_text());
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(
        ok.header("access-control-allow-methods"),
        Some("GET, PUT, POST")
    );
    assert_eq!(
        ok.header("access-control-allow-headers"),
        Some("content-type, x-amz-meta-a")
    );
    assert_eq!(ok.header("access-control-max-age"), Some("3000"));
    assert_eq!(ok.header("access-control-expose-headers"), Some("ETag"));
    assert_eq!(ok.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        ok.header("vary"),
        Some("Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
    );

    let not_allowed = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";
    let resp = s
        .send(&preflight(
            "/bkt/k",
            Some("http://evil.test"),
            Some("PUT"),
            None,
        ))
        .await;
    resp.assert_error(403, "AccessForbidden", Some(not_allowed));
    let resp = s
        .send(&preflight(
            "/bkt",
            Some("http://localhost:3000"),
            Some("DELETE"),
            None,
        ))
        .await;
    resp.assert_error(403, "AccessForbidden", Some(not_allowed));
    assert_eq!(resp.xml("ResourceType").as_deref(), Some("BUCKET"));
    s.send(&preflight("/bkt/k", None, Some("PUT"), None))
        .await
        .assert_error(
            400,
            "BadRequest",
            Some("Insufficient information. Origin request header needed."),
        );
    s.send(&preflight(
        "/bkt/k",
        Some("http://localhost:3000"),
        None,
        None,
    ))
    .await
    .assert_error(400, "BadRequest", None);
    let resp = s
        .send(&preflight(
            "/nope/k",
            Some("http://localhost:3000"),
            Some("PUT"),
            None,
        ))
        .await;
    resp.assert_error(
        403,
        "AccessForbidden",
        Some("CORSResponse: Bucket not found"),
    );
    assert_eq!(resp.xml("ResourceType").as_deref(), Some("BUCKET"));
}

#[tokio::test]
async fn actual_requests_get_the_rule_headers_on_success_and_error() {
    let s = TestServer::default().await;
    assert_eq!(put_cors(&s, CONFIG).await.status, 200);
    s.put("/bkt/obj", b"cors").await;
    let now = s.clock_now();
    let get = |origin: &str| {
        Raw::new("GET", "/bkt/obj")
            .header("origin", origin)
            .sign(&s.host, SK, REGION, now)
    };
    let ok = s.send(&get("http://localhost:3000")).await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(ok.header("access-control-expose-headers"), Some("ETag"));
    // An error response carries them too, so the page can read S3's error.
    let missing = Raw::new("GET", "/bkt/missing")
        .header("origin", "http://localhost:3000")
        .sign(&s.host, SK, REGION, now);
    let resp = s.send(&missing).await;
    resp.assert_error(404, "NoSuchKey", None);
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    let anon = s
        .send(&Raw::new("GET", "/bkt/obj").header("origin", "http://localhost:3000"))
        .await;
    anon.assert_error(403, "AccessDenied", None);
    assert_eq!(
        anon.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    // Another origin, a method no rule allows, or no Origin: no CORS headers.
    assert_eq!(
        s.send(&get("http://evil.test"))
            .await
            .header("access-control-allow-origin"),
        None
    );
    let del = Raw::new("DELETE", "/bkt/obj")
        .header("origin", "http://localhost:3000")
        .sign(&s.host, SK, REGION, now);
    assert_eq!(
        s.send(&del).await.header("access-control-allow-origin"),
        None
    );
    let plain = Raw::new("GET", "/bkt/obj").sign(&s.host, SK, REGION, now);
    assert_eq!(
        s.send(&plain).await.header("access-control-allow-origin"),
        None
    );
}

#[tokio::test]
async fn cors_allow_origin_gives_start_buckets_a_permissive_rule() {
    let config = Config {
        buckets: vec!["bkt".into()],
        cors_allow_origins: vec!["http://localhost:5173".into()],
        ..Config::in_memory()
    };
    let s = TestServer::start(config, t0()).await;
    let ok = s
        .send(&preflight(
            "/bkt/k",
            Some("http://localhost:5173"),
            Some("PUT"),
            Some("content-type"),
        ))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body_text());
    let other = s
        .send(&preflight(
            "/bkt/k",
            Some("http://localhost:3000"),
            Some("PUT"),
            None,
        ))
        .await;
    other.assert_error(403, "AccessForbidden", None);
}
