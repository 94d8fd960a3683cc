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
use strict_s3::checksum::ChecksumAlgorithm;
use strict_s3::clock::ManualClock;
use strict_s3::error::{S3Error, S3ErrorCode};
use strict_s3::storage::multipart::{self, ChecksumType, MIN_PART_SIZE};
use strict_s3::storage::{
    AttrsUpdate, BucketInfo, CommitCheck, CompletePart, DiskStorage, ListPage, ListQuery,
    MemoryStorage, ObjectAttrs, ObjectMeta, Part, PutRequest, Storage, TrailingAttrs, Upload,
    UploadChecksum,
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
    multipart_round_trip_concatenates_the_parts,
    a_part_can_be_replaced,
    completion_rules_are_enforced_and_keep_the_upload,
    unknown_or_finished_uploads_are_no_such_upload,
    abort_frees_the_parts,
    uploads_are_not_objects_and_go_with_their_bucket,
    uploads_are_listed_by_key_time_and_id,
    a_refusing_commit_check_keeps_the_upload,
    a_failing_part_body_keeps_the_previous_part,
    a_checksum_upload_gives_the_composite_checksum,
    concurrent_parts_of_one_upload_are_all_kept,
    concurrent_complete_and_abort_one_wins,
    tags_are_stored_replaced_and_carried_by_uploads,
    a_restored_object_keeps_its_metadata,
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
    // Every other body is large (past the disk store's segment records, a file of its
    // own), so keys reach both of its layouts.
    let body_of = |i: usize, key: &str| match i % 2 {
        0 => key.repeat(300 * 1024 / key.len().max(1) + 1).into_bytes(),
        _ => key.as_bytes().to_vec(),
    };
    for (i, key) in all.iter().enumerate() {
        let meta = put(s, "b", key, &body_of(i, key)).await;
        assert_eq!(meta.key, *key);
    }
    for (i, key) in all.iter().enumerate() {
        assert_eq!(read(s, "b", key, None).await, body_of(i, key), "{key:?}");
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

/// Every file is the lock, a bucket file, a document, an object named by a hash or a
/// numbered segment.
fn assert_files_are_where_they_belong(root: &Path) {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    for file in files_under(root) {
        let rel = file.strip_prefix(root).expect("under root");
        let parts: Vec<&str> = rel.iter().map(|p| p.to_str().expect("utf-8")).collect();
        let ok = match parts.as_slice() {
            ["lock"] => true,
            ["buckets", _, "bucket.json"] | ["buckets", _, "docs", _] => true,
            ["buckets", _, "uploads", id, "upload.json"] => hex(id, 32),
            ["buckets", _, "uploads", id, part] => {
                hex(id, 32) && part.len() == 10 && part.ends_with(".part")
            }
            ["buckets", _, "objects", fan, name] => {
                hex(fan, 2) && hex(name, 64) && name.starts_with(fan)
            }
            ["buckets", _, "segments", name] => name
                .strip_suffix(".seg")
                .is_some_and(|id| id.len() == 8 && id.bytes().all(|b| b.is_ascii_digit())),
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
    // Streamed in bounded chunks, never the body whole: the disk store reads 512 KiB
    // blocks ahead, the memory store hands out its stored chunks.
    assert!(chunks >= LEN >> 20, "streamed in {chunks} chunks");
    assert!(largest <= 1 << 20, "a chunk of {largest} bytes");
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

// ---- multipart uploads ----

/// `len` bytes of generated data, different for each `seed`.
fn data(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + usize::from(seed) * 7) % 251) as u8)
        .collect()
}

/// A body of `data` in 1 MiB chunks.
fn chunked(data: &[u8]) -> ByteStream {
    let parts: Vec<&[u8]> = data.chunks(1 << 20).collect();
    body(&parts)
}

const FIVE_MIB: usize = MIN_PART_SIZE as usize;

async fn create(store: &dyn Storage, bucket: &str, key: &str) -> Upload {
    store
        .create_upload(bucket, key, ObjectAttrs::default(), Default::default())
        .await
        .expect("create upload")
}

async fn part(store: &dyn Storage, bucket: &str, up: &Upload, number: u32, data: &[u8]) -> Part {
    let req = PutRequest::new(ObjectAttrs::default(), chunked(data));
    store
        .put_part(bucket, &up.key, &up.upload_id, number, req)
        .await
        .expect("put part")
}

/// The CompleteMultipartUpload list naming these parts.
fn listed(parts: &[&Part]) -> Vec<CompletePart> {
    parts
        .iter()
        .map(|p| CompletePart {
            number: p.number,
            etag: format!("\"{}\"", p.etag),
            checksum: None,
        })
        .collect()
}

async fn complete(
    store: &dyn Storage,
    bucket: &str,
    up: &Upload,
    parts: &[&Part],
) -> Result<ObjectMeta, S3Error> {
    store
        .complete_upload(bucket, &up.key, &up.upload_id, &listed(parts), None, None)
        .await
}

fn upload_dir(fx: &Fixture, bucket: &str, up: &Upload) -> Option<PathBuf> {
    fx.root.as_ref().map(|r| {
        r.join("buckets")
            .join(bucket)
            .join("uploads")
            .join(&up.upload_id)
    })
}

async fn multipart_round_trip_concatenates_the_parts(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let mut attrs = ObjectAttrs {
        content_type: Some("video/mp4".into()),
        ..ObjectAttrs::default()
    };
    attrs.user_metadata.insert("color".into(), "blue".into());
    let up = s
        .create_upload("b", "big/movie", attrs.clone(), Default::default())
        .await
        .expect("create upload");
    assert_eq!(up.key, "big/movie");
    assert_eq!(up.attrs, attrs);
    assert_eq!(up.initiated, datetime!(2024-02-29 12:34:56.789 UTC));
    assert!(up.upload_id.len() >= 32, "{}", up.upload_id);
    assert!(
        up.upload_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "URL-safe: {}",
        up.upload_id
    );
    let other = create(s, "b", "big/movie").await;
    assert_ne!(other.upload_id, up.upload_id, "ids are unique");

    let (d1, d2, d3) = (
        data(1, FIVE_MIB),
        data(2, FIVE_MIB + 3),
        b"the end".to_vec(),
    );
    // Out of order on purpose: the listing and the object follow the numbers.
    let p3 = part(s, "b", &up, 3, &d3).await;
    let p1 = part(s, "b", &up, 1, &d1).await;
    let p2 = part(s, "b", &up, 2, &d2).await;
    assert_eq!(p1.number, 1);
    assert_eq!(p1.size, d1.len() as u64);
    assert_eq!(p1.etag, hex::encode(md5_of(&d1)));
    assert_eq!(p3.etag, hex::encode(md5_of(&d3)));
    assert_eq!(p1.checksum, None);
    let (got, parts) = s
        .upload("b", "big/movie", &up.upload_id)
        .await
        .expect("upload");
    assert_eq!(got, up);
    assert_eq!(parts, [p1.clone(), p2.clone(), p3.clone()]);

    let plan = multipart::plan(&up, &parts, &listed(&[&p1, &p2, &p3])).expect("plan");
    let meta = complete(s, "b", &up, &[&p1, &p2, &p3])
        .await
        .expect("complete");
    assert_eq!(meta.key, "big/movie");
    assert_eq!(meta.etag, plan.etag);
    assert!(meta.etag.ends_with("-3"), "{}", meta.etag);
    let mut md5s = Vec::new();
    for p in [&p1, &p2, &p3] {
        md5s.extend(hex::decode(&p.etag).expect("hex"));
    }
    assert_eq!(meta.etag, format!("{}-3", hex::encode(md5_of(&md5s))));
    assert_eq!(meta.size, (d1.len() + d2.len() + d3.len()) as u64);
    assert_eq!(meta.parts, [p1.size, p2.size, p3.size]);
    assert_eq!(meta.attrs, attrs);
    assert_eq!(s.head_object("b", "big/movie").await.expect("head"), meta);
    let body = read(s, "b", "big/movie", None).await;
    assert_eq!(body.len() as u64, meta.size);
    assert!(body[..d1.len()] == d1[..], "part 1");
    assert!(body[d1.len()..d1.len() + d2.len()] == d2[..], "part 2");
    assert_eq!(&body[d1.len() + d2.len()..], &d3[..]);
    let page = s
        .list_objects("b", &query("", None, None, 10))
        .await
        .expect("list");
    assert_eq!(page.objects, [meta]);

    // The completed upload is gone; the other one is untouched.
    let ids: Vec<String> = s
        .list_uploads("b")
        .await
        .expect("list uploads")
        .into_iter()
        .map(|u| u.upload_id)
        .collect();
    assert_eq!(ids, std::slice::from_ref(&other.upload_id));
    if let Some(dir) = upload_dir(&fx, "b", &up) {
        assert!(!dir.exists(), "completed upload's directory removed");
        assert_files_are_where_they_belong(fx.root.as_deref().expect("root"));
    }
    assert_tmp_empty(&fx);
}

async fn a_part_can_be_replaced(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let up = create(s, "b", "k").await;
    let old = part(s, "b", &up, 1, b"first version of part one").await;
    let new = part(s, "b", &up, 1, b"second").await;
    assert_ne!(old.etag, new.etag);
    let (_, parts) = s.upload("b", "k", &up.upload_id).await.expect("upload");
    assert_eq!(parts, std::slice::from_ref(&new));
    assert_code(
        complete(s, "b", &up, &[&old]).await,
        S3ErrorCode::InvalidPart,
    );
    complete(s, "b", &up, &[&new]).await.expect("complete");
    assert_eq!(read(s, "b", "k", None).await, b"second");
    assert_tmp_empty(&fx);
}

async fn completion_rules_are_enforced_and_keep_the_upload(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let up = create(s, "b", "k").await;
    let small = part(s, "b", &up, 1, b"too small to be first").await;
    let big = part(s, "b", &up, 2, &data(9, FIVE_MIB)).await;
    let last = part(s, "b", &up, 3, b"last").await;
    let never = Part {
        number: 4,
        ..last.clone()
    };
    let wrong_etag = Part {
        etag: small.etag.replace(|c: char| c != '0', "0"),
        ..small.clone()
    };
    assert_code(
        complete(s, "b", &up, &[&never]).await,
        S3ErrorCode::InvalidPart,
    );
    assert_code(
        complete(s, "b", &up, &[&wrong_etag]).await,
        S3ErrorCode::InvalidPart,
    );
    assert_code(
        complete(s, "b", &up, &[&last, &big]).await,
        S3ErrorCode::InvalidPartOrder,
    );
    assert_code(
        complete(s, "b", &up, &[&big, &big]).await,
        S3ErrorCode::InvalidPartOrder,
    );
    assert_code(
        complete(s, "b", &up, &[&small, &big]).await,
        S3ErrorCode::EntityTooSmall,
    );
    assert_code(complete(s, "b", &up, &[]).await, S3ErrorCode::MalformedXML);
    // Nothing was written, and the upload is whole.
    assert_code(s.head_object("b", "k").await, S3ErrorCode::NoSuchKey);
    let (_, parts) = s.upload("b", "k", &up.upload_id).await.expect("upload");
    assert_eq!(parts, [small, big.clone(), last.clone()]);
    // Skipping a part is fine; the small one is last.
    let meta = complete(s, "b", &up, &[&big, &last])
        .await
        .expect("complete");
    assert_eq!(meta.parts, [big.size, last.size]);
    assert_tmp_empty(&fx);
}

async fn unknown_or_finished_uploads_are_no_such_upload(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let up = create(s, "b", "k").await;
    let p = part(s, "b", &up, 1, b"x").await;
    let check = |fx: &Fixture, key: &'static str, id: String| {
        let store = fx.store.clone();
        async move {
            let s = &*store;
            let req = PutRequest::new(ObjectAttrs::default(), body(&[b"y"]));
            assert_code(
                s.put_part("b", key, &id, 1, req).await,
                S3ErrorCode::NoSuchUpload,
            );
            assert_code(s.upload("b", key, &id).await, S3ErrorCode::NoSuchUpload);
            let parts = [CompletePart {
                number: 1,
                etag: "00".into(),
                checksum: None,
            }];
            assert_code(
                s.complete_upload("b", key, &id, &parts, None, None).await,
                S3ErrorCode::NoSuchUpload,
            );
            assert_code(
                s.abort_upload("b", key, &id).await,
                S3ErrorCode::NoSuchUpload,
            );
        }
    };
    // Unknown ids, including ones shaped to escape a directory.
    for id in [
        "nope",
        "",
        "..",
        "../../tmp",
        &"0".repeat(32),
        &"f".repeat(32),
    ] {
        check(&fx, "k", id.to_string()).await;
    }
    // The right id for another key.
    check(&fx, "other", up.upload_id.clone()).await;
    let e = s.upload("b", "other", &up.upload_id).await.unwrap_err();
    assert_eq!(e.extra, [("UploadId", up.upload_id.clone())]);
    // Still fine for its own key.
    assert_eq!(
        s.upload("b", "k", &up.upload_id).await.expect("upload").1,
        std::slice::from_ref(&p)
    );
    // Part numbers outside 1..=10000.
    for n in [0, 10_001] {
        let req = PutRequest::new(ObjectAttrs::default(), body(&[b"y"]));
        assert_code(
            s.put_part("b", "k", &up.upload_id, n, req).await,
            S3ErrorCode::InvalidArgument,
        );
    }
    // Missing bucket.
    assert_code(
        s.create_upload("nope", "k", ObjectAttrs::default(), Default::default())
            .await,
        S3ErrorCode::NoSuchBucket,
    );
    assert_code(s.list_uploads("nope").await, S3ErrorCode::NoSuchBucket);
    assert_code(
        s.upload("nope", "k", &up.upload_id).await,
        S3ErrorCode::NoSuchBucket,
    );
    let req = PutRequest::new(ObjectAttrs::default(), body(&[b"y"]));
    assert_code(
        s.put_part("nope", "k", &up.upload_id, 1, req).await,
        S3ErrorCode::NoSuchBucket,
    );
    // After completion, and after abort.
    complete(s, "b", &up, &[&p]).await.expect("complete");
    check(&fx, "k", up.upload_id.clone()).await;
    let aborted = create(s, "b", "k").await;
    s.abort_upload("b", "k", &aborted.upload_id)
        .await
        .expect("abort");
    check(&fx, "k", aborted.upload_id.clone()).await;
    assert_eq!(read(s, "b", "k", None).await, b"x");
    assert_tmp_empty(&fx);
}

async fn abort_frees_the_parts(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let up = create(s, "b", "k").await;
    part(s, "b", &up, 1, &data(3, 1 << 20)).await;
    part(s, "b", &up, 2, b"two").await;
    let dir = upload_dir(&fx, "b", &up);
    if let Some(dir) = &dir {
        assert_eq!(files_under(dir).len(), 3, "upload.json and two parts");
    }
    s.abort_upload("b", "k", &up.upload_id)
        .await
        .expect("abort");
    assert!(s.list_uploads("b").await.expect("list").is_empty());
    assert_code(
        s.upload("b", "k", &up.upload_id).await,
        S3ErrorCode::NoSuchUpload,
    );
    assert_code(s.head_object("b", "k").await, S3ErrorCode::NoSuchKey);
    if let Some(dir) = &dir {
        assert!(!dir.exists(), "aborted upload's directory removed");
    }
    assert_tmp_empty(&fx);
}

async fn uploads_are_not_objects_and_go_with_their_bucket(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let up = create(s, "b", "k").await;
    part(s, "b", &up, 1, b"pending").await;
    let page = s
        .list_objects("b", &query("", None, None, 10))
        .await
        .expect("list");
    assert_eq!(page, ListPage::default());
    assert_code(s.head_object("b", "k").await, S3ErrorCode::NoSuchKey);
    // S3 deletes a bucket with uploads in progress (BucketNotEmpty is for objects);
    // the uploads go with it.
    s.delete_bucket("b").await.expect("delete bucket");
    assert_code(
        s.upload("b", "k", &up.upload_id).await,
        S3ErrorCode::NoSuchBucket,
    );
    s.create_bucket("b", "us-east-1").await.expect("re-create");
    assert!(s.list_uploads("b").await.expect("list").is_empty());
    assert_code(
        s.upload("b", "k", &up.upload_id).await,
        S3ErrorCode::NoSuchUpload,
    );
    assert_tmp_empty(&fx);
}

async fn uploads_are_listed_by_key_time_and_id(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    assert!(s.list_uploads("b").await.expect("list").is_empty());
    let mut made = Vec::new();
    for key in ["é", "b", "a", "z", "a", "b/c", "a"] {
        made.push(create(s, "b", key).await);
        fx.clock.advance(Duration::from_secs(1));
    }
    // Two at the same instant: ordered by id.
    made.push(create(s, "b", "same").await);
    made.push(create(s, "b", "same").await);
    let listed = s.list_uploads("b").await.expect("list");
    let mut want = made.clone();
    want.sort_by(|x, y| {
        (x.key.as_bytes(), x.initiated, &x.upload_id).cmp(&(
            y.key.as_bytes(),
            y.initiated,
            &y.upload_id,
        ))
    });
    assert_eq!(listed, want);
    let keys: Vec<&str> = listed.iter().map(|u| u.key.as_str()).collect();
    assert_eq!(keys, ["a", "a", "a", "b", "b/c", "same", "same", "z", "é"]);
    assert!(listed[0].initiated < listed[1].initiated);
}

async fn a_refusing_commit_check_keeps_the_upload(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let old = put(s, "b", "k", b"old").await;
    let up = create(s, "b", "k").await;
    let p = part(s, "b", &up, 1, b"new").await;
    let seen = Arc::new(Mutex::new(None));
    let seen_in = seen.clone();
    let refuse: CommitCheck = Box::new(move |current| {
        *seen_in.lock().expect("lock") = current.cloned();
        Err(S3Error::new(S3ErrorCode::PreconditionFailed))
    });
    assert_code(
        s.complete_upload("b", "k", &up.upload_id, &listed(&[&p]), Some(refuse), None)
            .await,
        S3ErrorCode::PreconditionFailed,
    );
    assert_eq!(seen.lock().expect("lock").as_ref(), Some(&old));
    assert_eq!(s.head_object("b", "k").await.expect("head"), old);
    assert_eq!(read(s, "b", "k", None).await, b"old");
    let (_, parts) = s
        .upload("b", "k", &up.upload_id)
        .await
        .expect("still there");
    assert_eq!(parts, std::slice::from_ref(&p));
    assert_tmp_empty(&fx);
    let accept: CommitCheck = Box::new(|current| {
        assert!(current.is_some());
        Ok(())
    });
    let meta = s
        .complete_upload("b", "k", &up.upload_id, &listed(&[&p]), Some(accept), None)
        .await
        .expect("complete");
    assert!(meta.etag.ends_with("-1"));
    assert_eq!(read(s, "b", "k", None).await, b"new");
    assert_tmp_empty(&fx);
}

async fn a_failing_part_body_keeps_the_previous_part(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let up = create(s, "b", "k").await;
    let good = part(s, "b", &up, 1, b"good part").await;
    let req = PutRequest::new(ObjectAttrs::default(), failing_body(&[b"bad ", b"part"]));
    assert_code(
        s.put_part("b", "k", &up.upload_id, 1, req).await,
        S3ErrorCode::IncompleteBody,
    );
    let req = PutRequest {
        content_md5: Some(md5_of(b"something else")),
        ..PutRequest::new(ObjectAttrs::default(), body(&[b"other"]))
    };
    assert_code(
        s.put_part("b", "k", &up.upload_id, 1, req).await,
        S3ErrorCode::BadDigest,
    );
    let req = PutRequest::new(ObjectAttrs::default(), failing_body(&[b"x"]));
    assert_code(
        s.put_part("b", "k", &up.upload_id, 2, req).await,
        S3ErrorCode::IncompleteBody,
    );
    let (_, parts) = s.upload("b", "k", &up.upload_id).await.expect("upload");
    assert_eq!(parts, std::slice::from_ref(&good));
    // A matching Content-MD5 is accepted.
    let req = PutRequest {
        content_md5: Some(md5_of(b"fine")),
        ..PutRequest::new(ObjectAttrs::default(), body(&[b"fi", b"ne"]))
    };
    s.put_part("b", "k", &up.upload_id, 2, req)
        .await
        .expect("part 2");
    complete(s, "b", &up, &[&good]).await.expect("complete");
    assert_eq!(read(s, "b", "k", None).await, b"good part");
    assert_tmp_empty(&fx);
}

fn crc32(data: &[u8]) -> String {
    let mut h = ChecksumAlgorithm::Crc32.hasher();
    h.update(data);
    h.finish()
}

async fn a_checksum_upload_gives_the_composite_checksum(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let checksum = UploadChecksum {
        algorithm: ChecksumAlgorithm::Crc32,
        kind: ChecksumType::Composite,
    };
    let attrs = ObjectAttrs {
        content_type: Some("application/octet-stream".into()),
        ..ObjectAttrs::default()
    };
    let up = s
        .create_upload("b", "k", attrs.clone(), Some(checksum).into())
        .await
        .expect("create upload");
    assert_eq!(up.checksum, Some(checksum));
    let (d1, d2) = (data(5, FIVE_MIB), b"tail of the object".to_vec());
    // Part 1 declares its checksum as a header, part 2 in the body's trailer.
    let mut header = ObjectAttrs::default();
    header
        .extra
        .insert("x-amz-checksum-crc32".into(), crc32(&d1));
    let req = PutRequest::new(header, chunked(&d1));
    let p1 = s
        .put_part("b", "k", &up.upload_id, 1, req)
        .await
        .expect("part 1");
    assert_eq!(p1.checksum, Some(crc32(&d1)));
    let trailing = TrailingAttrs::default();
    trailing.record("x-amz-checksum-crc32", &crc32(&d2));
    let req = PutRequest {
        trailing: Some(trailing),
        ..PutRequest::new(ObjectAttrs::default(), body(&[&d2]))
    };
    let p2 = s
        .put_part("b", "k", &up.upload_id, 2, req)
        .await
        .expect("part 2");
    assert_eq!(p2.checksum, Some(crc32(&d2)));
    let (_, parts) = s.upload("b", "k", &up.upload_id).await.expect("upload");
    assert_eq!(parts, [p1.clone(), p2.clone()]);

    let mut request = listed(&[&p1, &p2]);
    for (want, p) in request.iter_mut().zip([&p1, &p2]) {
        want.checksum = Some((ChecksumAlgorithm::Crc32, p.checksum.clone().expect("sum")));
    }
    let plan = multipart::plan(&up, &parts, &request).expect("plan");
    let (_, value) = plan.checksum.clone().expect("checksum");
    assert!(value.ends_with("-2"), "{value}");
    let meta = s
        .complete_upload("b", "k", &up.upload_id, &request, None, None)
        .await
        .expect("complete");
    assert_eq!(meta.etag, plan.etag);
    assert_eq!(
        meta.attrs.extra.get("x-amz-checksum-crc32"),
        Some(&value),
        "{:?}",
        meta.attrs
    );
    assert_eq!(
        meta.attrs
            .extra
            .get("x-amz-checksum-type")
            .map(String::as_str),
        Some("COMPOSITE")
    );
    assert_eq!(meta.attrs.content_type, attrs.content_type);
    assert_eq!(s.head_object("b", "k").await.expect("head"), meta);
    assert_tmp_empty(&fx);
}

async fn concurrent_parts_of_one_upload_are_all_kept(fx: Fixture) {
    fx.store
        .create_bucket("b", "us-east-1")
        .await
        .expect("create");
    let up = create(&*fx.store, "b", "k").await;
    let mut tasks = Vec::new();
    for n in 1..=4u8 {
        let (store, id) = (fx.store.clone(), up.upload_id.clone());
        // The last part is small; the others just reach the minimum.
        let len = if n == 4 { 1000 } else { FIVE_MIB };
        tasks.push(tokio::spawn(async move {
            let req = PutRequest::new(ObjectAttrs::default(), slow_body(b'a' + n, len, 64 << 10));
            store.put_part("b", "k", &id, u32::from(n), req).await
        }));
    }
    let mut parts = Vec::new();
    for task in tasks {
        parts.push(task.await.expect("join").expect("put part"));
    }
    let s = &*fx.store;
    let (_, stored) = s.upload("b", "k", &up.upload_id).await.expect("upload");
    assert_eq!(stored, parts);
    let refs: Vec<&Part> = parts.iter().collect();
    let meta = complete(s, "b", &up, &refs).await.expect("complete");
    let body = read(s, "b", "k", None).await;
    assert_eq!(body.len() as u64, meta.size);
    let mut offset = 0;
    for (i, p) in parts.iter().enumerate() {
        let slice = &body[offset..offset + p.size as usize];
        assert!(
            slice.iter().all(|b| *b == b'b' + i as u8),
            "part {}",
            p.number
        );
        offset += p.size as usize;
    }
    assert_tmp_empty(&fx);
}

async fn concurrent_complete_and_abort_one_wins(fx: Fixture) {
    fx.store
        .create_bucket("b", "us-east-1")
        .await
        .expect("create");
    let (mut completed, mut aborted) = (0, 0);
    for round in 0..10 {
        let key = format!("k{round}");
        let up = create(&*fx.store, "b", &key).await;
        let p = part(&*fx.store, "b", &up, 1, &data(round, 300_000)).await;
        let (store, u, q) = (fx.store.clone(), up.clone(), p.clone());
        let completing =
            tokio::spawn(async move { complete(&*store, "b", &u, &[&q]).await.map(|_| ()) });
        let (store, u) = (fx.store.clone(), up.clone());
        let aborting =
            tokio::spawn(async move { store.abort_upload("b", &u.key, &u.upload_id).await });
        let c = completing.await.expect("join");
        let a = aborting.await.expect("join");
        let s = &*fx.store;
        match (c, a) {
            (Ok(()), Err(e)) => {
                assert_eq!(e.code, S3ErrorCode::NoSuchUpload, "{e:?}");
                completed += 1;
                assert_eq!(read(s, "b", &key, None).await, data(round, 300_000));
            }
            (Err(e), Ok(())) => {
                assert_eq!(e.code, S3ErrorCode::NoSuchUpload, "{e:?}");
                aborted += 1;
                assert_code(s.head_object("b", &key).await, S3ErrorCode::NoSuchKey);
            }
            other => panic!("exactly one must win: {other:?}"),
        }
        assert_code(
            s.upload("b", &key, &up.upload_id).await,
            S3ErrorCode::NoSuchUpload,
        );
        if let Some(dir) = upload_dir(&fx, "b", &up) {
            assert!(!dir.exists());
        }
    }
    assert_eq!(completed + aborted, 10);
    assert!(fx.store.list_uploads("b").await.expect("list").is_empty());
    assert_tmp_empty(&fx);
}

fn tag_set(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A body written with `restore` (a version moved between a key and its history) keeps
/// the metadata it had: a multipart ETag and its parts, its time and its version stamp,
/// for a small body and a large one; a body whose size disagrees is refused.
async fn a_restored_object_keeps_its_metadata(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let big = data(9, 300 * 1024);
    for (key, payload) in [("small", &b"tiny"[..]), ("big", &big[..])] {
        let kept = ObjectMeta {
            key: "elsewhere".into(),
            size: payload.len() as u64,
            etag: "0123456789abcdef0123456789abcdef-2".into(),
            last_modified: time::macros::datetime!(2025-03-01 10:00:00.123 UTC),
            attrs: ObjectAttrs {
                version: Some(strict_s3::storage::VersionStamp {
                    id: "null".into(),
                    seq: 42,
                    delete_marker: false,
                }),
                ..ObjectAttrs::default()
            },
            parts: vec![payload.len() as u64 - 1, 1],
            part_checksums: vec!["AAAAAA==".into(), "AAAAAQ==".into()],
        };
        let put = PutRequest {
            restore: Some(Box::new(kept.clone())),
            ..PutRequest::new(kept.attrs.clone(), body(&[payload]))
        };
        let meta = s.put_object("b", key, put).await.expect("put");
        let expected = ObjectMeta {
            key: key.into(),
            ..kept.clone()
        };
        assert_eq!(meta, expected, "{key}");
        assert_eq!(s.head_object("b", key).await.expect("head"), expected);
        let wrong = PutRequest {
            restore: Some(Box::new(ObjectMeta {
                size: 1,
                ..kept.clone()
            })),
            ..PutRequest::new(kept.attrs.clone(), body(&[payload]))
        };
        assert!(s.put_object("b", "wrong", wrong).await.is_err());
    }
    assert_eq!(
        s.head_object("b", "wrong").await.unwrap_err().code,
        S3ErrorCode::NoSuchKey
    );
}

/// Tags are part of an object's attributes: stored with a small body and a large one,
/// replaced and removed by an attribute update without touching the body, taken from
/// the upload by a completed multipart object, and gone when the key is overwritten.
async fn tags_are_stored_replaced_and_carried_by_uploads(fx: Fixture) {
    let s = &*fx.store;
    s.create_bucket("b", "us-east-1").await.expect("create");
    let tags = tag_set(&[("project", "x y"), ("b", ""), ("a", "日本")]);
    let big = data(7, 300 * 1024);
    for (key, payload) in [("small", &b"tiny"[..]), ("big", &big[..])] {
        let attrs = ObjectAttrs {
            tags: tags.clone(),
            ..ObjectAttrs::default()
        };
        let meta = s
            .put_object("b", key, PutRequest::new(attrs, body(&[payload])))
            .await
            .expect("put");
        assert_eq!(meta.attrs.tags, tags, "{key}: in the given order");
        assert_eq!(
            s.head_object("b", key).await.expect("head").attrs.tags,
            tags
        );
        let replaced = tag_set(&[("only", "1")]);
        let new = replaced.clone();
        let update: AttrsUpdate = Arc::new(move |a| {
            a.tags = new.clone();
            Ok(())
        });
        let updated = s.update_attrs("b", key, update).await.expect("update");
        assert_eq!(updated.attrs.tags, replaced);
        assert_eq!(updated.etag, meta.etag, "{key}: the body is untouched");
        let opened = s.open_object("b", key).await.expect("open");
        assert_eq!(opened.meta.attrs.tags, replaced);
        assert_eq!(collect(opened.body.stream(None)).await, payload);
        let clear: AttrsUpdate = Arc::new(|a| {
            a.tags.clear();
            Ok(())
        });
        s.update_attrs("b", key, clear).await.expect("clear");
        assert!(
            s.head_object("b", key)
                .await
                .expect("head")
                .attrs
                .tags
                .is_empty()
        );
    }
    let clear: AttrsUpdate = Arc::new(|a| {
        a.tags.clear();
        Ok(())
    });
    assert_code(
        s.update_attrs("b", "absent", clear).await,
        S3ErrorCode::NoSuchKey,
    );

    let attrs = ObjectAttrs {
        tags: tags.clone(),
        ..ObjectAttrs::default()
    };
    let up = s
        .create_upload("b", "multi", attrs, Default::default())
        .await
        .expect("create upload");
    let p1 = part(s, "b", &up, 1, &data(1, FIVE_MIB)).await;
    let p2 = part(s, "b", &up, 2, b"end").await;
    let done = s
        .complete_upload(
            "b",
            "multi",
            &up.upload_id,
            &listed(&[&p1, &p2]),
            None,
            None,
        )
        .await
        .expect("complete");
    assert_eq!(done.attrs.tags, tags);
    assert_eq!(
        s.head_object("b", "multi").await.expect("head").attrs.tags,
        tags
    );
    let plain = put(s, "b", "multi", b"overwritten").await;
    assert!(
        plain.attrs.tags.is_empty(),
        "an overwrite replaces the tags too"
    );
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

    /// Tags set at PUT and by an update survive a restart, for a record in a segment
    /// and for an object file alike.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tags_survive_a_restart() {
        let mut fx = disk().await;
        let s = &*fx.store;
        s.create_bucket("b", "us-east-1").await.expect("create");
        let tags = tag_set(&[("z", "1"), ("a", "2")]);
        let big = data(3, 300 * 1024);
        for (key, payload) in [("small", &b"tiny"[..]), ("big", &big[..])] {
            let attrs = ObjectAttrs {
                tags: tags.clone(),
                ..ObjectAttrs::default()
            };
            s.put_object("b", key, PutRequest::new(attrs, body(&[payload])))
                .await
                .expect("put");
        }
        let updated = tag_set(&[("after", "update")]);
        let new = updated.clone();
        let update: AttrsUpdate = Arc::new(move |a| {
            a.tags = new.clone();
            Ok(())
        });
        s.update_attrs("b", "small", update).await.expect("update");
        fx.store = Arc::new(MemoryStorage::default()); // drops the disk store
        let s = reopen(&fx).await;
        assert_eq!(
            s.head_object("b", "small").await.expect("head").attrs.tags,
            updated
        );
        assert_eq!(
            s.head_object("b", "big").await.expect("head").attrs.tags,
            tags
        );
        assert_eq!(read(&s, "b", "big", None).await, big);
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
    async fn uploads_survive_a_restart() {
        let mut fx = disk().await;
        let s = &*fx.store;
        s.create_bucket("b", "us-east-1").await.expect("create");
        let checksum = UploadChecksum {
            algorithm: ChecksumAlgorithm::Crc32,
            kind: ChecksumType::FullObject,
        };
        let mut attrs = ObjectAttrs::default();
        attrs.user_metadata.insert("m".into(), "v".into());
        let first = s
            .create_upload("b", "x/y", attrs, Some(checksum).into())
            .await
            .expect("create upload");
        fx.clock.advance(Duration::from_secs(1));
        let second = create(s, "b", "a").await;
        let mut sum = ObjectAttrs::default();
        let d1 = data(7, FIVE_MIB);
        sum.extra.insert("x-amz-checksum-crc32".into(), crc32(&d1));
        let p1 = s
            .put_part(
                "b",
                "x/y",
                &first.upload_id,
                1,
                PutRequest::new(sum, chunked(&d1)),
            )
            .await
            .expect("part");
        let mut sum = ObjectAttrs::default();
        sum.extra
            .insert("x-amz-checksum-crc32".into(), crc32(b"end"));
        let p2 = s
            .put_part(
                "b",
                "x/y",
                &first.upload_id,
                2,
                PutRequest::new(sum, body(&[b"end"])),
            )
            .await
            .expect("part");
        let gone = create(s, "b", "gone").await;
        s.abort_upload("b", "gone", &gone.upload_id)
            .await
            .expect("abort");
        let uploads = s.list_uploads("b").await.expect("list");
        assert_eq!(uploads, [second.clone(), first.clone()]);
        assert_files_are_where_they_belong(fx.root.as_deref().expect("root"));

        fx.store = Arc::new(MemoryStorage::default());
        let s = reopen(&fx).await;
        assert_eq!(s.list_uploads("b").await.expect("list"), uploads);
        let (got, parts) = s
            .upload("b", "x/y", &first.upload_id)
            .await
            .expect("upload");
        assert_eq!(got, first);
        assert_eq!(parts, [p1.clone(), p2.clone()]);
        assert!(
            s.list_objects("b", &query("", None, None, 10))
                .await
                .expect("list")
                .objects
                .is_empty()
        );
        let mut request = listed(&[&p1, &p2]);
        for (want, p) in request.iter_mut().zip([&p1, &p2]) {
            want.checksum = Some((ChecksumAlgorithm::Crc32, p.checksum.clone().expect("sum")));
        }
        let meta = s
            .complete_upload("b", "x/y", &first.upload_id, &request, None, None)
            .await
            .expect("complete after restart");
        let mut whole = d1.clone();
        whole.extend_from_slice(b"end");
        assert_eq!(
            meta.attrs.extra.get("x-amz-checksum-crc32"),
            Some(&crc32(&whole))
        );
        assert_eq!(
            meta.attrs
                .extra
                .get("x-amz-checksum-type")
                .map(String::as_str),
            Some("FULL_OBJECT")
        );
        assert_eq!(
            meta.attrs.user_metadata.get("m").map(String::as_str),
            Some("v")
        );
        assert!(read(&s, "b", "x/y", None).await == whole);
        assert_eq!(s.list_uploads("b").await.expect("list"), [second]);
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
