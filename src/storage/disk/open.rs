//! Opening a store: the root's lock, a clean `tmp/`, and every bucket's index rebuilt
//! from the object files' trailers (the files are authoritative, so this is correct
//! after any crash), with its uploads and interrupted completions recovered.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::durable::{file_name, internal, io_context, read_dir_paths};
use super::format::read_meta;
use super::index::Index;
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
    let index = scan_objects(&dir.join(OBJECTS_DIR))?;
    let mut uploads = scan_uploads(&dir.join(UPLOADS_DIR))?;
    uploads::recover_completions(&dir.join(UPLOADS_DIR), &mut uploads, &index)?;
    Ok(Some(DiskBucket::new(
        info,
        dir.to_path_buf(),
        index,
        uploads,
    )))
}

/// Rebuilds a bucket's index from its object files, reading the fan-out directories on
/// as many threads as there are cores (at most [`SCAN_THREADS`]): the reads are from the
/// page cache after a restart, so opening a large bucket is bound by CPU (system calls
/// and JSON), not by the disk.
fn scan_objects(objects: &Path) -> Result<Index, S3Error> {
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
    let scanned: Vec<Result<Vec<ObjectMeta>, S3Error>> = std::thread::scope(|scope| {
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
    for metas in scanned {
        for meta in metas? {
            index.insert(meta);
        }
    }
    Ok(index)
}

/// The most threads [`scan_objects`] uses.
const SCAN_THREADS: usize = 8;

/// One object file's metadata, if it is a well-formed object file stored under the name
/// of its own key; anything else is logged and left out of the index.
fn load_object_meta(path: &Path) -> Option<ObjectMeta> {
    let name = file_name(path);
    if !ObjectName::is_object_file_name(name) {
        tracing::warn!(path = %path.display(), "unexpected file in objects dir; ignored");
        return None;
    }
    let meta = File::open(path)
        .map_err(io_context("open", path))
        .and_then(|f| read_meta(&f, path));
    match meta {
        Ok(meta) if ObjectName::of_key(&meta.key).file == name => Some(meta),
        Ok(meta) => {
            tracing::warn!(path = %path.display(), key = %meta.key, "object file under another key's name; ignored");
            None
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "unreadable object file; ignored");
            None
        }
    }
}
