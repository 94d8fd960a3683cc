//! The segment store's own rules, through the store: which write of a key wins after a
//! reopen, tombstones, stale files, torn tails and compaction.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures_util::StreamExt;

use super::super::put::SMALL_BODY;
use super::super::{DiskStorage, SEGMENTS_DIR};
use crate::clock::SystemClock;
use crate::storage::{ObjectAttrs, PutRequest, Storage};

async fn open(root: &Path) -> DiskStorage {
    DiskStorage::open(root, Arc::new(SystemClock))
        .await
        .expect("open")
}

async fn with_bucket(root: &Path) -> DiskStorage {
    let s = open(root).await;
    s.create_bucket_with("b", "us-east-1", Vec::new())
        .await
        .expect("create");
    s
}

async fn put(s: &DiskStorage, key: &str, data: &[u8]) {
    let body = crate::body::from_chunks(vec![Bytes::copy_from_slice(data)]);
    s.put_object("b", key, PutRequest::new(ObjectAttrs::default(), body))
        .await
        .expect("put");
}

async fn get(s: &DiskStorage, key: &str) -> Option<Vec<u8>> {
    let object = s.open_object("b", key).await.ok()?;
    let mut stream = object.body.stream(None);
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("chunk"));
    }
    assert_eq!(out.len() as u64, object.meta.size);
    Some(out)
}

fn large(byte: u8) -> Vec<u8> {
    vec![byte; SMALL_BODY as usize + 1000]
}

fn object_file(s: &DiskStorage, key: &str) -> PathBuf {
    s.handle("b").expect("bucket").object_path(key)
}

fn segment_ids(s: &DiskStorage) -> Vec<u32> {
    s.handle("b").expect("bucket").index().segments.ids()
}

fn segment_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root.join("buckets/b").join(SEGMENTS_DIR))
        .expect("segments dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn a_small_and_a_large_put_of_one_key_come_back_as_acknowledged_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_bucket(dir.path()).await;
    put(&s, "k", b"small one").await;
    assert!(!object_file(&s, "k").exists(), "a small body is a record");
    drop(s);
    let s = open(dir.path()).await;
    assert_eq!(get(&s, "k").await.as_deref(), Some(&b"small one"[..]));
    // A large put over it: a file, newer than the record still in the segment.
    put(&s, "k", &large(1)).await;
    assert!(object_file(&s, "k").exists());
    drop(s);
    let s = open(dir.path()).await;
    assert_eq!(get(&s, "k").await, Some(large(1)));
    // A small put over the file: the record wins and the file goes.
    put(&s, "k", b"small two").await;
    assert!(!object_file(&s, "k").exists());
    drop(s);
    let s = open(dir.path()).await;
    assert_eq!(get(&s, "k").await.as_deref(), Some(&b"small two"[..]));
}

/// A crash after a record that replaces a file was made durable, before the file was
/// removed: at the next open the record outvotes the file, which is removed.
#[tokio::test]
async fn a_file_outvoted_by_a_newer_record_is_removed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_bucket(dir.path()).await;
    put(&s, "k", &large(2)).await;
    let file = object_file(&s, "k");
    let kept = std::fs::read(&file).unwrap();
    put(&s, "k", b"newer").await;
    assert!(!file.exists());
    drop(s);
    std::fs::write(&file, kept).unwrap();
    let s = open(dir.path()).await;
    assert_eq!(get(&s, "k").await.as_deref(), Some(&b"newer"[..]));
    assert!(!file.exists(), "the outvoted file is removed");
}

#[tokio::test]
async fn deleted_keys_stay_deleted_after_reopen_whatever_held_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_bucket(dir.path()).await;
    put(&s, "record", b"r").await;
    put(&s, "file", &large(3)).await;
    // A file whose delete a crash interrupted after the tombstone was durable.
    let file = object_file(&s, "file");
    let kept = std::fs::read(&file).unwrap();
    s.delete_object("b", "record").await.unwrap();
    s.delete_object("b", "file").await.unwrap();
    assert!(!file.exists());
    assert_eq!(get(&s, "record").await, None);
    drop(s);
    std::fs::write(&file, kept).unwrap();
    let s = open(dir.path()).await;
    assert_eq!(get(&s, "record").await, None);
    assert_eq!(get(&s, "file").await, None);
    assert!(!file.exists());
    // Deleted keys can be written again, and that write survives a reopen too.
    put(&s, "record", b"again").await;
    drop(s);
    let s = open(dir.path()).await;
    assert_eq!(get(&s, "record").await.as_deref(), Some(&b"again"[..]));
}

/// A bucket of only object files (a store from before segments, or only large puts)
/// deletes by removing the file, as before: no segment is created for a tombstone.
#[tokio::test]
async fn a_bucket_without_segments_deletes_without_a_tombstone() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_bucket(dir.path()).await;
    put(&s, "file", &large(4)).await;
    s.delete_object("b", "file").await.unwrap();
    assert!(segment_ids(&s).is_empty());
    assert!(segment_files(dir.path()).is_empty());
    drop(s);
    let s = open(dir.path()).await;
    assert_eq!(get(&s, "file").await, None);
}

#[tokio::test]
async fn a_torn_record_at_the_end_is_cut_at_open_and_appends_follow_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_bucket(dir.path()).await;
    put(&s, "a", b"first").await;
    put(&s, "b", b"second").await;
    drop(s);
    // An open cuts the zeros written ahead of the records (themselves a torn tail).
    drop(open(dir.path()).await);
    let seg = segment_files(dir.path()).pop().expect("a segment");
    let whole = std::fs::metadata(&seg).unwrap().len();
    // Half a record's header and meta, as a crash mid-write leaves it.
    let mut torn = std::fs::read(&seg).unwrap();
    torn.extend_from_within(..60);
    std::fs::write(&seg, &torn).unwrap();
    let s = open(dir.path()).await;
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), whole);
    assert_eq!(get(&s, "a").await.as_deref(), Some(&b"first"[..]));
    put(&s, "c", b"third").await;
    drop(s);
    let s = open(dir.path()).await;
    for (key, data) in [("a", "first"), ("b", "second"), ("c", "third")] {
        assert_eq!(
            get(&s, key).await.as_deref(),
            Some(data.as_bytes()),
            "{key}"
        );
    }
}

#[tokio::test]
async fn compaction_keeps_every_live_object_and_deletes_dead_segments() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_bucket(dir.path()).await;
    let bucket = s.handle("b").unwrap();
    bucket.segment_limit.store(8 * 1024, Ordering::Relaxed);
    for i in 0..10 {
        put(&s, &format!("cold-{i}"), format!("cold {i}").as_bytes()).await;
    }
    put(&s, "gone", b"deleted soon").await;
    s.delete_object("b", "gone").await.unwrap();
    let hot = |i: usize| vec![(i % 251) as u8; 1024];
    for i in 0..300 {
        put(&s, "hot", &hot(i)).await;
    }
    let ids = segment_ids(&s);
    // 300 KiB written; compacted, a few segments of 8 KiB remain, the first long gone.
    assert!(ids.len() <= 4, "segments left: {ids:?}");
    assert!(ids[0] > 1, "the first segment was compacted away: {ids:?}");
    assert_eq!(segment_files(dir.path()).len(), ids.len());
    let check = |s: DiskStorage| async move {
        for i in 0..10 {
            let want = format!("cold {i}");
            assert_eq!(
                get(&s, &format!("cold-{i}")).await.as_deref(),
                Some(want.as_bytes())
            );
        }
        assert_eq!(get(&s, "hot").await, Some(hot(299)));
        assert_eq!(get(&s, "gone").await, None);
        s
    };
    let s = check(s).await;
    drop((s, bucket));
    check(open(dir.path()).await).await;
}

/// Puts from many tasks at once while compaction runs among them (a small segment limit
/// makes it run often): every key ends with its last write, before and after a reopen, and
/// a body opened before its segment was compacted away still reads whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts_and_compaction_keep_every_last_write() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(with_bucket(dir.path()).await);
    s.handle("b")
        .unwrap()
        .segment_limit
        .store(16 * 1024, Ordering::Relaxed);
    let value = |task: usize, round: usize| vec![(task * 37 + round) as u8; 700 + task * 10];
    put(&s, "early", b"opened before compaction").await;
    let early = s.open_object("b", "early").await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let s = s.clone();
            tokio::spawn(async move {
                for round in 0..60 {
                    put(&s, &format!("k{task}"), &value(task, round)).await;
                    if round % 10 == 9 {
                        s.delete_object("b", &format!("gone{task}")).await.unwrap();
                    } else {
                        put(&s, &format!("gone{task}"), b"x").await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let ids = segment_ids(&s);
    assert!(ids[0] > 1, "compaction ran: {ids:?}");
    let mut body = early.body.stream(None);
    let mut read = Vec::new();
    while let Some(chunk) = body.next().await {
        read.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(read, b"opened before compaction");
    let check = |s: Arc<DiskStorage>| async move {
        for task in 0..8 {
            assert_eq!(get(&s, &format!("k{task}")).await, Some(value(task, 59)));
            assert_eq!(get(&s, &format!("gone{task}")).await, None);
        }
        assert_eq!(
            get(&s, "early").await.as_deref(),
            Some(&b"opened before compaction"[..])
        );
    };
    check(s.clone()).await;
    drop(s);
    check(Arc::new(open(dir.path()).await)).await;
}

/// A damaged byte in the middle of a segment (not a crash's torn tail) loses the one
/// record it is in: the records after it are found again, and the segment is not cut.
#[tokio::test]
async fn a_damaged_record_loses_itself_only() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_bucket(dir.path()).await;
    put(&s, "a", b"first").await;
    put(&s, "b", &[7u8; 5000]).await;
    put(&s, "c", b"third").await;
    drop(s);
    let seg = segment_files(dir.path()).pop().expect("a segment");
    let mut bytes = std::fs::read(&seg).unwrap();
    let in_b = bytes.windows(100).position(|w| w == [7u8; 100]).unwrap();
    bytes[in_b + 2000] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();
    let s = open(dir.path()).await;
    assert_eq!(get(&s, "a").await.as_deref(), Some(&b"first"[..]));
    assert_eq!(get(&s, "b").await, None);
    // Found again past the damage, so the segment was not cut there.
    assert_eq!(get(&s, "c").await.as_deref(), Some(&b"third"[..]));
}

/// Keys put and deleted over and over beside a segment of cold data that never becomes
/// a candidate: the tombstones do not pile up (each is dropped once no older segment
/// holds a record of its key), and compaction always ends.
#[tokio::test]
async fn tombstones_of_short_lived_keys_do_not_pile_up() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_bucket(dir.path()).await;
    s.handle("b")
        .unwrap()
        .segment_limit
        .store(4 * 1024, Ordering::Relaxed);
    for i in 0..3 {
        put(&s, &format!("cold-{i}"), &[1u8; 1000]).await;
    }
    for i in 0..600 {
        put(&s, &format!("tmp-{i}"), &[2u8; 300]).await;
        s.delete_object("b", &format!("tmp-{i}")).await.unwrap();
    }
    let bytes = s.handle("b").unwrap().index().segments.total_size();
    // 600 records and 600 tombstones were written (≈ 300 KiB); a few segments remain.
    // Carried forever, the 600 tombstones alone would be about 23 KiB.
    assert!(bytes < 16 * 1024, "{bytes} bytes of segments left");
    for i in 0..3 {
        assert_eq!(get(&s, &format!("cold-{i}")).await, Some(vec![1u8; 1000]));
    }
    drop(s);
    let s = open(dir.path()).await;
    assert_eq!(get(&s, "tmp-599").await, None);
    assert_eq!(get(&s, "tmp-0").await, None);
}

/// An object file of format 1 (before sequence numbers: `[body][json][len]["S3O1"]`), as
/// an earlier version wrote it, opens as it was and is outvoted by any later write.
#[tokio::test]
async fn an_object_file_of_format_1_opens_and_later_writes_win() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_bucket(dir.path()).await;
    put(&s, "old", &large(5)).await;
    put(&s, "gone", &large(6)).await;
    let files = [object_file(&s, "old"), object_file(&s, "gone")];
    drop(s);
    for file in &files {
        // Format 2 ends [json][seq: 8][len: 8]["S3O2"]: drop the seq, change the magic.
        let mut bytes = std::fs::read(file).unwrap();
        assert_eq!(&bytes[bytes.len() - 4..], b"S3O2");
        let n = bytes.len();
        let len: [u8; 8] = bytes[n - 12..n - 4].try_into().unwrap();
        bytes.truncate(n - 20);
        bytes.extend_from_slice(&len);
        bytes.extend_from_slice(b"S3O1");
        std::fs::write(file, bytes).unwrap();
    }
    let s = open(dir.path()).await;
    assert_eq!(get(&s, "old").await, Some(large(5)));
    put(&s, "old", b"new and small").await;
    s.delete_object("b", "gone").await.unwrap();
    drop(s);
    let s = open(dir.path()).await;
    assert_eq!(get(&s, "old").await.as_deref(), Some(&b"new and small"[..]));
    assert_eq!(get(&s, "gone").await, None);
}
