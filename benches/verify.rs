//! The verification hot path, measured through the public library API.
//!
//! The requests are the AWS documentation's worked SigV4 examples
//! (`fixtures/sigv4-vectors.json`): the presigned GET of `examplebucket/test.txt` at
//! 2013-05-24 and the header-signed "GET object with Range", with the clock fixed inside
//! their validity window. Every request is built once, outside the measured loop.
//!
//! - `presigned_get_valid`: `Authenticator::authenticate` on a valid presigned URL (the
//!   signing-key cache is warm after the first iteration).
//! - `header_get_valid`: the same for an `Authorization`-header request.
//! - `header_get_wrong_signature`: a mismatch, including building the S3 error with its
//!   evidence (string to sign, canonical request, their hex bytes).
//! - `authorize_user_10_statements`: the authorization stage for that presigned GET signed
//!   by an IAM user whose policy has 10 statements, on a bucket whose policy has 10 more
//!   (condition keys built, each statement evaluated).
//! - `derive_signing_key`: the four HMACs the cache saves on every request.
//! - `verified_body_sha256_1mib`: a 1 MiB body in 64 KiB chunks through
//!   `auth::verified_body` with `PayloadCheck::Sha256` (throughput).
//! - `embedded_start_stop`: `Server::builder()...start()` of an in-memory server with one
//!   bucket on port 0, then `shutdown()` — what embedding costs a test.
//!
//! `cargo bench --bench verify` (add `-- --quick` for a fast pass).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, Method};
use sha2::{Digest, Sha256};
use strict_s3::S3Error;
use strict_s3::addressing::{self, Address};
use strict_s3::auth::{self, AuthKind, Authenticator, PayloadCheck};
use strict_s3::clock::ManualClock;
use strict_s3::config::{self, Config};
use strict_s3::request::S3Request;
use time::macros::datetime;

const HOST: &str = "examplebucket.s3.amazonaws.com";
const PRESIGNED_QUERY: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const RANGE_GET_SIGNATURE: &str =
    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

fn authenticator() -> (Authenticator, Arc<Config>) {
    let config = Arc::new(Config {
        region: config::DEFAULT_REGION.to_string(),
        domains: vec!["s3.amazonaws.com".to_string()],
        ..Config::in_memory()
    });
    // An hour into the presigned URL's day, within 15 minutes of the header request.
    let clock = Arc::new(ManualClock::new(datetime!(2013-05-24 00:05:00 UTC)));
    (Authenticator::new(config.clone(), clock), config)
}

fn request(method: Method, path: &str, query: Option<&str>, headers: &[(&str, &str)]) -> S3Request {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(
            http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    S3Request::new(method, path, query, map, "BENCHREQUESTID00".to_string()).unwrap()
}

fn address(req: &S3Request, config: &Config) -> Address {
    addressing::resolve(req, &config.domains, config.limits.max_key_bytes).unwrap()
}

fn presigned_get() -> S3Request {
    request(
        Method::GET,
        "/test.txt",
        Some(PRESIGNED_QUERY),
        &[("host", HOST)],
    )
}

fn header_get(signature: &str) -> S3Request {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
         SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature={signature}"
    );
    request(
        Method::GET,
        "/test.txt",
        None,
        &[
            ("host", HOST),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
            ("authorization", &authorization),
        ],
    )
}

fn bench_authenticate(c: &mut Criterion) {
    let (auth, config) = authenticator();

    let req = presigned_get();
    let addr = address(&req, &config);
    let p = auth
        .authenticate(&req, &addr)
        .expect("the documented presigned URL verifies");
    assert_eq!(p.kind, AuthKind::V4Query);
    c.bench_function("presigned_get_valid", |b| {
        b.iter(|| {
            auth.authenticate(black_box(&req), black_box(&addr))
                .unwrap()
        })
    });

    let req = header_get(RANGE_GET_SIGNATURE);
    let addr = address(&req, &config);
    let p = auth
        .authenticate(&req, &addr)
        .expect("the documented header request verifies");
    assert_eq!(p.kind, AuthKind::V4Header);
    c.bench_function("header_get_valid", |b| {
        b.iter(|| {
            auth.authenticate(black_box(&req), black_box(&addr))
                .unwrap()
        })
    });

    let wrong = format!("{}0", &RANGE_GET_SIGNATURE[..63]);
    let req = header_get(&wrong);
    let addr = address(&req, &config);
    let err = S3Error::from(auth.authenticate(&req, &addr).expect_err("wrong signature"));
    assert_eq!(err.code.as_str(), "SignatureDoesNotMatch");
    // Including the S3 error with its evidence, as the server answers it.
    c.bench_function("header_get_wrong_signature", |b| {
        b.iter(|| {
            S3Error::from(
                auth.authenticate(black_box(&req), black_box(&addr))
                    .unwrap_err(),
            )
        })
    });
}

/// The authorization stage for a presigned GET by an IAM user whose identity policy has 10
/// statements (9 that do not apply, on other buckets, then the Allow), on a bucket whose
/// policy has 10 more, including building the request's condition keys.
fn bench_authorize(c: &mut Criterion) {
    use strict_s3::access::Access;
    use strict_s3::auth::Authenticated;
    use strict_s3::config::Credential;
    use strict_s3::ops::required;
    use strict_s3::policy::Policy;
    let mut statements: Vec<String> = (0..9)
        .map(|i| {
            format!(
                r#"{{"Sid":"Other{i}","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::other-{i}/*","Condition":{{"StringLike":{{"aws:UserAgent":"app/*"}}}}}}"#
            )
        })
        .collect();
    statements.push(
        r#"{"Sid":"Reads","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::examplebucket/*"}"#
            .to_string(),
    );
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    );
    // The bucket's own policy: 10 statements about other prefixes and networks.
    let bucket_statements: Vec<String> = (0..10)
        .map(|i| {
            format!(
                r#"{{"Sid":"Team{i}","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::123456789012:root"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:::examplebucket/team-{i}/*","Condition":{{"IpAddress":{{"aws:SourceIp":"10.{i}.0.0/16"}}}}}}"#
            )
        })
        .collect();
    let bucket_policy = std::sync::Arc::new(
        Policy::parse_bucket(
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
                bucket_statements.join(",")
            ),
            "examplebucket",
            &|_| true,
        )
        .unwrap(),
    );
    let cred = Credential::user(
        "reader",
        "AKIAREADER",
        "secret",
        Some(Policy::parse_identity(&policy).unwrap()),
    );
    let (_, config) = authenticator();
    let req = presigned_get();
    let addr = address(&req, &config);
    let op = strict_s3::ops::route(&req, &addr).unwrap();
    let who = Authenticated::signed(
        AuthKind::V4Query,
        &cred,
        Some(datetime!(2013-05-24 00:00:00 UTC)),
        PayloadCheck::None,
    );
    let now = datetime!(2013-05-24 00:05:00 UTC);
    let rules = Arc::new(strict_s3::access::BucketRules {
        acl: strict_s3::acl::Acl::private(strict_s3::identity::DEFAULT_CANONICAL_ID),
        policy: Some(bucket_policy.clone()),
        ownership: Some(strict_s3::controls::ObjectOwnership::BucketOwnerEnforced),
        public_access: Some(strict_s3::controls::PublicAccessBlock::ALL),
        versioning: None,
    });
    let allowed = |req: &S3Request| {
        let buckets = vec![("examplebucket".to_string(), rules.clone())];
        let access = Access::new(&who, req, now, None, buckets, Vec::new(), None);
        required(&op, req)
            .iter()
            .all(|(action, resource)| access.check(action, resource).is_ok())
    };
    assert!(allowed(&req), "the 10th statement allows the GET");
    c.bench_function("authorize_user_10_statements", |b| {
        b.iter(|| allowed(black_box(&req)))
    });
}

fn bench_derive(c: &mut Criterion) {
    c.bench_function("derive_signing_key", |b| {
        b.iter(|| {
            auth::signing::derive_signing_key(
                black_box(config::DEFAULT_SECRET_KEY),
                black_box("20130524"),
                black_box("us-east-1"),
                black_box("s3"),
            )
        })
    });
}

fn bench_body(c: &mut Criterion) {
    const CHUNK: usize = 64 * 1024;
    const TOTAL: usize = 1024 * 1024;
    let data: Vec<u8> = (0..TOTAL).map(|i| (i * 31 % 251) as u8).collect();
    let expected = hex::encode(Sha256::digest(&data));
    let chunks: Vec<Bytes> = Bytes::from(data)
        .chunks(CHUNK)
        .map(Bytes::copy_from_slice)
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let drain = |chunks: Vec<Bytes>, expected: String| async move {
        let mut s = auth::verified_body(
            strict_s3::body::from_chunks(chunks),
            PayloadCheck::Sha256(expected),
        );
        let mut n = 0usize;
        while let Some(c) = s.next().await {
            n += c.expect("body verifies").len();
        }
        n
    };
    assert_eq!(rt.block_on(drain(chunks.clone(), expected.clone())), TOTAL);

    let mut group = c.benchmark_group("verified_body");
    group.throughput(Throughput::Bytes(TOTAL as u64));
    group.bench_function("sha256_1mib", |b| {
        // Cloning the Vec<Bytes> is 16 refcount bumps; the hashing dominates.
        b.iter(|| rt.block_on(drain(chunks.clone(), expected.clone())))
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
}

/// What embedding costs a test: start an in-memory server with a bucket on port 0,
/// then shut it down.
fn bench_start_stop(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    c.bench_function("embedded_start_stop", |b| {
        b.iter(|| {
            rt.block_on(async {
                let server = strict_s3::Server::builder()
                    .config(strict_s3::Config {
                        buckets: vec!["bucket".into()],
                        ..strict_s3::Config::in_memory()
                    })
                    .start()
                    .await
                    .unwrap();
                black_box(server.endpoint());
                server.shutdown().await;
            })
        })
    });
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_authenticate, bench_authorize, bench_derive, bench_body, bench_start_stop
}
criterion_main!(benches);
