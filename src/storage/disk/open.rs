//! Opening a store: the root's lock, a clean `tmp/`, and every bucket's index rebuilt
//! from the object files' trailers and the segments' records (they are authoritative,
//! so this is correct after any crash: the highest sequence number of a key wins, see
//! `segments`), with its uploads and interrupted completions recovered, stale object
//! files removed and half-dead segments compacted.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::durable::{
    file_name, internal, io_context, parent, read_dir_paths, remove_if_present, sync_dir,
};
use super::format::read_meta;
use super::index::{Index, Stored};
use super::segments::{Loc, SEGMENTS_DIR, ScannedKind, recover_segment, segment_files};
use super::uploads::{self, scan_uploads};
use super::{
    BUCKET_FILE, BUCKETS_DIR, Buckets, DiskBucket, LOCK_FILE, OBJECTS_DIR, TMP_DIR, UPLOADS_DIR,
};
use crate::error::S3Error;
use crate::storage::keymap::ObjectName;
use crate::storage::{BucketInfo, ObjectMeta};

pub(super) fn open_root(root: &Path) -> Result<(File, Buckets), S3Error> {
    let buckets_dir = root.join(BUCKETS_DIR);
    fs::create_dir_all(&buckets_dir).map_err(io_context("create directory", &buckets_dir))?;
    let lock = lock_root(root)?;
    reset_tmp(&root.join(TMP_DIR))?;
    let mut buckets = BTreeMap::new();
    for dir in read_dir_paths(&buckets_dir)? {
        if let Some(bucket) = load_bucket(&dir)? {
            bucket.compact_in_place();
            buckets.insert(bucket.info.name.clone(), Arc::new(bucket));
        }
    }
    Ok((lock, buckets))
}

fn lock_root(root: &Path) -> Result<File, S3Error> {
    let path = root.join(LOCK_FILE);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_context("open", &path))?;
    file.try_lock().map_err(|e| {
        internal(format!(
            "{} is in use by another strict-s3 store ({e})",
            root.display()
        ))
    })?;
    Ok(file)
}

/// Empties `tmp/`: leftovers of writes interrupted by a crash are never visible objects.
fn reset_tmp(tmp: &Path) -> Result<(), S3Error> {
    match fs::remove_dir_all(tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_context("clear", tmp)(e)),
    }
    fs::create_dir(tmp).map_err(io_context("create directory", tmp))
}

/// Loads one bucket directory; `None` (with a warning) if it is not a bucket.
fn load_bucket(dir: &Path) -> Result<Option<DiskBucket>, S3Error> {
    let file = dir.join(BUCKET_FILE);
    let info: BucketInfo = match fs::read(&file) {
        Ok(json) => serde_json::from_slice(&json)
            .map_err(|e| internal(format!("corrupt {}: {e}", file.display())))?,
        Err(e) => {
            tracing::warn!(path = %dir.display(), error = %e, "not a bucket directory; ignored");
            return Ok(None);
        }
    };
    if info.name != file_name(dir) {
        return Err(internal(format!(
            "{} names bucket {:?}",
            file.display(),
            info.name
        )));
    }
    let (mut index, files_seq) = scan_objects(&dir.join(OBJECTS_DIR))?;
    let (stale, records_seq) = replay_segments(&dir.join(SEGMENTS_DIR), &mut index)?;
    let mut uploads = scan_uploads(&dir.join(UPLOADS_DIR))?;
    uploads::recover_completions(&dir.join(UPLOADS_DIR), &mut uploads, &index)?;
    let bucket = DiskBucket::new(
        info,
        dir.to_path_buf(),
        index,
        uploads,
        files_seq.max(records_seq).saturating_add(1),
    );
    remove_stale_files(&bucket, &stale)?;
    Ok(Some(bucket))
}

/// Reads the bucket's segments into the index (which holds the object files already):
/// each record counts if its sequence number is above every other of its key. Returns
/// the keys whose object file was outvoted, and the highest number seen.
fn replay_segments(dir: &Path, index: &mut Index) -> Result<(Vec<String>, u64), S3Error> {
    let mut deleted: HashMap<String, u64> = HashMap::new();
    let mut stale = Vec::new();
    let mut newest = 0u64;
    for seg in segment_files(dir)? {
        let (id, seg) = (seg.id, Arc::new(seg));
        index.segments.add(seg.clone(), 0);
        let end = recover_segment(&seg, |record| {
            newest = newest.max(record.seq);
            let key = record.key();
            match &record.what {
                ScannedKind::Object(_) => index.segments.note_key(id, key),
                // Live until compaction finds it unneeded (see `records`).
                ScannedKind::Delete(_) => index.segments.account(record.loc(id), true),
            }
            let current = index
                .stored(key)
                .map(|s| s.seq)
                .max(deleted.get(key).copied());
            if current.is_some_and(|seq| seq >= record.seq) {
                return;
            }
            let loc = record.loc(id);
            let outvoted_file = index
                .stored(key)
                .is_some_and(|s| s.loc == Loc::File)
                .then(|| key.to_owned());
            match record.what {
                ScannedKind::Object(meta) => {
                    index.insert(
                        *meta,
                        Stored {
                            seq: record.seq,
                            loc,
                        },
                    );
                }
                ScannedKind::Delete(key) => {
                    index.remove(&key);
                    deleted.insert(key, record.seq);
                }
            }
            stale.extend(outvoted_file);
        })?;
        index.segments.grow(id, end);
    }
    Ok((stale, newest))
}

/// Removes the object files outvoted by a newer record (a small put or a delete whose
/// file removal a crash interrupted), durably.
fn remove_stale_files(bucket: &DiskBucket, keys: &[String]) -> Result<(), S3Error> {
    for key in keys {
        let path = bucket.object_path(key);
        if remove_if_present(&path)? {
            sync_dir(parent(&path)?)?;
            tracing::info!(key = %key, "removed an object file a newer record replaced");
        }
    }
    Ok(())
}

/// Rebuilds a bucket's index from its object files, reading the fan-out directories on
/// as many threads as there are cores (at most [`SCAN_THREADS`]): the reads are from the
/// page cache after a restart, so opening a large bucket is bound by CPU (system calls
/// and JSON), not by the disk. Returns the highest sequence number seen.
fn scan_objects(objects: &Path) -> Result<(Index, u64), S3Error> {
    let mut fanouts = Vec::new();
    for fanout in read_dir_paths(objects)? {
        if ObjectName::is_fanout_name(file_name(&fanout)) {
            fanouts.push(fanout);
        } else {
            tracing::warn!(path = %fanout.display(), "unexpected entry in objects dir; ignored");
        }
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, SCAN_THREADS);
    let next = AtomicUsize::new(0);
    let scanned: Vec<Result<Vec<(ObjectMeta, u64)>, S3Error>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut metas = Vec::new();
                    loop {
                        let Some(fanout) = fanouts.get(next.fetch_add(1, Ordering::Relaxed)) else {
                            return Ok(metas);
                        };
                        for path in read_dir_paths(fanout)? {
                            metas.extend(load_object_meta(&path));
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(internal("a thread scanning objects panicked")))
            })
            .collect()
    });
    let mut index = Index::default();
    let mut newest = 0;
    for metas in scanned {
        for (meta, seq) in metas? {
            newest = newest.max(seq);
            index.insert(
                meta,
                Stored {
                    seq,
                    loc: Loc::File,
                },
            );
        }
    }
    Ok((index, newest))
}

/// The most threads [`scan_objects`] uses.
const SCAN_THREADS: usize = 8;

/// One object file's metadata and sequence number, if it is a well-formed object file
/// stored under the name of its own key; anything else is logged and left out of the
/// index.
fn load_object_meta(path: &Path) -> Option<(ObjectMeta, u64)> {
    let name = file_name(path);
    if !ObjectName::is_object_file_name(name) {
        tracing::warn!(path = %path.display(), "unexpected file in objects dir; ignored");
        return None;
    }
    let meta = File::open(path)
        .map_err(io_context("open", path))
        .and_then(|f| read_meta(&f, path));
    match meta {
        Ok((meta, seq)) if ObjectName::of_key(&meta.key).file == name => Some((meta, seq)),
        Ok((meta, _)) => {
            tracing::warn!(path = %path.display(), key = %meta.key, "object file under another key's name; ignored");
            None
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "unreadable object file; ignored");
            None
        }
    }
}
