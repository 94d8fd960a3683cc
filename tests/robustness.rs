//! Bad input gets a clear S3 error: never a panic, a 500, a hang or lost data. Each
//! limit (header size, XML size, key length, metadata, body size) is tested at its edge.

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use md5::Digest;
use strict_s3::{Config, StorageConfig};
use tokio::io::AsyncWriteExt;

fn b64md5(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(b))
}

async fn get_body(s: &TestServer, path: &str) -> Resp {
    s.send(&Raw::new("GET", path).sign(&s.host, SK, REGION, s.clock_now()))
        .await
}

#[tokio::test]
async fn malformed_urls_and_headers() {
    let s = TestServer::default().await;
    let now = s.clock_now();
    let sign = |r: Raw| r.sign(&s.host, SK, REGION, now);

    s.send(&Raw::new("GET", "/bkt/a%zzb")).await.assert_error(
        400,
        "InvalidURI",
        Some("Couldn't parse the specified URI."),
    );
    s.send(&Raw::new("GET", "/bkt/%c3%28"))
        .await
        .assert_error(400, "InvalidURI", None);
    s.send(&Raw::new("GET", "/bkt?prefix=%"))
        .await
        .assert_error(400, "InvalidURI", None);

    // 8 KiB of headers is S3's limit.
    let big = "x".repeat(9000);
    let resp = s.send(&Raw::new("GET", "/bkt").header("x-big", &big)).await;
    resp.assert_error(400, "RequestHeaderSectionTooLarge", None);
    assert_eq!(resp.xml("MaxSizeAllowed").as_deref(), Some("8192"));
    let fits = sign(Raw::new("GET", "/bkt").header("x-small", &"x".repeat(6000)));
    assert_eq!(s.send(&fits).await.status, 200);

    // Far beyond what the HTTP layer buffers: refused cleanly, and the server lives on.
    let huge = s
        .send(&Raw::new("GET", "/bkt").header("x-huge", &"y".repeat(200_000)))
        .await;
    assert!((400..500).contains(&huge.status), "status {}", huge.status);

    let resp = s
        .send(&Raw::new("PUT", "/bkt/k").header("content-length", "99999999999999999999999"))
        .await;
    assert_eq!(resp.status, 400, "absurd Content-Length");

    // Garbage Authorization headers: always a 4xx S3 error.
    for garbage in [
        "",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 ",
        "AWS4-HMAC-SHA256 ,,,",
        "AWS4-HMAC-SHA256 Credential=",
        "AWS ",
        "AWS :",
        "AWS a:",
        "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=zz",
    ] {
        let resp = s
            .send(
                &Raw::new("GET", "/bkt")
                    .header("authorization", garbage)
                    .header("x-amz-date", "20260115T120000Z"),
            )
            .await;
        assert!(
            (400..500).contains(&resp.status),
            "{garbage:?} → {}",
            resp.status
        );
        assert!(resp.code().is_some(), "{garbage:?} has an S3 error body");
    }

    // A control character in a header is refused by the HTTP layer itself (plain 400).
    let resp = s
        .send(&Raw::new("GET", "/bkt").header("authorization", "\u{7f}"))
        .await;
    assert_eq!(resp.status, 400);

    // Not HTTP at all.
    let mut stream = tokio::net::TcpStream::connect(&s.host).await.unwrap();
    stream
        .write_all(b"\x00\x01\x02 garbage\r\n\r\n")
        .await
        .unwrap();
    let _ = read_response_lenient(&mut stream).await;
    assert_eq!(
        s.send(&sign(Raw::new("GET", "/bkt"))).await.status,
        200,
        "server still serves"
    );
}

async fn read_response_lenient(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
    buf
}

#[tokio::test]
async fn body_limits_and_digests() {
    let s = TestServer::default().await;
    let now = s.clock_now();
    let sign = |r: Raw| r.sign(&s.host, SK, REGION, now);
    let unsigned = |r: Raw| r.sign_with(&s.host, AK, SK, REGION, "s3", now, PayloadMode::Unsigned);
    s.put("/bkt/keep", b"previous").await;

    // Over 5 GiB: refused from the header, before any byte is read.
    let resp = s
        .send(&unsigned(
            Raw::new("PUT", "/bkt/big").header("content-length", "5368709121"),
        ))
        .await;
    resp.assert_error(
        400,
        "EntityTooLarge",
        Some("Your proposed upload exceeds the maximum allowed size"),
    );
    assert_eq!(resp.xml("MaxSizeAllowed").as_deref(), Some("5368709120"));

    let no_len = Raw {
        no_content_length: true,
        ..unsigned(Raw::new("PUT", "/bkt/x"))
    };
    s.send(&no_len)
        .await
        .assert_error(411, "MissingContentLength", None);
    let te = Raw {
        no_content_length: true,
        ..unsigned(Raw::new("PUT", "/bkt/x").header("transfer-encoding", "chunked"))
            .body(b"0\r\n\r\n")
    };
    let resp = s.send(&te).await;
    resp.assert_error(501, "NotImplemented", None);
    assert_eq!(resp.xml("Header").as_deref(), Some("Transfer-Encoding"));

    // Keys: 1024 bytes is the limit.
    let long = format!("/bkt/{}", "k".repeat(1025));
    s.send(&sign(Raw::new("PUT", &long).body(b"x")))
        .await
        .assert_error(400, "KeyTooLongError", Some("Your key is too long"));
    s.put(&format!("/bkt/{}", "k".repeat(1024)), b"x").await;

    // User metadata: 2 KB.
    let meta = "m".repeat(2100);
    let resp = s
        .send(&sign(
            Raw::new("PUT", "/bkt/m")
                .header("x-amz-meta-big", &meta)
                .body(b"x"),
        ))
        .await;
    resp.assert_error(400, "MetadataTooLarge", None);
    s.put("/bkt/m", b"x").await;
    let ok = sign(
        Raw::new("PUT", "/bkt/m2")
            .header("x-amz-meta-ok", &"m".repeat(1000))
            .body(b"x"),
    );
    assert_eq!(s.send(&ok).await.status, 200);

    // Content-MD5: malformed → InvalidDigest; wrong → BadDigest and nothing stored.
    s.send(&sign(
        Raw::new("PUT", "/bkt/keep")
            .header("content-md5", "nope")
            .body(b"new"),
    ))
    .await
    .assert_error(400, "InvalidDigest", None);
    s.send(&sign(
        Raw::new("PUT", "/bkt/keep")
            .header("content-md5", &b64md5(b"other"))
            .body(b"new"),
    ))
    .await
    .assert_error(400, "BadDigest", None);
    assert_eq!(get_body(&s, "/bkt/keep").await.body, b"previous");
    assert_eq!(
        s.send(&sign(
            Raw::new("PUT", "/bkt/md5ok")
                .header("content-md5", &b64md5(b"new"))
                .body(b"new")
        ))
        .await
        .status,
        200
    );

    // Flexible checksum header: wrong → BadDigest with AWS's message; right → stored.
    let resp = s
        .send(&sign(
            Raw::new("PUT", "/bkt/keep")
                .header("x-amz-checksum-crc32", "AAAAAA==")
                .body(b"new"),
        ))
        .await;
    resp.assert_error(
        400,
        "BadDigest",
        Some("The CRC32 you specified did not match the calculated checksum."),
    );
    assert_eq!(get_body(&s, "/bkt/keep").await.body, b"previous");
    let crc = {
        let mut h = strict_s3::checksum::ChecksumAlgorithm::Crc32.hasher();
        h.update(b"new");
        h.finish()
    };
    assert_eq!(
        s.send(&sign(
            Raw::new("PUT", "/bkt/crc")
                .header("x-amz-checksum-crc32", &crc)
                .body(b"new")
        ))
        .await
        .status,
        200
    );
    let head = s
        .send(&sign(
            Raw::new("HEAD", "/bkt/crc").header("x-amz-checksum-mode", "ENABLED"),
        ))
        .await;
    assert_eq!(head.header("x-amz-checksum-crc32"), Some(crc.as_str()));
    let head = s.send(&sign(Raw::new("HEAD", "/bkt/crc"))).await;
    assert_eq!(
        head.header("x-amz-checksum-crc32"),
        None,
        "only with checksum mode"
    );
}

#[tokio::test]
async fn a_body_cut_short_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        buckets: vec!["bkt".into()],
        storage: StorageConfig::Disk(dir.path().into()),
        ..Config::default()
    };
    let s = TestServer::start(config, t0()).await;
    s.put("/bkt/k", b"previous").await;
    let signed = Raw::new("PUT", "/bkt/k")
        .body(&vec![b'z'; 100_000])
        .sign_with(
            &s.host,
            AK,
            SK,
            REGION,
            "s3",
            s.clock_now(),
            PayloadMode::Unsigned,
        );
    let mut stream = send_partial(&s.host, &signed, 40_000).await;
    stream.shutdown().await.unwrap();
    let _ = read_response_lenient(&mut stream).await;
    drop(stream);
    // Give the server a moment to notice the cut (bounded, not a timing assertion).
    for _ in 0..50 {
        if std::fs::read_dir(dir.path().join("tmp"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(get_body(&s, "/bkt/k").await.body, b"previous");
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0,
        "no orphan temp file"
    );
}

#[tokio::test]
async fn hostile_keys_stay_inside_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    let config = Config {
        buckets: vec!["bkt".into()],
        storage: StorageConfig::Disk(root.clone()),
        ..Config::default()
    };
    let s = TestServer::start(config, t0()).await;
    let keys = [
        "../../escape",
        "a/../../../b",
        "..",
        ".",
        "//x//",
        "/lead",
        "trail/",
        "%2e%2e%2fx",
        "\u{fc}n\u{ef}/\u{e7}",
        "a",
        "a/b",
        "con",
        "x".repeat(300).as_str(),
    ]
    .map(String::from);
    for (i, key) in keys.iter().enumerate() {
        let path = format!("/bkt/{}", strict_s3::auth::sigv4::uri_encode_path(key));
        let body = format!("body {i}");
        s.put(&path, body.as_bytes()).await;
        assert_eq!(get_body(&s, &path).await.body, body.as_bytes(), "{key}");
    }
    // Raw `..` segments are not normalised: they are part of the key, as on S3.
    s.put("/bkt/../../raw", b"raw").await;
    let meta = s
        .handle
        .storage()
        .head_object("bkt", "../../raw")
        .await
        .unwrap();
    assert_eq!(meta.size, 3);
    for entry in walk(dir.path()) {
        assert!(
            entry.starts_with(&root),
            "{} escaped the data directory",
            entry.display()
        );
    }
    assert!(!dir.path().join("escape").exists() && !dir.path().join("raw").exists());
    // Listing returns every key, in UTF-8 byte order.
    let list = s
        .send(&Raw::new("GET", "/bkt?list-type=2").sign(&s.host, SK, REGION, s.clock_now()))
        .await;
    let text = list.body_text();
    let listed: Vec<&str> = text
        .split("<Key>")
        .skip(1)
        .map(|p| p.split("</Key>").next().unwrap())
        .collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    assert_eq!(listed.len(), keys.len() + 1);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[tokio::test]
async fn xml_bodies_are_validated() {
    let s = TestServer::default().await;
    let now = s.clock_now();
    let sign = |r: Raw| r.sign(&s.host, SK, REGION, now);
    for bad in [
        &b"<Delete><Object><Key>a</Key></Object>"[..],
        b"not xml",
        b"<Other/>",
        b"<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>",
        b"<Delete></Delete>",
        b"<Delete><Object></Object></Delete>",
    ] {
        let resp = s
            .send(&sign(
                Raw::new("POST", "/bkt?delete")
                    .header("content-md5", &b64md5(bad))
                    .body(bad),
            ))
            .await;
        resp.assert_error(400, "MalformedXML", Some("The XML you provided was not well-formed or did not validate against our published schema"));
    }
    let too_many: String = format!(
        "<Delete>{}</Delete>",
        "<Object><Key>k</Key></Object>".repeat(1001)
    );
    let resp = s
        .send(&sign(
            Raw::new("POST", "/bkt?delete")
                .header("content-md5", &b64md5(too_many.as_bytes()))
                .body(too_many.as_bytes()),
        ))
        .await;
    resp.assert_error(400, "MalformedXML", None);
    let good = b"<Delete><Object><Key>a</Key></Object></Delete>";
    let resp = s
        .send(&sign(Raw::new("POST", "/bkt?delete").body(good)))
        .await;
    resp.assert_error(
        400,
        "InvalidRequest",
        Some("Missing required header for this request: Content-MD5 OR x-amz-checksum-*"),
    );
    let resp = s
        .send(&sign(
            Raw::new("POST", "/bkt?delete")
                .header("content-md5", &b64md5(good))
                .body(good),
        ))
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.xml("Key").as_deref(), Some("a"));
    let resp = s
        .send(&sign(
            Raw::new("PUT", "/newbucket").body(b"<CreateBucketConfiguration><LocationConstraint>"),
        ))
        .await;
    resp.assert_error(400, "MalformedXML", None);
}

#[tokio::test]
async fn unsupported_features_say_so() {
    let s = TestServer::default().await;
    let now = s.clock_now();
    let sign = |r: Raw| r.sign(&s.host, SK, REGION, now);
    s.send(&sign(Raw::new("GET", "/bkt?lifecycle")))
        .await
        .assert_error(501, "NotImplemented", None);
    s.send(&sign(Raw::new("GET", "/bkt?website")))
        .await
        .assert_error(501, "NotImplemented", None);
    s.send(&sign(Raw::new("GET", "/bkt/k?retention")))
        .await
        .assert_error(501, "NotImplemented", None);
    let resp = s.send(&sign(Raw::new("POST", "/bkt/k"))).await;
    resp.assert_error(405, "MethodNotAllowed", None);
    assert_eq!(resp.xml("ResourceType").as_deref(), Some("OBJECT"));
    let resp = s
        .send(&sign(
            Raw::new("PUT", "/bkt/k")
                .header("x-amz-website-redirect-location", "/other")
                .body(b"x"),
        ))
        .await;
    resp.assert_error(501, "NotImplemented", None);
    assert_eq!(
        resp.xml("Header").as_deref(),
        Some("x-amz-website-redirect-location")
    );
    // The first of repeated ordinary parameters wins, as on S3, which also signs only that
    // first value (aws-sdk-go#1495; tests/hostile_clients.rs): sign the URL as S3 reads it.
    s.put("/bkt/a1", b"x").await;
    s.put("/bkt/b1", b"x").await;
    let resp = s
        .send(&Raw {
            target: "/bkt?list-type=2&prefix=a&prefix=b".into(),
            ..sign(Raw::new("GET", "/bkt?list-type=2&prefix=a"))
        })
        .await;
    assert_eq!(resp.xml("Prefix").as_deref(), Some("a"));
    assert_eq!(resp.xml("Key").as_deref(), Some("a1"));
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_upload_finish() {
    let s = TestServer::default().await;
    let signed = Raw::new("PUT", "/bkt/slow")
        .body(&vec![b'q'; 64 * 1024])
        .sign(&s.host, SK, REGION, s.clock_now());
    let signed = signed.header("connection", "close");
    let mut stream = send_partial(&s.host, &signed, 1000).await;
    let storage = s.handle.storage();
    let shutdown = tokio::spawn(s.handle.shutdown());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !shutdown.is_finished(),
        "shutdown waits for the in-flight request"
    );
    stream.write_all(&signed.body[1000..]).await.unwrap();
    let resp = parse_response(&read_response_lenient(&mut stream).await, false);
    assert_eq!(resp.status, 200);
    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        storage.head_object("bkt", "slow").await.unwrap().size,
        64 * 1024
    );
}

#[tokio::test]
async fn buckets_follow_s3_region_rules_outside_us_east_1() {
    let config = Config {
        region: "eu-west-1".into(),
        buckets: vec!["existing".into()],
        ..Config::in_memory()
    };
    let s = TestServer::start(config, t0()).await;
    let now = s.clock_now();
    let sign = |r: Raw| r.sign(&s.host, SK, "eu-west-1", now);
    let cfg = |lc: &str| {
        format!(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{lc}</LocationConstraint></CreateBucketConfiguration>"
        )
    };
    s.send(&sign(Raw::new("PUT", "/b-none"))).await.assert_error(
        400,
        "IllegalLocationConstraintException",
        Some("The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."),
    );
    s.send(&sign(Raw::new("PUT", "/b-other").body(cfg("us-west-2").as_bytes()))).await.assert_error(
        400,
        "IllegalLocationConstraintException",
        Some("The us-west-2 location constraint is incompatible for the region specific endpoint this request was sent to."),
    );
    assert_eq!(
        s.send(&sign(
            Raw::new("PUT", "/b-ok").body(cfg("eu-west-1").as_bytes())
        ))
        .await
        .status,
        200
    );
    let resp = s
        .send(&sign(
            Raw::new("PUT", "/existing").body(cfg("eu-west-1").as_bytes()),
        ))
        .await;
    resp.assert_error(409, "BucketAlreadyOwnedByYou", None);
    assert_eq!(resp.xml("BucketName").as_deref(), Some("existing"));
    assert_eq!(resp.body_text().matches("<BucketName>").count(), 1);
    let loc = s.send(&sign(Raw::new("GET", "/b-ok?location"))).await;
    assert!(
        loc.body_text().ends_with(">eu-west-1</LocationConstraint>"),
        "{}",
        loc.body_text()
    );
    let head = s.send(&sign(Raw::new("HEAD", "/b-ok"))).await;
    assert_eq!(head.header("x-amz-bucket-region"), Some("eu-west-1"));
    s.send(&sign(Raw::new("PUT", "/Bad_Name")))
        .await
        .assert_error(
            400,
            "InvalidBucketName",
            Some("The specified bucket is not valid."),
        );
}

/// Findings of the foundation review, each pinned by a test.
mod review {
    use super::*;

    #[tokio::test]
    async fn delete_objects_keeps_keys_verbatim() {
        let s = TestServer::default().await;
        let now = s.clock_now();
        for key in ["x & y", "x&y", " lead", "tail "] {
            let path = format!("/bkt/{}", strict_s3::auth::sigv4::uri_encode_path(key));
            s.put(&path, b"v").await;
        }
        let doc = b"<Delete><Object><Key>x &amp; y</Key></Object><Object><Key> lead</Key></Object><Quiet> true </Quiet></Delete>";
        let resp = s
            .send(
                &Raw::new("POST", "/bkt?delete")
                    .header("content-md5", &b64md5(doc))
                    .body(doc)
                    .sign(&s.host, SK, REGION, now),
            )
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body_text());
        let storage = s.handle.storage();
        assert!(
            storage.head_object("bkt", "x & y").await.is_err(),
            "the named key is deleted"
        );
        assert!(storage.head_object("bkt", " lead").await.is_err());
        assert!(
            storage.head_object("bkt", "x&y").await.is_ok(),
            "a different key is untouched"
        );
        assert!(storage.head_object("bkt", "tail ").await.is_ok());
    }

    #[tokio::test]
    async fn a_literal_plus_in_the_path_is_a_space() {
        let s = TestServer::default().await;
        let now = s.clock_now();
        // Signed the way AWS canonicalises `/bkt/a+b`: as `/bkt/a%20b`.
        let signed = Raw::new("PUT", "/bkt/a%20b")
            .body(b"plus")
            .sign(&s.host, SK, REGION, now);
        let sent = Raw {
            target: "/bkt/a+b".into(),
            ..signed
        };
        assert_eq!(s.send(&sent).await.status, 200);
        assert!(s.handle.storage().head_object("bkt", "a b").await.is_ok());
        // Signed with the `+` kept literally (`%2B`): not what S3 computes.
        let literal = Raw::new("PUT", "/bkt/a+b")
            .body(b"plus")
            .sign(&s.host, SK, REGION, now);
        s.send(&literal)
            .await
            .assert_error(403, "SignatureDoesNotMatch", None);
        // `%2B` is a plus.
        s.put("/bkt/c%2Bd", b"x").await;
        assert!(s.handle.storage().head_object("bkt", "c+d").await.is_ok());
    }

    #[tokio::test]
    async fn far_future_and_far_past_dates_do_not_panic() {
        let s = TestServer::default().await;
        let url = Raw::new("GET", "/bkt/k").presign(
            &s.host,
            SK,
            REGION,
            st(time::macros::datetime!(9999-12-31 23:59:59 UTC)),
            Duration::from_secs(1),
        );
        s.send(&url)
            .await
            .assert_error(403, "AccessDenied", Some("Request is not yet valid"));
        let url = Raw::new("GET", "/bkt/k").presign(
            &s.host,
            SK,
            REGION,
            st(time::macros::datetime!(1970-01-01 00:00:00 UTC)),
            Duration::from_secs(604800),
        );
        s.send(&url)
            .await
            .assert_error(403, "AccessDenied", Some("Request has expired"));
    }

    #[tokio::test]
    async fn overrides_are_validated_and_allowed_on_head() {
        let s = TestServer::default().await;
        s.put("/bkt/o", b"x").await;
        let now = s.clock_now();
        let bad = Raw::new("GET", "/bkt/o?response-content-type=a%0Ab").presign(
            &s.host,
            SK,
            REGION,
            now,
            Duration::from_secs(60),
        );
        let resp = s.send(&bad).await;
        resp.assert_error(400, "InvalidArgument", None);
        assert_eq!(
            resp.xml("ArgumentName").as_deref(),
            Some("response-content-type")
        );
        let head = Raw::new("HEAD", "/bkt/o?response-content-type=text%2Fx")
            .sign(&s.host, SK, REGION, now);
        let resp = s.send(&head).await;
        assert_eq!(
            (resp.status, resp.header("content-type")),
            (200, Some("text/x"))
        );
    }

    #[tokio::test]
    async fn a_stalled_body_times_out() {
        let mut config = Config {
            buckets: vec!["bkt".into()],
            ..Config::in_memory()
        };
        config.limits.body_idle_timeout = Duration::from_millis(300);
        let s = TestServer::start(config, t0()).await;
        s.put("/bkt/k", b"previous").await;
        let signed = Raw::new("PUT", "/bkt/k").body(b"0123456789").sign_with(
            &s.host,
            AK,
            SK,
            REGION,
            "s3",
            s.clock_now(),
            PayloadMode::Unsigned,
        );
        let mut stream = send_partial(&s.host, &signed, 3).await;
        let resp = parse_response(&read_response_lenient(&mut stream).await, false);
        resp.assert_error(400, "RequestTimeout", None);
        assert_eq!(get_body(&s, "/bkt/k").await.body, b"previous");
    }

    #[tokio::test]
    async fn decoded_length_counts_only_for_aws_chunked_bodies() {
        let s = TestServer::default().await;
        let now = s.clock_now();
        let req = Raw::new("PUT", "/bkt/k")
            .header("x-amz-decoded-content-length", "6000000000")
            .body(b"twenty bytes of data");
        let resp = s.send(&req.sign(&s.host, SK, REGION, now)).await;
        assert_eq!(
            resp.status,
            200,
            "a plain body is sized by Content-Length: {}",
            resp.body_text()
        );
    }

    #[tokio::test]
    async fn non_ascii_header_values_are_stored() {
        let s = TestServer::default().await;
        let now = s.clock_now();
        let cd = "attachment; filename=\"caf\u{e9}.txt\"";
        let resp = s
            .send(
                &Raw::new("PUT", "/bkt/cafe")
                    .header("content-disposition", cd)
                    .body(b"x")
                    .sign(&s.host, SK, REGION, now),
            )
            .await;
        assert_eq!(resp.status, 200);
        let meta = s.handle.storage().head_object("bkt", "cafe").await.unwrap();
        assert_eq!(meta.attrs.content_disposition.as_deref(), Some(cd));
    }

    #[tokio::test]
    async fn made_up_continuation_tokens_are_refused() {
        let s = TestServer::default().await;
        s.put("/bkt/a", b"x").await;
        s.put("/bkt/b", b"x").await;
        let now = s.clock_now();
        let made_up = base64::engine::general_purpose::STANDARD.encode("a");
        let resp = s
            .send(
                &Raw::new(
                    "GET",
                    &format!(
                        "/bkt?list-type=2&continuation-token={}",
                        strict_s3::auth::sigv4::uri_encode(&made_up)
                    ),
                )
                .sign(&s.host, SK, REGION, now),
            )
            .await;
        resp.assert_error(
            400,
            "InvalidArgument",
            Some("The continuation token provided is incorrect"),
        );
        // The twin: the server's own token pages on.
        let first = s
            .send(&Raw::new("GET", "/bkt?list-type=2&max-keys=1").sign(&s.host, SK, REGION, now))
            .await;
        let token = first.xml("NextContinuationToken").unwrap();
        let next = s
            .send(
                &Raw::new(
                    "GET",
                    &format!(
                        "/bkt?list-type=2&continuation-token={}",
                        strict_s3::auth::sigv4::uri_encode(&token)
                    ),
                )
                .sign(&s.host, SK, REGION, now),
            )
            .await;
        assert_eq!(next.xml("Key").as_deref(), Some("b"));
    }

    #[tokio::test]
    async fn sigv2_can_be_refused_as_on_new_aws_buckets() {
        let s = TestServer::start(
            Config {
                buckets: vec!["bkt".into()],
                reject_sigv2: true,
                ..Config::in_memory()
            },
            t0(),
        )
        .await;
        let url = format!("/bkt/k?AWSAccessKeyId={AK}&Expires=9999999999&Signature=abc");
        s.send(&Raw::new("GET", &url)).await.assert_error(
            400,
            "InvalidRequest",
            Some("The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."),
        );
        let v4 = Raw::new("GET", "/bkt").sign(&s.host, SK, REGION, s.clock_now());
        assert_eq!(s.send(&v4).await.status, 200);
    }
}
