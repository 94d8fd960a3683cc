//! One conformance suite for every storage backend.
//!
//! Each test is a plain `async fn(Fixture)`; the `suite!` macro instantiates all of them
//! once per backend (modules `memory` and `disk`), so the backends cannot drift apart.
//! Disk-only properties (restart, temp-file cleanup, files staying under the root) follow
//! in the `disk_only` module.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use md5::{Digest, Md5};
use strict_s3::body::ByteStream;
use strict_s3::clock::ManualClock;
use strict_s3::error::{S3Error, S3ErrorCode};
use strict_s3::storage::{
    BucketInfo, CommitCheck, DiskStorage, ListPage, ListQuery, MemoryStorage, ObjectAttrs,
    ObjectMeta, PutRequest, Storage,
};
use tempfile::TempDir;
use time::macros::datetime;

// ---- fixtures ----

struct Fixture {
    store: Arc<dyn Storage>,
    clock: Arc<ManualClock>,
    /// The disk store's root (`None` for memory), inside `_dir`.
    root: Option<PathBuf>,
    _dir: Option<TempDir>,
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(datetime!(2024-02-29 12:34:56.789_123 UTC)))
}

async fn memory() -> Fixture {
    let clock = clock();
    Fixture {
        store: Arc::new(MemoryStorage::new(clock.clone())),
        clock,
        root: None,
        _dir: None,
    }
}

async fn disk() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("store");
    let clock = clock();
    let store = DiskStorage::open(&root, clock.clone()).await.expect("open");
    Fixture {
        store: Arc::new(store),
        clock,
        root: Some(root),
        _dir: Some(dir),
    }
}

macro_rules! suite {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::memory().await).await
                }
            )*
        }
        mod disk {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::disk().await).await
                }
            )*
        }
    };
}

suite!(
    buckets_are_created_listed_and_deleted,
    bucket_errors_carry_s3_codes,
    objects_are_put_opened_headed_and_deleted,
    overwrite_replaces_the_whole_object,
    an_opened_object_keeps_its_version,
    ranges_stream_exactly_the_requested_bytes,
    content_md5_mismatch_is_bad_digest_and_keeps_the_old_object,
    a_failing_body_stores_nothing,
    a_failing_commit_check_stores_nothing,
    listing_filters_groups_and_pages_in_byte_order,
    bucket_documents_are_stored_replaced_and_removed,
    hostile_keys_round_trip,
    concurrent_puts_of_one_key_leave_one_whole_body,
    a_large_body_streams_in_chunks,
);

// ---- helpers ----

fn body(parts: &[&[u8]]) -> ByteStream {
    let chunks: Vec<Bytes> = parts.iter().map(|p| Bytes::copy_from_slice(p)).collect();
    strict_s3::body::from_chunks(chunks)
}

/// Some chunks, then an error, as a dropped connection produces.
fn failing_body(parts: &[&[u8]]) -> ByteStream {
    let mut items: Vec<Result<Bytes, S3Error>> = parts
        .iter()
        .map(|p| Ok(Bytes::copy_from_slice(p)))
        .collect();
    items.push(Err(S3Error::new(S3ErrorCode::IncompleteBody)));
    Box::pin(futures_util::stream::iter(items))
}

fn md5_of(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

async fn put(store: &dyn Storage, bucket: &str, key: &str, data: &[u8]) -> ObjectMeta {
    let req = PutRequest::new(ObjectAttrs::default(), body(&[data]));
    store.put_object(bucket, key, req).await.expect("put")
}

async fn read(store: &dyn Storage, bucket: &str, key: &str, range: Option<(u64, u64)>) -> Vec<u8> {
    let object = store.open_object(bucket, key).await.expect("open");
    collect(object.body.stream(range)).await
}

async fn collect(mut stream: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("chunk"));
    }
    out
}

#[track_caller]
fn assert_code<T>(result: Result<T, S3Error>, code: S3ErrorCode) {
    match result {
        Err(e) => assert_eq!(e.code, code, "{e:?}"),
        Ok(_) => panic!("expected {}, got Ok", code.as_str()),
    }
}

fn names(buckets: &[BucketInfo]) -> Vec<&str> {
    buckets.iter().map(|b| b.name.as_str()).collect()
}

fn keys(page: &ListPage) -> Vec<&str> {
    page.objects.iter().map(|m| m.key.as_str()).collect()
}

fn query<'a>(
    prefix: &'a str,
    delimiter: Option<&'a str>,
    after: Option<&'a str>,
    max: usize,
) -> ListQuery<'a> {
    ListQuery {
        prefix,
        delimiter,
        start_after: after,
        max_keys: max,
    }
}

/// Files (not directories) under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn assert_tmp_empty(fx: &Fixture) {
    if let Some(root) = &fx.root {
        let left = files_under(&root.join("tmp"));
        assert!(left.is_empty(), "temp files left behind: {left:?}");
    }
}

const HOSTILE_KEYS: &[&str] = &[
    "a",
    "a/b",
    "a/b/c",
    "a/",
    "/a",
    "//",
    "/",
    "../../../etc/passwd",
    "..",
    ".",
    "./.",
    "a/../../b",
    "%2e%2e%2f",
    "100%",
    "back\\slash\\..\\x",
    "tmp/x",
    "bucket.json",
    "lock",
    "sp ace",
    "tab\there",
    "new\nline",
    "日本語/キー",
    "emoji 🦀",
    "\u{10FFFF}",
];

fn long_keys() -> Vec<String> {
    vec![
        "s".repeat(300),
        format!("{}/{}", "x".repeat(255), "y".repeat(256)),
        "é".repeat(512), // 1024 bytes
    ]
}

// ---- the suite ----

async fn buckets_are_created_listed_and_deleted(fx: Fixture) {
    let s = &*fx.store;
    let info = s.create_bucket("beta", "eu-west-1").await.expect("create");
    assert_eq!(info.name, "beta");
    assert_eq!(info.region, "eu-west-1");
    assert_eq!(info.created, datetime!(2024-02-29 12:34:56.789 UTC));
    s.create_bucket("alpha", "us-east-1").await.expect("create");
    let listed = s.list_buckets().await.expect("list");
    assert_eq!(names(&listed), ["alpha", "beta"]);
    assert_eq!(s.bucket("beta").await.expect("bucket"), info);
    s.delete_bucket("beta").await.expect("delete");
    assert_eq!(names(&s.list_buckets().await.expect("list")), ["alpha"]);
    assert_code(s.bucket("beta").await, S3ErrorCode::NoSuchBucket);
    // The name is free again.
    s.create_bucket("beta", "us-east-1")
        .await
        .expect("re-create");
}

async fn bucket_errors_carry_s3_codes(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b1", "us-east-1").await.expect("create");
    assert_code(
        s.create_bucket("b1", "us-east-1").await,
        S3ErrorCode::BucketAlreadyOwnedByYou,
    );
    assert_code(s.delete_bucket("nope").await, S3ErrorCode::NoSuchBucket);
    assert_code(s.bucket("nope").await, S3ErrorCode::NoSuchBucket);
    assert_code(s.open_object("nope", "k").await, S3ErrorCode::NoSuchBucket);
    assert_code(s.head_object("nope", "k").await, S3ErrorCode::NoSuchBucket);
    assert_code(
        s.delete_object("nope", "k").await,
        S3ErrorCode::NoSuchBucket,
    );
    assert_code(
        s.list_objects("nope", &query("", None, None, 10)).await,
        S3ErrorCode::NoSuchBucket,
    );
    assert_code(
        s.bucket_document("nope", "cors").await,
        S3ErrorCode::NoSuchBucket,
    );
    let req = PutRequest::new(ObjectAttrs::default(), body(&[b"x"]));
    assert_code(
        s.put_object("nope", "k", req).await,
        S3ErrorCode::NoSuchBucket,
    );
    for bad in ["../b1", "a/b", "..", ".", ""] {
        assert_code(
            s.create_bucket(bad, "us-east-1").await,
            S3ErrorCode::InvalidBucketName,
        );
    }
    assert_code(s.bucket("../b1").await, S3ErrorCode::InvalidBucketName);

    put(s, "b1", "k", b"data").await;
    assert_code(s.delete_bucket("b1").await, S3ErrorCode::BucketNotEmpty);
    assert_eq!(read(s, "b1", "k", None).await, b"data");
    s.delete_object("b1", "k").await.expect("delete object");
    s.delete_bucket("b1").await.expect("delete empty bucket");
}

async fn objects_are_put_opened_headed_and_deleted(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let mut attrs = ObjectAttrs {
        content_type: Some("text/plain".into()),
        cache_control: Some("no-cache".into()),
        ..ObjectAttrs::default()
    };
    attrs.user_metadata.insert("color".into(), "blue".into());
    attrs
        .extra
        .insert("x-amz-storage-class".into(), "STANDARD".into());
    let req = PutRequest::new(attrs.clone(), body(&[b"hello ", b"", b"world"]));
    let meta = s.put_object("b", "greeting", req).await.expect("put");
    assert_eq!(meta.key, "greeting");
    assert_eq!(meta.size, 11);
    assert_eq!(meta.etag, hex::encode(md5_of(b"hello world")));
    assert_eq!(meta.quoted_etag(), format!("\"{}\"", meta.etag));
    // Milliseconds kept, finer precision dropped.
    assert_eq!(meta.last_modified, datetime!(2024-02-29 12:34:56.789 UTC));
    assert_eq!(meta.attrs, attrs);

    let opened = s.open_object("b", "greeting").await.expect("open");
    assert_eq!(opened.meta, meta);
    assert_eq!(collect(opened.body.stream(None)).await, b"hello world");
    assert_eq!(s.head_object("b", "greeting").await.expect("head"), meta);

    s.delete_object("b", "greeting").await.expect("delete");
    assert_code(s.open_object("b", "greeting").await, S3ErrorCode::NoSuchKey);
    assert_code(s.head_object("b", "greeting").await, S3ErrorCode::NoSuchKey);
    s.delete_object("b", "greeting")
        .await
        .expect("deleting a missing key is fine");

    let empty = put(s, "b", "empty", b"").await;
    assert_eq!(empty.size, 0);
    assert_eq!(empty.etag, "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(read(s, "b", "empty", None).await, b"");
}

async fn overwrite_replaces_the_whole_object(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    put(s, "b", "k", b"a much longer first version").await;
    fx.clock.advance(Duration::from_secs(5));
    let second = put(s, "b", "k", b"short").await;
    assert_eq!(second.last_modified, datetime!(2024-02-29 12:35:01.789 UTC));
    assert_eq!(read(s, "b", "k", None).await, b"short");
    assert_eq!(s.head_object("b", "k").await.expect("head"), second);
    let page = s
        .list_objects("b", &query("", None, None, 10))
        .await
        .expect("list");
    assert_eq!(page.objects, [second]);
    assert_tmp_empty(&fx);
}

async fn an_opened_object_keeps_its_version(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    put(s, "b", "k", b"old body").await;
    let opened = s.open_object("b", "k").await.expect("open");
    put(s, "b", "k", b"new body, longer").await;
    s.delete_object("b", "k").await.expect("delete");
    assert_eq!(opened.meta.size, 8);
    assert_eq!(collect(opened.body.stream(None)).await, b"old body");
}

async fn ranges_stream_exactly_the_requested_bytes(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let parts: Vec<&[u8]> = vec![&data[..1], &data[1..300], &data[300..301], &data[301..]];
    let req = PutRequest::new(ObjectAttrs::default(), body(&parts));
    s.put_object("b", "r", req).await.expect("put");
    for (start, end) in [
        (0, 0),
        (0, 999),
        (10, 19),
        (299, 301),
        (999, 999),
        (1, 998),
        (300, 300),
    ] {
        let got = read(s, "b", "r", Some((start, end))).await;
        assert_eq!(
            got,
            &data[start as usize..=end as usize],
            "range {start}-{end}"
        );
    }
    assert_eq!(read(s, "b", "r", None).await, data);
    // Defensive clamping: never more than the body, even if asked.
    assert_eq!(read(s, "b", "r", Some((990, 5000))).await, &data[990..]);
    put(s, "b", "empty", b"").await;
    assert_eq!(read(s, "b", "empty", Some((0, 0))).await, b"");
}

async fn content_md5_mismatch_is_bad_digest_and_keeps_the_old_object(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let old = put(s, "b", "k", b"old").await;
    let req = PutRequest {
        content_md5: Some(md5_of(b"something else")),
        ..PutRequest::new(ObjectAttrs::default(), body(&[b"new"]))
    };
    assert_code(s.put_object("b", "k", req).await, S3ErrorCode::BadDigest);
    assert_eq!(read(s, "b", "k", None).await, b"old");
    assert_eq!(s.head_object("b", "k").await.expect("head"), old);
    let req = PutRequest {
        content_md5: Some(md5_of(b"fresh")),
        ..PutRequest::new(ObjectAttrs::default(), body(&[b"fresh"]))
    };
    assert_code(
        s.put_object("b", "new", req.into_bad()).await,
        S3ErrorCode::BadDigest,
    );
    assert_code(s.head_object("b", "new").await, S3ErrorCode::NoSuchKey);
    let req = PutRequest {
        content_md5: Some(md5_of(b"fresh")),
        ..PutRequest::new(ObjectAttrs::default(), body(&[b"fr", b"esh"]))
    };
    s.put_object("b", "new", req)
        .await
        .expect("a matching Content-MD5 is accepted");
    assert_tmp_empty(&fx);
}

/// Makes a request's Content-MD5 wrong.
trait IntoBad {
    fn into_bad(self) -> Self;
}

impl IntoBad for PutRequest {
    fn into_bad(mut self) -> Self {
        self.content_md5 = self.content_md5.map(|mut d| {
            d[0] ^= 1;
            d
        });
        self
    }
}

async fn a_failing_body_stores_nothing(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let old = put(s, "b", "k", b"old").await;
    let req = PutRequest::new(ObjectAttrs::default(), failing_body(&[b"new ", b"partial"]));
    assert_code(
        s.put_object("b", "k", req).await,
        S3ErrorCode::IncompleteBody,
    );
    assert_eq!(read(s, "b", "k", None).await, b"old");
    assert_eq!(s.head_object("b", "k").await.expect("head"), old);
    let req = PutRequest::new(ObjectAttrs::default(), failing_body(&[]));
    assert_code(
        s.put_object("b", "fresh", req).await,
        S3ErrorCode::IncompleteBody,
    );
    assert_code(s.head_object("b", "fresh").await, S3ErrorCode::NoSuchKey);
    let page = s
        .list_objects("b", &query("", None, None, 10))
        .await
        .expect("list");
    assert_eq!(keys(&page), ["k"]);
    assert_tmp_empty(&fx);
}

fn recording_check(
    seen: Arc<Mutex<Vec<Option<ObjectMeta>>>>,
    result: Result<(), S3Error>,
) -> CommitCheck {
    Box::new(move |current: Option<&ObjectMeta>| {
        seen.lock().expect("lock").push(current.cloned());
        result
    })
}

async fn a_failing_commit_check_stores_nothing(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let refuse = || Err(S3Error::new(S3ErrorCode::PreconditionFailed));

    let req = PutRequest {
        check: Some(recording_check(seen.clone(), refuse())),
        ..PutRequest::new(ObjectAttrs::default(), body(&[b"first"]))
    };
    assert_code(
        s.put_object("b", "k", req).await,
        S3ErrorCode::PreconditionFailed,
    );
    assert_code(s.head_object("b", "k").await, S3ErrorCode::NoSuchKey);

    let req = PutRequest {
        check: Some(recording_check(seen.clone(), Ok(()))),
        ..PutRequest::new(ObjectAttrs::default(), body(&[b"first"]))
    };
    let first = s.put_object("b", "k", req).await.expect("put");

    let req = PutRequest {
        check: Some(recording_check(seen.clone(), refuse())),
        ..PutRequest::new(ObjectAttrs::default(), body(&[b"second"]))
    };
    assert_code(
        s.put_object("b", "k", req).await,
        S3ErrorCode::PreconditionFailed,
    );
    assert_eq!(read(s, "b", "k", None).await, b"first");
    assert_eq!(*seen.lock().expect("lock"), [None, None, Some(first)]);
    assert_tmp_empty(&fx);
}

async fn listing_filters_groups_and_pages_in_byte_order(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let all = [
        "a", "a-b", "a/b", "a/c/d", "a/c/e", "ab", "b", "é", "z/1", "Z",
    ];
    for key in all.iter().rev() {
        put(s, "b", key, key.as_bytes()).await;
    }
    let list = |q: ListQuery<'static>| async move { s.list_objects("b", &q).await.expect("list") };

    let page = list(query("", None, None, 1000)).await;
    assert_eq!(
        keys(&page),
        [
            "Z", "a", "a-b", "a/b", "a/c/d", "a/c/e", "ab", "b", "z/1", "é"
        ]
    );
    assert!(!page.is_truncated);
    assert_eq!(page.objects[0].size, 1);

    let page = list(query("a/", Some("/"), None, 1000)).await;
    assert_eq!(keys(&page), ["a/b"]);
    assert_eq!(page.common_prefixes, ["a/c/"]);

    let page = list(query("", Some("/"), None, 1000)).await;
    assert_eq!(keys(&page), ["Z", "a", "a-b", "ab", "b", "é"]);
    assert_eq!(page.common_prefixes, ["a/", "z/"]);

    let page = list(query("", None, Some("a/b"), 2)).await;
    assert_eq!(keys(&page), ["a/c/d", "a/c/e"]);
    assert!(page.is_truncated);
    assert_eq!(page.last.as_deref(), Some("a/c/e"));

    let page = list(query("", None, None, 0)).await;
    assert!(page.objects.is_empty() && page.is_truncated);

    // Paging with a delimiter visits every entry exactly once, in order.
    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q = query("", Some("/"), after.as_deref(), 2);
        let page = s.list_objects("b", &q).await.expect("list");
        let mut entries: Vec<String> = keys(&page).into_iter().map(String::from).collect();
        entries.extend(page.common_prefixes.iter().cloned());
        entries.sort();
        seen.extend(entries);
        if !page.is_truncated {
            break;
        }
        after = page.last.clone();
    }
    assert_eq!(seen, ["Z", "a", "a-b", "a/", "ab", "b", "z/", "é"]);
}

async fn bucket_documents_are_stored_replaced_and_removed(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    assert_eq!(s.bucket_document("b", "cors").await.expect("get"), None);
    let doc = Bytes::from_static(b"<CORSConfiguration/>");
    s.put_bucket_document("b", "cors", Some(doc.clone()))
        .await
        .expect("put");
    assert_eq!(
        s.bucket_document("b", "cors").await.expect("get"),
        Some(doc)
    );
    let doc2 = Bytes::from_static(b"<CORSConfiguration><CORSRule/></CORSConfiguration>");
    s.put_bucket_document("b", "cors", Some(doc2.clone()))
        .await
        .expect("replace");
    assert_eq!(
        s.bucket_document("b", "cors").await.expect("get"),
        Some(doc2)
    );
    assert_eq!(s.bucket_document("b", "policy").await.expect("get"), None);
    s.put_bucket_document("b", "cors", None)
        .await
        .expect("remove");
    s.put_bucket_document("b", "cors", None)
        .await
        .expect("remove again");
    assert_eq!(s.bucket_document("b", "cors").await.expect("get"), None);
    assert!(
        s.put_bucket_document("b", "../x", Some(Bytes::new()))
            .await
            .is_err()
    );
    // Documents are not objects: the bucket is empty and can be deleted.
    s.put_bucket_document("b", "cors", Some(Bytes::from_static(b"x")))
        .await
        .expect("put");
    s.delete_bucket("b").await.expect("delete");
    assert_code(
        s.bucket_document("b", "cors").await,
        S3ErrorCode::NoSuchBucket,
    );
    assert_tmp_empty(&fx);
}

async fn hostile_keys_round_trip(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let long = long_keys();
    let mut all: Vec<&str> = HOSTILE_KEYS.to_vec();
    all.extend(long.iter().map(String::as_str));
    for key in &all {
        let meta = put(s, "b", key, key.as_bytes()).await;
        assert_eq!(meta.key, *key);
    }
    for key in &all {
        assert_eq!(read(s, "b", key, None).await, key.as_bytes(), "{key:?}");
        assert_eq!(s.head_object("b", key).await.expect("head").key, *key);
    }
    let mut sorted = all.clone();
    sorted.sort();
    let page = s
        .list_objects("b", &query("", None, None, 1000))
        .await
        .expect("list");
    assert_eq!(keys(&page), sorted);
    if let Some(root) = &fx.root {
        assert_files_are_where_they_belong(root);
        // Nothing was created beside the root, in the temp dir that holds it.
        let parent = root.parent().expect("parent");
        let beside: Vec<_> = std::fs::read_dir(parent).expect("read_dir").collect();
        assert_eq!(beside.len(), 1, "{beside:?}");
    }
    for key in &all {
        s.delete_object("b", key).await.expect("delete");
    }
    s.delete_bucket("b")
        .await
        .expect("all gone, bucket deletable");
}

/// Every file is the lock, a bucket file, a document or an object named by a hash.
fn assert_files_are_where_they_belong(root: &Path) {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    for file in files_under(root) {
        let rel = file.strip_prefix(root).expect("under root");
        let parts: Vec<&str> = rel.iter().map(|p| p.to_str().expect("utf-8")).collect();
        let ok = match parts.as_slice() {
            ["lock"] => true,
            ["buckets", _, "bucket.json"] | ["buckets", _, "docs", _] => true,
            ["buckets", _, "objects", fan, name] => {
                hex(fan, 2) && hex(name, 64) && name.starts_with(fan)
            }
            _ => false,
        };
        assert!(ok, "unexpected file {}", rel.display());
    }
}

/// A body of `len` bytes of value `byte`, arriving in `chunk`-byte pieces with a yield
/// between them so concurrent writers interleave.
fn slow_body(byte: u8, len: usize, chunk: usize) -> ByteStream {
    let pieces = len.div_ceil(chunk);
    let stream = futures_util::stream::iter(0..pieces).then(move |i| async move {
        tokio::task::yield_now().await;
        let n = chunk.min(len - i * chunk);
        Ok(Bytes::from(vec![byte; n]))
    });
    Box::pin(stream)
}

async fn concurrent_puts_of_one_key_leave_one_whole_body(fx: Fixture) {
    fx.store
        .create_bucket("b", "us-east-1")
        .await
        .expect("create");
    let mut tasks = Vec::new();
    for writer in 0..8u8 {
        let store = fx.store.clone();
        let len = 100_000 + usize::from(writer) * 1000;
        tasks.push(tokio::spawn(async move {
            let req = PutRequest::new(ObjectAttrs::default(), slow_body(b'a' + writer, len, 4096));
            store.put_object("b", "same", req).await
        }));
    }
    for task in tasks {
        task.await.expect("join").expect("put");
    }
    let s = &*fx.store;
    let meta = s.head_object("b", "same").await.expect("head");
    let data = read(s, "b", "same", None).await;
    assert_eq!(data.len() as u64, meta.size);
    assert_eq!(hex::encode(md5_of(&data)), meta.etag);
    let first = data[0];
    assert!(data.iter().all(|b| *b == first), "bodies were mixed");
    assert_eq!(data.len(), 100_000 + usize::from(first - b'a') * 1000);
    let page = s
        .list_objects("b", &query("", None, None, 10))
        .await
        .expect("list");
    assert_eq!(page.objects, [meta]);
    assert_tmp_empty(&fx);
}

/// 64 MiB generated on the fly in 1 MiB chunks, never held whole by the test.
fn big_body(len: usize) -> ByteStream {
    const CHUNK: usize = 1 << 20;
    let stream = futures_util::stream::iter(0..len / CHUNK).map(|i| {
        let chunk: Vec<u8> = (0..CHUNK).map(|j| ((i * 7 + j * 13) % 256) as u8).collect();
        Ok(Bytes::from(chunk))
    });
    Box::pin(stream)
}

async fn a_large_body_streams_in_chunks(fx: Fixture) {
    const LEN: usize = 64 << 20;
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let mut expected = Md5::new();
    let mut source = big_body(LEN);
    while let Some(chunk) = source.next().await {
        expected.update(chunk.expect("chunk"));
    }
    let expected = hex::encode(expected.finalize());
    let req = PutRequest::new(ObjectAttrs::default(), big_body(LEN));
    let meta = s.put_object("b", "big", req).await.expect("put");
    assert_eq!(meta.size, LEN as u64);
    assert_eq!(meta.etag, expected);

    let object = s.open_object("b", "big").await.expect("open");
    let mut stream = object.body.stream(None);
    let (mut md5, mut total, mut chunks, mut largest) = (Md5::new(), 0usize, 0usize, 0usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        md5.update(&chunk);
        total += chunk.len();
        chunks += 1;
        largest = largest.max(chunk.len());
    }
    assert_eq!(total, LEN);
    assert_eq!(hex::encode(md5.finalize()), expected);
    assert!(chunks >= 64, "streamed in {chunks} chunks");
    assert!(largest <= 1 << 20, "a chunk of {largest} bytes");
    if fx.root.is_some() {
        assert!(
            largest <= 64 * 1024,
            "disk chunks are at most 64 KiB, got {largest}"
        );
    }
    // A range in the middle, across chunk boundaries.
    let start = (5 << 20) - 10;
    let got = read(s, "b", "big", Some((start, start + 99))).await;
    let want: Vec<u8> = (start..start + 100)
        .map(|p| {
            let (i, j) = (p as usize / (1 << 20), p as usize % (1 << 20));
            ((i * 7 + j * 13) % 256) as u8
        })
        .collect();
    assert_eq!(got, want);
}

// ---- disk only ----

mod disk_only {
    use super::*;

    async fn reopen(fx: &Fixture) -> DiskStorage {
        let root = fx.root.as_ref().expect("disk fixture");
        DiskStorage::open(root, fx.clock.clone())
            .await
            .expect("reopen")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn everything_survives_a_restart() {
        let mut fx = disk().await;
        let s = &*fx.store;
        s.create_bucket("one", "eu-central-1")
            .await
            .expect("create");
        s.create_bucket("two", "us-east-1").await.expect("create");
        s.create_bucket("gone", "us-east-1").await.expect("create");
        s.delete_bucket("gone").await.expect("delete");
        let cors = Bytes::from_static(b"<CORSConfiguration/>");
        s.put_bucket_document("one", "cors", Some(cors.clone()))
            .await
            .expect("doc");
        let mut metas = Vec::new();
        for key in HOSTILE_KEYS.iter().chain(["x/1", "x/2", "y"].iter()) {
            fx.clock.advance(Duration::from_millis(1500));
            metas.push(put(s, "one", key, key.as_bytes()).await);
        }
        put(s, "one", "deleted", b"x").await;
        s.delete_object("one", "deleted").await.expect("delete");
        let buckets = s.list_buckets().await.expect("list");
        let listing = s
            .list_objects("one", &query("", None, None, 1000))
            .await
            .expect("list");
        let grouped = s
            .list_objects("one", &query("", Some("/"), None, 1000))
            .await
            .expect("list");

        fx.store = Arc::new(MemoryStorage::default()); // drops the disk store
        let s = reopen(&fx).await;
        assert_eq!(s.list_buckets().await.expect("list"), buckets);
        assert_eq!(
            s.list_objects("one", &query("", None, None, 1000))
                .await
                .expect("list"),
            listing
        );
        assert_eq!(
            s.list_objects("one", &query("", Some("/"), None, 1000))
                .await
                .expect("list"),
            grouped
        );
        metas.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(listing.objects, metas);
        for meta in &metas {
            assert_eq!(read(&s, "one", &meta.key, None).await, meta.key.as_bytes());
            assert_eq!(&s.head_object("one", &meta.key).await.expect("head"), meta);
        }
        assert_code(
            s.head_object("one", "deleted").await,
            S3ErrorCode::NoSuchKey,
        );
        assert_code(s.bucket("gone").await, S3ErrorCode::NoSuchBucket);
        assert_eq!(
            s.bucket_document("one", "cors").await.expect("doc"),
            Some(cors)
        );
        assert_code(s.delete_bucket("one").await, S3ErrorCode::BucketNotEmpty);
        s.delete_bucket("two")
            .await
            .expect("empty bucket deletes after restart");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn leftovers_of_a_crash_are_cleaned_or_ignored_at_open() {
        let mut fx = disk().await;
        fx.store
            .create_bucket("b", "us-east-1")
            .await
            .expect("create");
        put(&*fx.store, "b", "k", b"kept").await;
        fx.store = Arc::new(MemoryStorage::default());
        let root = fx.root.clone().expect("root");
        // An interrupted write, an interrupted bucket creation, and junk in objects/.
        std::fs::write(root.join("tmp/7.tmp"), b"half a body").expect("write");
        std::fs::create_dir_all(root.join("tmp/8.tmp/objects")).expect("mkdir");
        let objects = root.join("buckets/b/objects");
        std::fs::create_dir_all(objects.join("zz")).expect("mkdir");
        std::fs::create_dir_all(objects.join("00")).expect("mkdir");
        std::fs::write(objects.join("00").join("0".repeat(64)), b"no trailer").expect("write");

        let s = reopen(&fx).await;
        assert!(
            std::fs::read_dir(root.join("tmp"))
                .expect("tmp")
                .next()
                .is_none()
        );
        let page = s
            .list_objects("b", &query("", None, None, 10))
            .await
            .expect("list");
        assert_eq!(keys(&page), ["k"]);
        assert_eq!(read(&s, "b", "k", None).await, b"kept");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_root_cannot_be_opened_twice_at_once() {
        let fx = disk().await;
        let root = fx.root.clone().expect("root");
        let second = DiskStorage::open(&root, fx.clock.clone()).await;
        assert_code(second.map(|_| ()), S3ErrorCode::InternalError);
        drop(fx.store);
        DiskStorage::open(&root, clock())
            .await
            .expect("open after the first closed");
    }
}
