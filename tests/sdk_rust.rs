//! The real `aws-sdk-s3` crate against an in-process server.
//!
//! Every test starts its own server (in memory, `127.0.0.1:0`) with a [`ManualClock`]
//! that starts at the real time, so the SDK's own signatures are valid; tests that need
//! expiry move the clock. The SDK keeps its default checksum behaviour: in-memory bodies
//! carry an `x-amz-checksum-crc32` header, streaming bodies (`ByteStream::from_path`) go
//! out as signed `aws-chunked` with a trailing CRC32 — both must be accepted.
//! Presigned URLs are exercised with `reqwest`, and their negative twins assert the exact
//! status and the `<Code>` of the S3 error document.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{
    ChecksumMode, Delete, MetadataDirective, ObjectIdentifier, ServerSideEncryption,
};
use base64::Engine;
use sha2::{Digest, Sha256};
use strict_s3::config::{DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};
use strict_s3::{Config, ManualClock, Server, ServerHandle, StorageConfig};

const BUCKET: &str = "sdk-bucket";

// ---- fixtures ----

struct Env {
    server: ServerHandle,
    clock: Arc<ManualClock>,
    client: Client,
}

impl Env {
    async fn start(buckets: &[&str]) -> Env {
        Env::start_with(Config {
            buckets: buckets.iter().map(|b| (*b).into()).collect(),
            ..Config::in_memory()
        })
        .await
    }

    async fn start_with(config: Config) -> Env {
        let clock = Arc::new(ManualClock::starting_now());
        let server = Server::builder()
            .config(config)
            .clock(clock.clone())
            .start()
            .await
            .expect("server starts");
        let client = client(
            &server.endpoint(),
            DEFAULT_ACCESS_KEY,
            DEFAULT_SECRET_KEY,
            "us-east-1",
        );
        Env {
            server,
            clock,
            client,
        }
    }

    async fn put(&self, key: &str, body: &[u8]) {
        self.client
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {key}: {}", describe(&e)));
    }

    async fn get_bytes(&self, key: &str) -> Vec<u8> {
        let out = self
            .client
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("get {key}: {}", describe(&e)));
        out.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .to_vec()
    }
}

fn client(endpoint: &str, access_key: &str, secret_key: &str, region: &str) -> Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .endpoint_url(endpoint)
        .force_path_style(true)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(access_key, secret_key, None, None, "test"))
        .build();
    Client::from_conf(config)
}

/// A readable account of an SDK error: code, message and HTTP status.
fn describe<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    e: &SdkError<E, R>,
) -> String {
    match e {
        SdkError::ServiceError(s) => format!(
            "service error {:?}: {:?} ({:?})",
            s.err().code(),
            s.err().message(),
            s.raw()
        ),
        other => format!("{other:?}"),
    }
}

/// The HTTP status of a service error.
fn status<E: std::fmt::Debug>(e: &SdkError<E, HttpResponse>) -> u16 {
    e.raw_response()
        .map(|r| r.status().as_u16())
        .unwrap_or_else(|| panic!("no HTTP response in {e:?}"))
}

fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// Deterministic, non-repeating test data.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9 ^ u32::from(seed);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// CRC-32 (ISO-HDLC), computed here independently of the server.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// The text of `<Name>` in an XML document.
fn xml_element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(&xml[start..end])
}

/// Sends a presigned request (its method, URL and headers) with `reqwest`.
async fn send_presigned(
    p: &PresignedRequest,
    method: &str,
    uri: &str,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = reqwest::Client::new().request(method, uri);
    for (k, v) in p.headers() {
        req = req.header(k, v);
    }
    let resp = req.body(body).send().await.expect("request sent");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("response body").to_vec();
    (status, body)
}

/// Asserts an S3 error response: status, `<Code>` and (when given) `<Message>`.
fn assert_s3_error(got: &(u16, Vec<u8>), status: u16, code: &str, message: Option<&str>) {
    let body = String::from_utf8_lossy(&got.1);
    assert_eq!(got.0, status, "status; body: {body}");
    assert_eq!(xml_element(&body, "Code"), Some(code), "code; body: {body}");
    if let Some(m) = message {
        assert_eq!(
            xml_element(&body, "Message"),
            Some(m),
            "message; body: {body}"
        );
    }
    assert!(
        xml_element(&body, "RequestId").is_some_and(|id| !id.is_empty()),
        "RequestId; body: {body}"
    );
}

fn presigning(secs: u64) -> PresigningConfig {
    PresigningConfig::expires_in(Duration::from_secs(secs)).expect("presigning config")
}

// ---- buckets ----

#[tokio::test]
async fn bucket_lifecycle_create_list_head_location_delete() {
    let env = Env::start(&[]).await;
    let c = &env.client;

    c.create_bucket()
        .bucket("alpha-bucket")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    c.create_bucket()
        .bucket("beta-bucket")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));

    let list = c
        .list_buckets()
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    let names: Vec<&str> = list.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["alpha-bucket", "beta-bucket"]);
    assert!(list.buckets().iter().all(|b| b.creation_date().is_some()));
    assert!(list.owner().and_then(|o| o.id()).is_some(), "owner id");

    c.head_bucket()
        .bucket("alpha-bucket")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));

    let loc = c
        .get_bucket_location()
        .bucket("alpha-bucket")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    // us-east-1 is reported as an empty LocationConstraint.
    assert_eq!(
        loc.location_constraint().map(|l| l.as_str()).unwrap_or(""),
        ""
    );

    c.delete_bucket()
        .bucket("beta-bucket")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    let err = c
        .head_bucket()
        .bucket("beta-bucket")
        .send()
        .await
        .expect_err("deleted bucket");
    assert_eq!(status(&err), 404);
    let names: Vec<String> = c
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    assert_eq!(names, ["alpha-bucket"]);
}

#[tokio::test]
async fn delete_non_empty_bucket_is_bucket_not_empty() {
    let env = Env::start(&[BUCKET]).await;
    env.put("keep", b"x").await;
    let err = env
        .client
        .delete_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect_err("non-empty");
    assert_eq!(err.code(), Some("BucketNotEmpty"), "{}", describe(&err));
    assert_eq!(status(&err), 409);
}

#[tokio::test]
async fn invalid_bucket_name_is_refused_by_the_server() {
    let env = Env::start(&[]).await;
    // Names the SDK sends as-is (path style) but S3's naming rules reject.
    for name in [
        "ab",
        "Upper-Case-Bucket",
        "under_score",
        "two..dots",
        "192.168.5.4",
    ] {
        let err = env
            .client
            .create_bucket()
            .bucket(name)
            .send()
            .await
            .expect_err(name);
        assert_eq!(
            err.code(),
            Some("InvalidBucketName"),
            "{name}: {}",
            describe(&err)
        );
        assert_eq!(status(&err), 400, "{name}");
    }
}

// ---- objects ----

#[tokio::test]
async fn put_get_round_trip_with_metadata() {
    let env = Env::start(&[BUCKET]).await;
    let body = pattern(10_000, 1);
    let expires = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
    let put = env
        .client
        .put_object()
        .bucket(BUCKET)
        .key("dir/meta file+ü.bin")
        .body(ByteStream::from(body.clone()))
        .content_type("application/x-test")
        .content_disposition("attachment; filename=\"a.bin\"")
        .cache_control("max-age=60")
        .content_encoding("gzip")
        .content_language("en-GB")
        .expires(DateTime::from(expires))
        .metadata("color", "blue")
        .metadata("two-words", "hello world")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    let etag = put.e_tag().expect("etag").to_string();
    assert_eq!(
        etag,
        format!("\"{}\"", hex::encode(md5::Md5::digest(&body))),
        "single-part ETag is the MD5 of the body"
    );

    let got = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("dir/meta file+ü.bin")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    assert_eq!(got.content_type(), Some("application/x-test"));
    assert_eq!(
        got.content_disposition(),
        Some("attachment; filename=\"a.bin\"")
    );
    assert_eq!(got.cache_control(), Some("max-age=60"));
    assert_eq!(got.content_encoding(), Some("gzip"));
    assert_eq!(got.content_language(), Some("en-GB"));
    assert_eq!(
        got.expires_string(),
        Some(httpdate::fmt_http_date(expires).as_str())
    );
    assert_eq!(got.content_length(), Some(body.len() as i64));
    assert!(got.last_modified().is_some());
    let meta = got.metadata().expect("metadata");
    let want: HashMap<String, String> = [("color", "blue"), ("two-words", "hello world")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(meta, &want);
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(sha256(&bytes), sha256(&body));

    let head = env
        .client
        .head_object()
        .bucket(BUCKET)
        .key("dir/meta file+ü.bin")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    assert_eq!(head.content_length(), Some(body.len() as i64));
    assert_eq!(head.content_type(), Some("application/x-test"));
    assert_eq!(head.metadata(), Some(&want));
}

#[tokio::test]
async fn five_mib_in_memory_put_get() {
    let env = Env::start(&[BUCKET]).await;
    let body = pattern(5 * 1024 * 1024, 2);
    env.put("big-in-memory", &body).await;
    let got = env.get_bytes("big-in-memory").await;
    assert_eq!(got.len(), body.len());
    assert_eq!(sha256(&got), sha256(&body));
}

/// A streaming body: the SDK sends signed aws-chunked with a trailing CRC32 (and
/// appends `aws-chunked` to a user Content-Encoding, which S3 must not store).
#[tokio::test]
async fn five_mib_streaming_aws_chunked_put_get() {
    let env = Env::start(&[BUCKET]).await;
    let body = pattern(5 * 1024 * 1024 + 17, 3);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &body).unwrap();
    let put = env
        .client
        .put_object()
        .bucket(BUCKET)
        .key("big-streamed")
        .content_encoding("gzip")
        .body(ByteStream::from_path(file.path()).await.unwrap())
        .send()
        .await
        .unwrap_or_else(|e| panic!("aws-chunked put: {}", describe(&e)));
    let expected_crc = base64::engine::general_purpose::STANDARD.encode(crc32(&body).to_be_bytes());
    let got = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("big-streamed")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    assert_eq!(got.content_length(), Some(body.len() as i64));
    assert_eq!(
        got.content_encoding(),
        Some("gzip"),
        "aws-chunked is stripped from the stored Content-Encoding"
    );
    let got_crc = got.checksum_crc32().map(str::to_string);
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(sha256(&bytes), sha256(&body));
    // The trailing CRC32 is the object's checksum: echoed by PutObject, kept for GetObject.
    assert_eq!(
        put.checksum_crc32(),
        Some(expected_crc.as_str()),
        "PutObject echoes the trailer checksum"
    );
    assert_eq!(
        got_crc.as_deref(),
        Some(expected_crc.as_str()),
        "GetObject with checksum mode returns the trailer checksum"
    );
}

#[tokio::test]
async fn small_streaming_put_without_content_encoding() {
    let env = Env::start(&[BUCKET]).await;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"hello, chunks").unwrap();
    env.client
        .put_object()
        .bucket(BUCKET)
        .key("small-streamed")
        .body(ByteStream::from_path(file.path()).await.unwrap())
        .send()
        .await
        .unwrap_or_else(|e| panic!("aws-chunked put: {}", describe(&e)));
    let got = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("small-streamed")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.content_encoding(),
        None,
        "aws-chunked alone leaves no Content-Encoding"
    );
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"hello, chunks"
    );
}

#[tokio::test]
async fn empty_object() {
    let env = Env::start(&[BUCKET]).await;
    env.put("empty", b"").await;
    assert_eq!(env.get_bytes("empty").await, b"");
    let head = env
        .client
        .head_object()
        .bucket(BUCKET)
        .key("empty")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(0));
    assert_eq!(
        head.e_tag(),
        Some("\"d41d8cd98f00b204e9800998ecf8427e\""),
        "MD5 of nothing"
    );
}

#[tokio::test]
async fn range_get_is_partial_content() {
    let env = Env::start(&[BUCKET]).await;
    let body = pattern(1000, 4);
    // Stored with the SDK's default CRC32; the SDK also asks for checksum mode on every
    // GetObject and validates any full-object checksum it gets back against the body.
    env.put("ranged", &body).await;
    let got = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("ranged")
        .range("bytes=10-19")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    assert_eq!(got.content_range(), Some("bytes 10-19/1000"));
    assert_eq!(got.content_length(), Some(10));
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(bytes.as_ref(), &body[10..20]);

    let suffix = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("ranged")
        .range("bytes=-5")
        .send()
        .await
        .unwrap();
    assert_eq!(suffix.content_range(), Some("bytes 995-999/1000"));
    let bytes = suffix.body.collect().await.unwrap().into_bytes();
    assert_eq!(bytes.as_ref(), &body[995..]);

    let err = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("ranged")
        .range("bytes=5000-6000")
        .send()
        .await
        .expect_err("unsatisfiable");
    assert_eq!(err.code(), Some("InvalidRange"), "{}", describe(&err));
    assert_eq!(status(&err), 416);

    // A ranged HEAD with checksum mode gets no whole-object checksum either (S3 sends
    // none for a range: the digest covers the whole object, not the bytes returned).
    let head = env
        .client
        .head_object()
        .bucket(BUCKET)
        .key("ranged")
        .range("bytes=0-2")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.checksum_crc32(),
        None,
        "ranged HEAD carries no checksum"
    );
}

#[tokio::test]
async fn list_objects_v2_prefix_delimiter_and_pagination() {
    let env = Env::start(&[BUCKET]).await;
    let keys = ["a/1", "a/2", "a/b/3", "a/b/4", "b/1", "c", "d/e/f", "z"];
    for k in keys {
        env.put(k, k.as_bytes()).await;
    }

    let out = env
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("a/")
        .delimiter("/")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    let contents: Vec<&str> = out.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<&str> = out
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(contents, ["a/1", "a/2"]);
    assert_eq!(prefixes, ["a/b/"]);
    assert_eq!(out.key_count(), Some(3));
    assert_eq!(out.is_truncated(), Some(false));
    assert_eq!(out.prefix(), Some("a/"));
    assert_eq!(out.delimiter(), Some("/"));
    let first = &out.contents()[0];
    assert_eq!(first.size(), Some(3));
    assert_eq!(
        first.e_tag(),
        Some(format!("\"{}\"", hex::encode(md5::Md5::digest(b"a/1"))).as_str())
    );

    // Top level with a delimiter: objects and common prefixes interleave in key order.
    let top = env
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let contents: Vec<&str> = top.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<&str> = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(contents, ["c", "z"]);
    assert_eq!(prefixes, ["a/", "b/", "d/"]);

    // Pagination, 3 keys a page: every key exactly once, in order.
    let pages: Vec<_> = env
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .max_keys(3)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 3);
    let mut listed = Vec::new();
    for (i, page) in pages.into_iter().enumerate() {
        let page = page.unwrap_or_else(|e| panic!("page {i}: {}", describe(&e)));
        assert!(page.key_count().unwrap_or(0) <= 3);
        assert_eq!(page.is_truncated(), Some(i < 2), "page {i}");
        listed.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
    }
    assert_eq!(listed, keys);

    // Pagination with a delimiter counts common prefixes against max-keys.
    let pages: Vec<_> = env
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .delimiter("/")
        .max_keys(2)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut entries = Vec::new();
    for page in pages {
        let page = page.unwrap();
        entries.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
        entries.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string)),
        );
    }
    entries.sort();
    assert_eq!(entries, ["a/", "b/", "c", "d/", "z"]);

    // start-after
    let after = env
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .start_after("b/1")
        .send()
        .await
        .unwrap();
    let contents: Vec<&str> = after.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(contents, ["c", "d/e/f", "z"]);
}

#[tokio::test]
async fn copy_object_copy_and_replace() {
    let env = Env::start(&[BUCKET]).await;
    env.client
        .put_object()
        .bucket(BUCKET)
        .key("src")
        .body(ByteStream::from_static(b"copy me"))
        .content_type("text/plain")
        .metadata("origin", "source")
        .send()
        .await
        .unwrap();

    // COPY (the default directive): body and metadata come along.
    let copied = env
        .client
        .copy_object()
        .bucket(BUCKET)
        .key("dst-copy")
        .copy_source(format!("{BUCKET}/src"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    let result = copied.copy_object_result().expect("CopyObjectResult");
    assert_eq!(
        result.e_tag(),
        Some(format!("\"{}\"", hex::encode(md5::Md5::digest(b"copy me"))).as_str())
    );
    assert!(result.last_modified().is_some());
    let got = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("dst-copy")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("origin"))
            .map(String::as_str),
        Some("source")
    );
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"copy me"
    );

    // REPLACE: new metadata, old body.
    env.client
        .copy_object()
        .bucket(BUCKET)
        .key("dst-replace")
        .copy_source(format!("{BUCKET}/src"))
        .metadata_directive(MetadataDirective::Replace)
        .content_type("application/json")
        .metadata("origin", "replaced")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    let got = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("dst-replace")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/json"));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("origin"))
            .map(String::as_str),
        Some("replaced")
    );
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"copy me"
    );

    // Onto itself with nothing changed: InvalidRequest.
    let err = env
        .client
        .copy_object()
        .bucket(BUCKET)
        .key("src")
        .copy_source(format!("{BUCKET}/src"))
        .send()
        .await
        .expect_err("self copy");
    assert_eq!(err.code(), Some("InvalidRequest"), "{}", describe(&err));

    // Missing source: NoSuchKey.
    let err = env
        .client
        .copy_object()
        .bucket(BUCKET)
        .key("dst")
        .copy_source(format!("{BUCKET}/no-such-source"))
        .send()
        .await
        .expect_err("missing source");
    assert_eq!(err.code(), Some("NoSuchKey"), "{}", describe(&err));
    assert_eq!(status(&err), 404);
}

#[tokio::test]
async fn delete_objects_quiet_and_verbose_and_delete_object() {
    let env = Env::start(&[BUCKET]).await;
    for k in ["d1", "d2", "d3", "d4", "d5"] {
        env.put(k, b"x").await;
    }
    let ids = |keys: &[&str]| -> Delete {
        Delete::builder()
            .set_objects(Some(
                keys.iter()
                    .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
                    .collect(),
            ))
            .build()
            .unwrap()
    };

    // Verbose: every key (even a missing one) is reported deleted.
    let out = env
        .client
        .delete_objects()
        .bucket(BUCKET)
        .delete(ids(&["d1", "d2", "never-existed"]))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    let mut deleted: Vec<&str> = out.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort();
    assert_eq!(deleted, ["d1", "d2", "never-existed"]);
    assert!(out.errors().is_empty());

    // Quiet: nothing reported on success.
    let mut quiet = ids(&["d3", "d4"]);
    quiet.quiet = Some(true);
    let out = env
        .client
        .delete_objects()
        .bucket(BUCKET)
        .delete(quiet)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    assert!(out.deleted().is_empty(), "{:?}", out.deleted());
    assert!(out.errors().is_empty());

    env.client
        .delete_object()
        .bucket(BUCKET)
        .key("d5")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    // Deleting again is still 204 (S3 does not report missing keys).
    env.client
        .delete_object()
        .bucket(BUCKET)
        .key("d5")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));

    let left = env
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert!(left.contents().is_empty(), "{:?}", left.contents());
    let err = env
        .client
        .head_object()
        .bucket(BUCKET)
        .key("d5")
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(status(&err), 404);
    assert!(err.into_service_error().is_not_found());
}

#[tokio::test]
async fn conditional_get_and_put() {
    let env = Env::start(&[BUCKET]).await;
    let put = env
        .client
        .put_object()
        .bucket(BUCKET)
        .key("cond")
        .body(ByteStream::from_static(b"v1"))
        .if_none_match("*")
        .send()
        .await
        .unwrap_or_else(|e| panic!("first conditional put: {}", describe(&e)));
    let etag = put.e_tag().unwrap().to_string();

    // If-None-Match with the current ETag: 304 Not Modified, which the SDK surfaces as an error.
    let err = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("cond")
        .if_none_match(&etag)
        .send()
        .await
        .expect_err("304");
    assert_eq!(status(&err), 304, "{}", describe(&err));

    // A different ETag: the object comes back.
    let ok = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("cond")
        .if_none_match("\"0123456789abcdef0123456789abcdef\"")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.body.collect().await.unwrap().into_bytes().as_ref(),
        b"v1"
    );

    // If-Match with a wrong ETag: 412.
    let err = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("cond")
        .if_match("\"0123456789abcdef0123456789abcdef\"")
        .send()
        .await
        .expect_err("412");
    assert_eq!(err.code(), Some("PreconditionFailed"), "{}", describe(&err));
    assert_eq!(status(&err), 412);

    // The second create-only put fails: 412 PreconditionFailed, and v1 stays.
    let err = env
        .client
        .put_object()
        .bucket(BUCKET)
        .key("cond")
        .body(ByteStream::from_static(b"v2"))
        .if_none_match("*")
        .send()
        .await
        .expect_err("second conditional put");
    assert_eq!(err.code(), Some("PreconditionFailed"), "{}", describe(&err));
    assert_eq!(status(&err), 412);
    assert_eq!(env.get_bytes("cond").await, b"v1");
}

#[tokio::test]
async fn checksum_mode_enabled_returns_crc32() {
    let env = Env::start(&[BUCKET]).await;
    let body = pattern(4096, 5);
    let expected = base64::engine::general_purpose::STANDARD.encode(crc32(&body).to_be_bytes());
    let put = env
        .client
        .put_object()
        .bucket(BUCKET)
        .key("summed")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    assert_eq!(put.checksum_crc32(), Some(expected.as_str()));

    let got = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("summed")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    assert_eq!(got.checksum_crc32(), Some(expected.as_str()));
    // The SDK validates the body against the returned checksum as it reads.
    let bytes = got
        .body
        .collect()
        .await
        .expect("validated body")
        .into_bytes();
    assert_eq!(sha256(&bytes), sha256(&body));

    let head = env
        .client
        .head_object()
        .bucket(BUCKET)
        .key("summed")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc32(), Some(expected.as_str()));
}

#[tokio::test]
async fn sse_request_is_echoed() {
    // SSE-S3 (AES256) is accepted and echoed, as S3 does (all objects are encrypted there).
    let env = Env::start(&[BUCKET]).await;
    let put = env
        .client
        .put_object()
        .bucket(BUCKET)
        .key("sse")
        .body(ByteStream::from_static(b"secret"))
        .server_side_encryption(ServerSideEncryption::Aes256)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    assert_eq!(
        put.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
}

// ---- SDK-level errors ----

#[tokio::test]
async fn missing_key_and_missing_bucket() {
    let env = Env::start(&[BUCKET]).await;
    let err = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("nope")
        .send()
        .await
        .expect_err("missing key");
    assert_eq!(err.code(), Some("NoSuchKey"), "{}", describe(&err));
    assert_eq!(err.message(), Some("The specified key does not exist."));
    assert_eq!(status(&err), 404);
    assert!(err.into_service_error().is_no_such_key());

    let err = env
        .client
        .get_object()
        .bucket("no-such-bucket")
        .key("nope")
        .send()
        .await
        .expect_err("missing bucket");
    assert_eq!(err.code(), Some("NoSuchBucket"), "{}", describe(&err));
    assert_eq!(err.message(), Some("The specified bucket does not exist"));
    assert_eq!(status(&err), 404);

    let err = env
        .client
        .list_objects_v2()
        .bucket("no-such-bucket")
        .send()
        .await
        .expect_err("missing bucket");
    assert_eq!(err.into_service_error().meta().code(), Some("NoSuchBucket"));
}

#[tokio::test]
async fn wrong_secret_is_signature_does_not_match() {
    let env = Env::start(&[BUCKET]).await;
    let bad = client(
        &env.server.endpoint(),
        DEFAULT_ACCESS_KEY,
        "wrong-secret-wrong-secret-wrong-secret00",
        "us-east-1",
    );
    let err = bad
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .expect_err("wrong secret");
    assert_eq!(status(&err), 403);
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("SignatureDoesNotMatch")
    );

    // The same through a put (in-memory body with a checksum header) and a streamed
    // aws-chunked put (whose seed signature is already wrong).
    let err = bad
        .put_object()
        .bucket(BUCKET)
        .key("k")
        .body(ByteStream::from_static(b"data"))
        .send()
        .await
        .expect_err("wrong secret put");
    assert_eq!(
        err.code(),
        Some("SignatureDoesNotMatch"),
        "{}",
        describe(&err)
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"streamed data").unwrap();
    let err = bad
        .put_object()
        .bucket(BUCKET)
        .key("k")
        .body(ByteStream::from_path(file.path()).await.unwrap())
        .send()
        .await
        .expect_err("wrong secret streamed put");
    assert_eq!(
        err.code(),
        Some("SignatureDoesNotMatch"),
        "{}",
        describe(&err)
    );

    // Nothing was stored.
    let list = env
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert!(list.contents().is_empty());
}

#[tokio::test]
async fn unknown_access_key_is_invalid_access_key_id() {
    let env = Env::start(&[BUCKET]).await;
    let bad = client(
        &env.server.endpoint(),
        "AKIAUNKNOWNKEY000000",
        DEFAULT_SECRET_KEY,
        "us-east-1",
    );
    let err = bad.list_buckets().send().await.expect_err("unknown key");
    assert_eq!(err.code(), Some("InvalidAccessKeyId"), "{}", describe(&err));
    assert_eq!(status(&err), 403);
    assert_eq!(
        err.message(),
        Some("The AWS Access Key Id you provided does not exist in our records.")
    );
}

/// A client for eu-west-1 on a us-east-1 bucket, path-style: as on AWS (that region's
/// endpoint redirects), 301 PermanentRedirect naming the bucket's region, which the Rust
/// SDK does not follow; a scope naming no AWS region is AuthorizationHeaderMalformed.
#[tokio::test]
async fn wrong_region_is_a_redirect_and_a_bad_region_malformed() {
    let env = Env::start(&[BUCKET]).await;
    let client_in = |region| {
        client(
            &env.server.endpoint(),
            DEFAULT_ACCESS_KEY,
            DEFAULT_SECRET_KEY,
            region,
        )
    };
    let err = client_in("eu-west-1")
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .expect_err("wrong region");
    assert_eq!(err.code(), Some("PermanentRedirect"), "{}", describe(&err));
    assert_eq!(status(&err), 301);
    let err = client_in("eu-west-9")
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .expect_err("not a region");
    assert_eq!(
        err.code(),
        Some("AuthorizationHeaderMalformed"),
        "{}",
        describe(&err)
    );
    assert_eq!(status(&err), 400);
    assert_eq!(
        err.message(),
        Some(
            "The authorization header is malformed; the region 'eu-west-9' is wrong; expecting 'us-east-1'"
        )
    );
    // Twin: ListBuckets works from any region's endpoint, as on AWS.
    let buckets = client_in("eu-west-1").list_buckets().send().await.unwrap();
    assert_eq!(buckets.buckets().len(), 1);
}

// ---- presigned URLs ----

#[tokio::test]
async fn presigned_get_and_put_work() {
    let env = Env::start(&[BUCKET]).await;
    env.put("presigned-get", b"fetched by URL").await;

    let get = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("presigned-get")
        .presigned(presigning(300))
        .await
        .unwrap();
    assert!(get.uri().contains("X-Amz-Signature="), "{}", get.uri());
    let resp = send_presigned(&get, get.method(), get.uri(), Vec::new()).await;
    assert_eq!(resp.0, 200, "{}", String::from_utf8_lossy(&resp.1));
    assert_eq!(resp.1, b"fetched by URL");

    let body = pattern(70_000, 6);
    let put = env
        .client
        .put_object()
        .bucket(BUCKET)
        .key("presigned-put")
        .content_type("application/octet-stream")
        .presigned(presigning(300))
        .await
        .unwrap();
    assert_eq!(put.method(), "PUT");
    let resp = send_presigned(&put, put.method(), put.uri(), body.clone()).await;
    assert_eq!(resp.0, 200, "{}", String::from_utf8_lossy(&resp.1));
    let got = env.get_bytes("presigned-put").await;
    assert_eq!(sha256(&got), sha256(&body));
}

#[tokio::test]
async fn presigned_get_expires() {
    let env = Env::start(&[BUCKET]).await;
    env.put("expiring", b"soon gone").await;
    let get = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("expiring")
        .presigned(presigning(60))
        .await
        .unwrap();
    let ok = send_presigned(&get, "GET", get.uri(), Vec::new()).await;
    assert_eq!(ok.0, 200);

    env.clock.advance(Duration::from_secs(120));
    let resp = send_presigned(&get, "GET", get.uri(), Vec::new()).await;
    assert_s3_error(&resp, 403, "AccessDenied", Some("Request has expired"));
    let body = String::from_utf8_lossy(&resp.1);
    assert_eq!(xml_element(&body, "X-Amz-Expires"), Some("60"), "{body}");
    assert!(xml_element(&body, "Expires").is_some(), "{body}");
    assert!(xml_element(&body, "ServerTime").is_some(), "{body}");
}

#[tokio::test]
async fn presigned_get_used_with_put_is_signature_mismatch() {
    let env = Env::start(&[BUCKET]).await;
    env.put("target", b"original").await;
    let get = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("target")
        .presigned(presigning(300))
        .await
        .unwrap();
    let resp = send_presigned(&get, "PUT", get.uri(), b"overwritten".to_vec()).await;
    assert_s3_error(&resp, 403, "SignatureDoesNotMatch", None);
    let body = String::from_utf8_lossy(&resp.1);
    assert!(
        xml_element(&body, "CanonicalRequest").is_some_and(|c| c.starts_with("PUT\n")),
        "the canonical request the server computed is in the error: {body}"
    );
    assert_eq!(env.get_bytes("target").await, b"original");
}

#[tokio::test]
async fn presigned_tampered_signature_is_signature_mismatch() {
    let env = Env::start(&[BUCKET]).await;
    env.put("target", b"original").await;
    let get = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("target")
        .presigned(presigning(300))
        .await
        .unwrap();
    let uri = get.uri().to_string();
    let at = uri.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let mut tampered = uri.clone().into_bytes();
    tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap();
    let resp = send_presigned(&get, "GET", &tampered, Vec::new()).await;
    assert_s3_error(&resp, 403, "SignatureDoesNotMatch", None);

    // A signature that is not even hex of the right length is also a mismatch.
    let short = &uri[..uri.len() - 2];
    let resp = send_presigned(&get, "GET", short, Vec::new()).await;
    assert_eq!(resp.0, 403, "{}", String::from_utf8_lossy(&resp.1));
}

#[tokio::test]
async fn presigned_url_for_another_key_is_signature_mismatch() {
    let env = Env::start(&[BUCKET]).await;
    env.put("allowed", b"yes").await;
    env.put("forbidden", b"no").await;
    let get = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("allowed")
        .presigned(presigning(300))
        .await
        .unwrap();
    let other = get.uri().replacen("/allowed?", "/forbidden?", 1);
    assert_ne!(other, get.uri());
    let resp = send_presigned(&get, "GET", &other, Vec::new()).await;
    assert_s3_error(&resp, 403, "SignatureDoesNotMatch", None);
}

#[tokio::test]
async fn presigned_put_with_different_content_type_is_signature_mismatch() {
    let env = Env::start(&[BUCKET]).await;
    let put = env
        .client
        .put_object()
        .bucket(BUCKET)
        .key("typed")
        .content_type("image/png")
        .presigned(presigning(300))
        .await
        .unwrap();
    let method = reqwest::Method::PUT;
    let resp = reqwest::Client::new()
        .request(method, put.uri())
        .header("content-type", "text/html")
        .body(b"<script>".to_vec())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap().to_vec();
    assert_s3_error(&(status, body), 403, "SignatureDoesNotMatch", None);
}

// ---- disk persistence ----

#[tokio::test]
async fn disk_store_keeps_objects_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = || Config {
        storage: StorageConfig::Disk(dir.path().to_path_buf()),
        buckets: vec![BUCKET.into()],
        ..Config::in_memory()
    };
    let body = pattern(300_000, 7);

    let env = Env::start_with(config()).await;
    env.client
        .put_object()
        .bucket(BUCKET)
        .key("persist/me.bin")
        .body(ByteStream::from(body.clone()))
        .content_type("application/x-persist")
        .metadata("kept", "yes")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    env.client
        .create_bucket()
        .bucket("second-bucket")
        .send()
        .await
        .unwrap();
    let Env { server, client, .. } = env;
    drop(client);
    server.shutdown().await;

    let env = Env::start_with(config()).await;
    let names: Vec<String> = env
        .client
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    assert_eq!(names, [BUCKET, "second-bucket"]);
    let list = env
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = list.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["persist/me.bin"]);
    assert_eq!(list.contents()[0].size(), Some(body.len() as i64));
    let got = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("persist/me.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/x-persist"));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("kept"))
            .map(String::as_str),
        Some("yes")
    );
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(sha256(&bytes), sha256(&body));
    env.server.shutdown().await;
}

// ---- multipart ----

use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};

const MIB: usize = 1024 * 1024;

/// Creates an upload and stores parts through the SDK (default checksums on).
async fn upload_parts(
    env: &Env,
    key: &str,
    parts: &[Vec<u8>],
    checksum: Option<ChecksumAlgorithm>,
) -> (String, Vec<CompletedPart>) {
    let created = env
        .client
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .content_type("application/x-test")
        .set_checksum_algorithm(checksum.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("create: {}", describe(&e)));
    let id = created.upload_id().unwrap().to_string();
    let mut done = Vec::new();
    for (i, body) in parts.iter().enumerate() {
        let n = i as i32 + 1;
        let out = env
            .client
            .upload_part()
            .bucket(BUCKET)
            .key(key)
            .upload_id(&id)
            .part_number(n)
            .set_checksum_algorithm(checksum.clone())
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("part {n}: {}", describe(&e)));
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().unwrap())
                .set_checksum_crc32(out.checksum_crc32().map(str::to_string))
                .build(),
        );
    }
    (id, done)
}

fn md5_of_md5s(parts: &[Vec<u8>]) -> String {
    use md5::Digest as _;
    let mut cat = Vec::new();
    for p in parts {
        cat.extend_from_slice(&md5::Md5::digest(p));
    }
    format!(
        "\"{}-{}\"",
        hex::encode(md5::Md5::digest(&cat)),
        parts.len()
    )
}

#[tokio::test]
async fn multipart_upload_through_the_sdk_with_composite_crc32() {
    let env = Env::start(&[BUCKET]).await;
    let parts = vec![pattern(5 * MIB, 1), pattern(MIB + 7, 2)];
    let (id, done) = upload_parts(
        &env,
        "mp/object.bin",
        &parts,
        Some(ChecksumAlgorithm::Crc32),
    )
    .await;
    assert!(
        done.iter().all(|p| p.checksum_crc32().is_some()),
        "parts echo their CRC32"
    );

    let listed = env
        .client
        .list_parts()
        .bucket(BUCKET)
        .key("mp/object.bin")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.parts().len(), 2);
    assert_eq!(listed.parts()[1].size(), Some((MIB + 7) as i64));
    let uploads = env
        .client
        .list_multipart_uploads()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(uploads.uploads().len(), 1);
    // Not an object until completed.
    let list = env
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(list.key_count(), Some(0));

    let completed = env
        .client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("mp/object.bin")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("complete: {}", describe(&e)));
    assert_eq!(completed.e_tag(), Some(md5_of_md5s(&parts).as_str()));
    let composite = completed.checksum_crc32().unwrap().to_string();
    assert!(composite.ends_with("-2"), "{composite}");

    let whole: Vec<u8> = parts.concat();
    let got = env.get_bytes("mp/object.bin").await;
    assert_eq!(sha256(&got), sha256(&whole));
    let head = env
        .client
        .head_object()
        .bucket(BUCKET)
        .key("mp/object.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("application/x-test"));
    assert_eq!(head.checksum_crc32(), Some(composite.as_str()));
    // Part 2 alone, by number.
    let part2 = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("mp/object.bin")
        .part_number(2)
        .send()
        .await
        .unwrap();
    assert_eq!(part2.parts_count(), Some(2));
    let bytes = part2.body.collect().await.unwrap().into_bytes();
    assert_eq!(sha256(&bytes), sha256(&parts[1]));
    // The upload is gone.
    let err = env
        .client
        .list_parts()
        .bucket(BUCKET)
        .key("mp/object.bin")
        .upload_id(&id)
        .send()
        .await
        .expect_err("completed uploads are gone");
    assert_eq!(err.code(), Some("NoSuchUpload"), "{}", describe(&err));
    assert_eq!(status(&err), 404);
}

#[tokio::test]
async fn multipart_completion_errors_through_the_sdk() {
    let env = Env::start(&[BUCKET]).await;
    let small = vec![pattern(1024, 3), pattern(1024, 4)];
    let (id, done) = upload_parts(&env, "small", &small, None).await;
    let complete = |parts: Vec<CompletedPart>| {
        env.client
            .complete_multipart_upload()
            .bucket(BUCKET)
            .key("small")
            .upload_id(&id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
    };
    let err = complete(done.clone()).await.expect_err("parts under 5 MiB");
    assert_eq!(
        (err.code(), status(&err)),
        (Some("EntityTooSmall"), 400),
        "{}",
        describe(&err)
    );
    let reversed: Vec<CompletedPart> = done.iter().rev().cloned().collect();
    let err = complete(reversed).await.expect_err("out of order");
    assert_eq!(err.code(), Some("InvalidPartOrder"), "{}", describe(&err));
    let wrong = vec![
        CompletedPart::builder()
            .part_number(1)
            .e_tag("\"00000000000000000000000000000000\"")
            .build(),
    ];
    let err = complete(wrong).await.expect_err("wrong ETag");
    assert_eq!(
        (err.code(), status(&err)),
        (Some("InvalidPart"), 400),
        "{}",
        describe(&err)
    );
    // The last part alone may be small.
    complete(vec![done[1].clone()])
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    assert_eq!(env.get_bytes("small").await, small[1]);

    let (id2, _) = upload_parts(&env, "aborted", &[pattern(10, 5)], None).await;
    env.client
        .abort_multipart_upload()
        .bucket(BUCKET)
        .key("aborted")
        .upload_id(&id2)
        .send()
        .await
        .unwrap();
    let err = env
        .client
        .upload_part()
        .bucket(BUCKET)
        .key("aborted")
        .upload_id(&id2)
        .part_number(2)
        .body(ByteStream::from_static(b"late"))
        .send()
        .await
        .expect_err("aborted");
    assert_eq!(
        (err.code(), status(&err)),
        (Some("NoSuchUpload"), 404),
        "{}",
        describe(&err)
    );
}

#[tokio::test]
async fn presigned_upload_part_urls_are_bound_to_their_part() {
    let env = Env::start(&[BUCKET]).await;
    let created = env
        .client
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("browser-upload")
        .send()
        .await
        .unwrap();
    let id = created.upload_id().unwrap();
    let presign = |n: i32| {
        env.client
            .upload_part()
            .bucket(BUCKET)
            .key("browser-upload")
            .upload_id(id)
            .part_number(n)
            .presigned(presigning(600))
    };
    let parts = [pattern(5 * MIB, 8), pattern(100, 9)];
    let mut done = Vec::new();
    for (i, body) in parts.iter().enumerate() {
        let n = i as i32 + 1;
        let url = presign(n).await.unwrap();
        let (status, _) = send_presigned(&url, "PUT", url.uri(), body.clone()).await;
        assert_eq!(status, 200, "part {n}");
        use md5::Digest as _;
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(format!("\"{}\"", hex::encode(md5::Md5::digest(body))))
                .build(),
        );
    }
    // The URL for part 1, edited to upload part 3: the signature covers partNumber.
    let url = presign(1).await.unwrap();
    let moved = url.uri().replace("partNumber=1", "partNumber=3");
    assert_ne!(moved, url.uri());
    let resp = send_presigned(&url, "PUT", &moved, b"sneaky".to_vec()).await;
    assert_s3_error(&resp, 403, "SignatureDoesNotMatch", None);
    // And it expires like any presigned URL.
    let late = presign(2).await.unwrap();
    env.clock.advance(Duration::from_secs(3600));
    let resp = send_presigned(&late, "PUT", late.uri(), b"late".to_vec()).await;
    assert_s3_error(&resp, 403, "AccessDenied", Some("Request has expired"));
    env.clock.rewind(Duration::from_secs(3600));

    env.client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("browser-upload")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("complete: {}", describe(&e)));
    assert_eq!(
        sha256(&env.get_bytes("browser-upload").await),
        sha256(&parts.concat())
    );
}

// ---- tagging ----

fn sdk_tags(pairs: &[(&str, &str)]) -> aws_sdk_s3::types::Tagging {
    let set = pairs
        .iter()
        .map(|(k, v)| {
            aws_sdk_s3::types::Tag::builder()
                .key(*k)
                .value(*v)
                .build()
                .unwrap()
        })
        .collect();
    aws_sdk_s3::types::Tagging::builder()
        .set_tag_set(Some(set))
        .build()
        .unwrap()
}

fn tag_pairs(set: &[aws_sdk_s3::types::Tag]) -> Vec<(String, String)> {
    set.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

#[tokio::test]
async fn object_and_bucket_tagging_through_the_sdk() {
    let env = Env::start(&[BUCKET]).await;
    let c = &env.client;
    c.put_object()
        .bucket(BUCKET)
        .key("doc")
        .tagging("team=web&review=pending review")
        .body(ByteStream::from_static(b"v1"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    let got = c
        .get_object_tagging()
        .bucket(BUCKET)
        .key("doc")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tag_pairs(got.tag_set()),
        vec![
            ("team".to_string(), "web".to_string()),
            ("review".into(), "pending review".into())
        ]
    );
    let obj = c
        .get_object()
        .bucket(BUCKET)
        .key("doc")
        .send()
        .await
        .unwrap();
    assert_eq!(obj.tag_count(), Some(2));

    // PutObjectTagging (the SDK adds the body's checksum) replaces the set.
    c.put_object_tagging()
        .bucket(BUCKET)
        .key("doc")
        .tagging(sdk_tags(&[("team", "api")]))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    let got = c
        .get_object_tagging()
        .bucket(BUCKET)
        .key("doc")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tag_pairs(got.tag_set()),
        vec![("team".into(), "api".into())]
    );

    // Copy with REPLACE.
    c.copy_object()
        .bucket(BUCKET)
        .key("doc-copy")
        .copy_source(format!("{BUCKET}/doc"))
        .tagging_directive(aws_sdk_s3::types::TaggingDirective::Replace)
        .tagging("copied=yes")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    let got = c
        .get_object_tagging()
        .bucket(BUCKET)
        .key("doc-copy")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tag_pairs(got.tag_set()),
        vec![("copied".into(), "yes".into())]
    );

    // The refusals, as the SDK reports them.
    let eleven: Vec<(String, String)> = (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
    let eleven: Vec<(&str, &str)> = eleven
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let e = c
        .put_object_tagging()
        .bucket(BUCKET)
        .key("doc")
        .tagging(sdk_tags(&eleven))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 400);
    assert_eq!(e.code(), Some("BadRequest"));
    assert_eq!(e.message(), Some("Object tags cannot be greater than 10"));
    let e = c
        .get_object_tagging()
        .bucket(BUCKET)
        .key("absent")
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), e.code()), (404, Some("NoSuchKey")));

    c.delete_object_tagging()
        .bucket(BUCKET)
        .key("doc")
        .send()
        .await
        .unwrap();
    let got = c
        .get_object_tagging()
        .bucket(BUCKET)
        .key("doc")
        .send()
        .await
        .unwrap();
    assert!(got.tag_set().is_empty());
    let obj = c
        .head_object()
        .bucket(BUCKET)
        .key("doc")
        .send()
        .await
        .unwrap();
    assert_eq!(obj.tag_count(), None);

    // Bucket tagging.
    let e = c
        .get_bucket_tagging()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), e.code()), (404, Some("NoSuchTagSet")));
    c.put_bucket_tagging()
        .bucket(BUCKET)
        .tagging(sdk_tags(&[("env", "test"), ("owner", "ci")]))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    let got = c.get_bucket_tagging().bucket(BUCKET).send().await.unwrap();
    assert_eq!(
        tag_pairs(got.tag_set()),
        vec![("env".into(), "test".into()), ("owner".into(), "ci".into())]
    );
    c.delete_bucket_tagging()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let e = c
        .get_bucket_tagging()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("NoSuchTagSet"));
}

#[tokio::test]
async fn a_presigned_put_signs_its_tags() {
    let env = Env::start(&[BUCKET]).await;
    let put = env
        .client
        .put_object()
        .bucket(BUCKET)
        .key("tagged")
        .tagging("source=presigned")
        .presigned(presigning(300))
        .await
        .unwrap();
    let resp = send_presigned(&put, "PUT", put.uri(), b"body".to_vec()).await;
    assert_eq!(resp.0, 200, "{}", String::from_utf8_lossy(&resp.1));
    let got = env
        .client
        .get_object_tagging()
        .bucket(BUCKET)
        .key("tagged")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tag_pairs(got.tag_set()),
        vec![("source".into(), "presigned".into())]
    );
    // Twin: the URL sent with other tags (or none) does not match its signature.
    let method = reqwest::Method::PUT;
    let mut forged = reqwest::Client::new().request(method, put.uri());
    for (k, v) in put.headers() {
        let v = if k.eq_ignore_ascii_case("x-amz-tagging") {
            "source=forged"
        } else {
            v
        };
        forged = forged.header(k, v);
    }
    let resp = forged.body(b"body".to_vec()).send().await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap().to_vec();
    assert_s3_error(&(status, body), 403, "SignatureDoesNotMatch", None);
}

// ---- conditional copies ----

#[tokio::test]
async fn copy_object_if_none_match_through_the_sdk() {
    let env = Env::start(&[BUCKET]).await;
    env.put("src", b"source").await;
    let copy = || {
        env.client
            .copy_object()
            .bucket(BUCKET)
            .key("dest")
            .copy_source(format!("{BUCKET}/src"))
            .if_none_match("*")
            .send()
    };
    copy().await.unwrap_or_else(|e| panic!("{}", describe(&e)));
    let e = copy().await.unwrap_err();
    assert_eq!((status(&e), e.code()), (412, Some("PreconditionFailed")));
    assert_eq!(
        e.message(),
        Some("At least one of the pre-conditions you specified did not hold")
    );
    let got = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("dest")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"source"
    );
}
