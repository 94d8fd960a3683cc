//! The disk backend: small objects as records appended to segment files, larger ones as
//! a file each made visible by one atomic rename.
//!
//! # Layout
//!
//! ```text
//! <root>/lock                                   held (flock) while a DiskStorage is open
//! <root>/tmp/                                   temp files and staging dirs; emptied at open
//! <root>/buckets/<bucket>/bucket.json           BucketInfo
//! <root>/buckets/<bucket>/docs/<name>           bucket documents (`cors`, …)
//! <root>/buckets/<bucket>/objects/<ab>/<ab…64>  one file per large object, named by keymap
//! <root>/buckets/<bucket>/segments/<nnnnnnnn>.seg  small objects and deletes, as records
//! <root>/buckets/<bucket>/uploads/<id>/upload.json      a multipart upload in progress
//! <root>/buckets/<bucket>/uploads/<id>/<nnnnn>.part     its parts, by number
//! ```
//!
//! Object keys never become paths (see [`super::keymap`]): an object file is named by the
//! SHA-256 of its key, so no key can reach `tmp/`, a bucket's `bucket.json`, or outside
//! the root. Upload ids are 32 hex digits chosen by the store; an id from a request
//! becomes a path only after it was found among the bucket's uploads.
//!
//! This module holds the store, its buckets and the object operations. The object file
//! format (metadata in a trailer after the body) is in `format`; multipart uploads
//! (upload directories, parts, completion) are in `uploads`; the durable, atomic
//! file-system steps all of them are built from are in `durable`.
//!
//! # Writes
//!
//! A small body (most presigned PUTs) is held in memory as it arrives and, under the
//! bucket's commit lock (a `tokio::sync::Mutex`), after the
//! [`CommitCheck`] ran against the current index entry, appended to the
//! bucket's active segment as one record and indexed; concurrent puts share one
//! `fdatasync` (`segments`, `records`, `group_sync`). A large body becomes a temp file in
//! `tmp/` (hashed with MD5 as bytes pass) with its metadata in a trailer, `fsync`ed, then
//! under the commit lock checked, renamed into place, indexed under the index lock, and
//! its directory `fsync`ed (see `put`). Every commit takes the next number of the
//! bucket's sequence, which decides between a file and a record of the same key after a
//! crash (`segments`). The commit runs in a blocking task which owns the
//! lock guard, so a request dropped mid-commit (the client went away) cannot leave the
//! index out of step with the files. Any failure before the rename (body error,
//! `BadDigest`, a failed check) deletes the temp file and leaves the previous object as it
//! was. Bucket creation and deletion use the same pattern with a directory: a bucket is
//! staged in `tmp/` and renamed into `buckets/`, and deleted by renaming it back to `tmp/`.
//!
//! # Index
//!
//! Listings need keys in order and GET and HEAD need metadata without reading a file;
//! each bucket keeps a compact ordered `index::Index`. It is rebuilt at open by reading
//! every object file's trailer and every segment's records, so it survives restarts and
//! is correct after any crash: the files and records are authoritative, each file is
//! wholly there or absent, a torn record is cut off, and the highest sequence number of
//! a key wins. The uploads of
//! each bucket are likewise loaded from `uploads/` at open.

mod durable;
mod format;
mod group_sync;
mod index;
mod open;
mod put;
mod records;
mod segments;
mod uploads;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use bytes::Bytes;

use super::keymap::{ObjectName, check_bucket_name, check_document_name};
use super::multipart::{CompletePart, Part, Upload, UploadOptions};
use super::{
    AttrsUpdate, BucketInfo, CommitCheck, ListPage, ListQuery, ObjectAttrs, ObjectMeta, OpenObject,
    PutRequest, Storage, VersionStamp,
};
use crate::clock::Clock;
use crate::error::{S3Error, S3ErrorCode};
use durable::{
    TempFile, blocking, create_dir_atomic, ensure_dir, internal, io_context, parent,
    remove_durably, remove_moved_dir, sync_dir, write_atomic, write_synced,
};
use format::{DiskBody, copy_body, create_temp, seal_temp, stamp_seq};
use index::{Index, Stored};
use open::open_root;
use segments::{Loc, SEGMENT_LIMIT, SEGMENTS_DIR};
use uploads::Uploads;

const BUCKETS_DIR: &str = "buckets";
const TMP_DIR: &str = "tmp";
const LOCK_FILE: &str = "lock";
const BUCKET_FILE: &str = "bucket.json";
const DOCS_DIR: &str = "docs";
const OBJECTS_DIR: &str = "objects";
const UPLOADS_DIR: &str = "uploads";
const UPLOAD_FILE: &str = "upload.json";
const PART_SUFFIX: &str = ".part";

/// The disk storage backend.
pub struct DiskStorage {
    root: PathBuf,
    clock: Arc<dyn Clock>,
    buckets: Arc<RwLock<Buckets>>,
    /// Serializes bucket creation and deletion.
    admin: Arc<tokio::sync::Mutex<()>>,
    temp_seq: AtomicU64,
    /// Holds the advisory lock on `<root>/lock` for as long as the store is open, so a
    /// second server cannot clear this one's temp files or race its renames.
    _lock: File,
}

type Buckets = BTreeMap<String, Arc<DiskBucket>>;

/// The commit lock's guard, owned so that it can move into the blocking task that does
/// the commit: a request dropped mid-commit (client gone) cannot release the lock or
/// leave the index behind the files, because the commit runs to its end regardless.
type CommitGuard = tokio::sync::OwnedMutexGuard<bool>;

struct DiskBucket {
    info: BucketInfo,
    dir: PathBuf,
    /// Held while an object or document is committed or removed; `true` once the bucket
    /// is deleted, so a put that was in flight cannot land in a removed bucket.
    commit: Arc<tokio::sync::Mutex<bool>>,
    index: Mutex<Index>,
    /// Uploads in progress, by id; the same as the directories in `uploads/`.
    uploads: Mutex<Uploads>,
    /// The next number of the bucket's commit sequence (see `segments`), taken under the
    /// commit lock.
    next_seq: AtomicU64,
    /// A segment takes records until it holds this much ([`SEGMENT_LIMIT`]; smaller in
    /// tests of compaction).
    segment_limit: AtomicU64,
    /// Set while a compaction runs (one at a time).
    compacting: AtomicBool,
    /// Set for good when a sync of one of its segments failed (see `group_sync`): its
    /// small writes fail from then on, until the store is opened again and read back.
    sync_failed: AtomicBool,
}

impl DiskBucket {
    fn new(
        info: BucketInfo,
        dir: PathBuf,
        index: Index,
        uploads: Uploads,
        next_seq: u64,
    ) -> DiskBucket {
        DiskBucket {
            info,
            dir,
            commit: Arc::new(tokio::sync::Mutex::new(false)),
            index: Mutex::new(index),
            uploads: Mutex::new(uploads),
            next_seq: AtomicU64::new(next_seq),
            segment_limit: AtomicU64::new(SEGMENT_LIMIT),
            compacting: AtomicBool::new(false),
            sync_failed: AtomicBool::new(false),
        }
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        // Nothing panics while holding the lock, so a poisoned lock still holds whole data.
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn objects_dir(&self) -> PathBuf {
        self.dir.join(OBJECTS_DIR)
    }

    fn object_path(&self, key: &str) -> PathBuf {
        self.objects_dir()
            .join(ObjectName::of_key(key).relative_path())
    }

    /// Takes the commit lock, or fails if the bucket was deleted meanwhile.
    async fn lock_commit(&self) -> Result<CommitGuard, S3Error> {
        let guard = self.commit.clone().lock_owned().await;
        if *guard {
            return Err(S3Error::no_such_bucket(&self.info.name));
        }
        Ok(guard)
    }

    /// Check, stamp the sequence number, rename into place, index, fsync the directory:
    /// the commit of an object file, run in a blocking task while holding the commit lock.
    /// A record of the key in a segment is outvoted by the file's higher number.
    fn commit_object(
        &self,
        temp: &Path,
        meta: ObjectMeta,
        check: Option<CommitCheck>,
    ) -> Result<ObjectMeta, S3Error> {
        if let Some(check) = check {
            check(self.index().get(&meta.key).as_ref())?;
        }
        let seq = self.next_seq();
        stamp_seq(temp, seq)?;
        let dir = self.place_object(temp, meta.clone(), seq)?;
        sync_dir(&dir)?;
        Ok(meta)
    }

    /// Renames the temp file over the key's file and indexes its metadata, both under
    /// the index lock, so a reader that takes the metadata and opens the file under that
    /// lock ([`DiskStorage::open_object`]) always gets a matching pair. Returns the
    /// directory, which the caller makes durable.
    fn place_object(&self, temp: &Path, meta: ObjectMeta, seq: u64) -> Result<PathBuf, S3Error> {
        let dest = self.object_path(&meta.key);
        let dir = parent(&dest)?.to_path_buf();
        ensure_dir(&dir, &self.objects_dir())?;
        let mut index = self.index();
        fs::rename(temp, &dest).map_err(io_context("rename into", &dest))?;
        index.insert(
            meta,
            Stored {
                seq,
                loc: Loc::File,
            },
        );
        Ok(dir)
    }
}

impl DiskStorage {
    /// Opens (creating if needed) a store under `root`: takes the directory's lock,
    /// empties `tmp/`, and rebuilds every bucket's index from its object files.
    pub async fn open(
        root: impl AsRef<Path>,
        clock: Arc<dyn Clock>,
    ) -> Result<DiskStorage, S3Error> {
        let root = root.as_ref().to_path_buf();
        let opened_root = root.clone();
        let (lock, buckets) = blocking(move || open_root(&opened_root)).await?;
        Ok(DiskStorage {
            root,
            clock,
            buckets: Arc::new(RwLock::new(buckets)),
            admin: Arc::new(tokio::sync::Mutex::new(())),
            temp_seq: AtomicU64::new(0),
            _lock: lock,
        })
    }

    /// The root directory this store was opened on.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A fresh path in `tmp/`; unique within this store, which owns `tmp/` exclusively.
    fn temp_path(&self) -> PathBuf {
        let seq = self.temp_seq.fetch_add(1, Ordering::Relaxed);
        self.root.join(TMP_DIR).join(format!("{seq}.tmp"))
    }

    fn handle(&self, name: &str) -> Result<Arc<DiskBucket>, S3Error> {
        check_bucket_name(name)?;
        read_lock(&self.buckets)
            .get(name)
            .cloned()
            .ok_or_else(|| S3Error::no_such_bucket(name))
    }
}

fn read_lock(buckets: &RwLock<Buckets>) -> RwLockReadGuard<'_, Buckets> {
    buckets.read().unwrap_or_else(PoisonError::into_inner)
}

fn write_lock(buckets: &RwLock<Buckets>) -> RwLockWriteGuard<'_, Buckets> {
    buckets.write().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl Storage for DiskStorage {
    async fn create_bucket_with(
        &self,
        name: &str,
        region: &str,
        docs: Vec<(&'static str, Bytes)>,
    ) -> Result<BucketInfo, S3Error> {
        check_bucket_name(name)?;
        for (doc, _) in &docs {
            check_document_name(doc)?;
        }
        let admin = self.admin.clone().lock_owned().await;
        if read_lock(&self.buckets).contains_key(name) {
            return Err(BucketInfo::already_owned(name));
        }
        let info = BucketInfo::new(name, region, &*self.clock);
        let staging = self.temp_path();
        let dir = self.root.join(BUCKETS_DIR).join(name);
        let (buckets, created) = (self.buckets.clone(), info.clone());
        blocking(move || {
            let _admin = admin;
            create_dir_atomic(&staging, &dir, |s| build_bucket_dir(s, &created, &docs))?;
            let bucket = DiskBucket::new(created, dir, Index::default(), BTreeMap::new(), 1);
            write_lock(&buckets).insert(bucket.info.name.clone(), Arc::new(bucket));
            Ok(())
        })
        .await?;
        Ok(info)
    }

    async fn delete_bucket(&self, name: &str) -> Result<(), S3Error> {
        let admin = self.admin.clone().lock_owned().await;
        let bucket = self.handle(name)?;
        let mut commit = bucket.lock_commit().await?;
        if !bucket.index().is_empty() {
            return Err(S3Error::new(S3ErrorCode::BucketNotEmpty).extra("BucketName", name));
        }
        let (buckets, grave) = (self.buckets.clone(), self.temp_path());
        blocking(move || {
            let _admin = admin;
            remove_bucket_dir(&bucket.dir, &grave)?;
            *commit = true;
            write_lock(&buckets).remove(&bucket.info.name);
            Ok(())
        })
        .await
    }

    async fn bucket(&self, name: &str) -> Result<BucketInfo, S3Error> {
        Ok(self.handle(name)?.info.clone())
    }

    async fn list_buckets(&self) -> Result<Vec<BucketInfo>, S3Error> {
        let buckets = read_lock(&self.buckets);
        Ok(buckets.values().map(|b| b.info.clone()).collect())
    }

    async fn put_bucket_document(
        &self,
        bucket: &str,
        name: &str,
        doc: Option<Bytes>,
    ) -> Result<(), S3Error> {
        check_document_name(name)?;
        let bucket = self.handle(bucket)?;
        let commit = bucket.lock_commit().await?;
        let path = bucket.dir.join(DOCS_DIR).join(name);
        let temp = self.temp_path();
        blocking(move || {
            let _commit = commit;
            match doc {
                Some(doc) => write_atomic(&temp, &path, &doc),
                None => remove_durably(&path).map(|_| ()),
            }
        })
        .await
    }

    async fn bucket_document(&self, bucket: &str, name: &str) -> Result<Option<Bytes>, S3Error> {
        check_document_name(name)?;
        let path = self.handle(bucket)?.dir.join(DOCS_DIR).join(name);
        match tokio::fs::read(&path).await {
            Ok(doc) => Ok(Some(Bytes::from(doc))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_context("read", &path)(e)),
        }
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        req: PutRequest,
    ) -> Result<ObjectMeta, S3Error> {
        self.put(self.handle(bucket)?, key, req).await
    }

    /// The metadata comes from the index. A record's body is read from its segment's open
    /// descriptor; an object file is opened under the index lock (see
    /// `DiskBucket::place_object`), on the calling worker: opening a file whose directory
    /// is cached is a few microseconds, less than a hand-off to a blocking thread.
    async fn open_object(&self, bucket: &str, key: &str) -> Result<OpenObject, S3Error> {
        let bucket = self.handle(bucket)?;
        let (meta, body) = {
            let index = bucket.index();
            let (meta, loc, seg) = index.open(key).ok_or_else(|| S3Error::no_such_key(key))?;
            let size = meta.size;
            let body = match (loc, seg) {
                (Loc::Segment { at, len, .. }, Some(seg)) => DiskBody {
                    file: seg.file.clone(),
                    base: at + u64::from(len) - size,
                    size,
                },
                _ => {
                    let path = bucket.object_path(key);
                    let file = File::open(&path).map_err(io_context("open", &path))?;
                    DiskBody {
                        file: Arc::new(file),
                        base: 0,
                        size,
                    }
                }
            };
            (meta, body)
        };
        Ok(OpenObject {
            meta,
            body: Box::new(body),
        })
    }

    /// From the in-memory index, which holds every object's metadata (no file is opened).
    async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta, S3Error> {
        self.handle(bucket)?
            .index()
            .get(key)
            .ok_or_else(|| S3Error::no_such_key(key))
    }

    /// The attributes live in the object file's trailer, so the file is written anew:
    /// the body copied into a temp file with the new metadata, committed like a put if
    /// the object is still the one copied (else the copy is made again from the new one).
    /// O(size), and rare (PutObjectAcl).
    async fn update_attrs(
        &self,
        bucket: &str,
        key: &str,
        update: AttrsUpdate,
    ) -> Result<ObjectMeta, S3Error> {
        const ATTEMPTS: usize = 4;
        for _ in 0..ATTEMPTS {
            let opened = self.open_object(bucket, key).await?;
            let mut meta = opened.meta.clone();
            update(&mut meta.attrs)?;
            let temp = TempFile::new(self.temp_path());
            let mut out = create_temp(&temp.path).await?;
            let copied = copy_body(opened.body.stream(None), &mut out, &temp.path, None).await;
            let sealed = match copied {
                Ok(_) => seal_temp(out, &meta, &temp.path).await,
                Err(e) => Err(e),
            };
            let was = (opened.meta.etag.clone(), opened.meta.last_modified);
            let unchanged: CommitCheck = Box::new(move |current| match current {
                Some(c) if (c.etag.clone(), c.last_modified) == was => Ok(()),
                _ => Err(S3Error::new(S3ErrorCode::ConditionalRequestConflict)),
            });
            let result = match sealed {
                Ok(()) => {
                    commit(
                        self.handle(bucket)?,
                        &temp.path,
                        meta,
                        Some(unchanged),
                        |_| {},
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            match temp.settle(result).await {
                Err(e) if e.code == S3ErrorCode::ConditionalRequestConflict => continue,
                other => return other,
            }
        }
        Err(
            S3Error::new(S3ErrorCode::ConditionalRequestConflict).reason(format!(
                "{key} was replaced {ATTEMPTS} times while its attributes were being changed"
            )),
        )
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), S3Error> {
        let bucket = self.handle(bucket)?;
        bucket.delete_key(key).await
    }

    async fn list_objects(&self, bucket: &str, query: &ListQuery<'_>) -> Result<ListPage, S3Error> {
        Ok(self.handle(bucket)?.index().list(query))
    }

    async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        attrs: ObjectAttrs,
        options: UploadOptions,
    ) -> Result<Upload, S3Error> {
        uploads::create_upload(self, bucket, key, attrs, options).await
    }

    async fn put_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        req: PutRequest,
    ) -> Result<Part, S3Error> {
        uploads::put_part(self, bucket, key, upload_id, number, req).await
    }

    async fn upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(Upload, Vec<Part>), S3Error> {
        uploads::upload(self, bucket, key, upload_id).await
    }

    async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletePart],
        check: Option<CommitCheck>,
        version: Option<VersionStamp>,
    ) -> Result<ObjectMeta, S3Error> {
        uploads::complete_upload(self, bucket, key, upload_id, parts, check, version).await
    }

    async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), S3Error> {
        uploads::abort_upload(self, bucket, key, upload_id).await
    }

    async fn list_uploads(&self, bucket: &str) -> Result<Vec<Upload>, S3Error> {
        uploads::list_uploads(self, bucket).await
    }
}

/// Takes the bucket's commit lock and commits the durable temp file in one blocking
/// task that owns the lock (see [`CommitGuard`]); `then` runs in the same step once the
/// object is in place (a completion forgets its upload there).
async fn commit(
    bucket: Arc<DiskBucket>,
    temp: &Path,
    meta: ObjectMeta,
    check: Option<CommitCheck>,
    then: impl FnOnce(&DiskBucket) + Send + 'static,
) -> Result<ObjectMeta, S3Error> {
    let guard = bucket.lock_commit().await?;
    let temp = temp.to_path_buf();
    blocking(move || {
        let _commit = guard;
        let meta = bucket.commit_object(&temp, meta, check)?;
        then(&bucket);
        Ok(meta)
    })
    .await
}

// ---- bucket directories (blocking) ----

fn build_bucket_dir(
    staging: &Path,
    info: &BucketInfo,
    docs: &[(&'static str, Bytes)],
) -> Result<(), S3Error> {
    let json =
        serde_json::to_vec_pretty(info).map_err(|e| internal(format!("encode bucket: {e}")))?;
    for sub in [DOCS_DIR, OBJECTS_DIR, UPLOADS_DIR, SEGMENTS_DIR] {
        let path = staging.join(sub);
        fs::create_dir(&path).map_err(io_context("create directory", &path))?;
    }
    for (name, doc) in docs {
        write_synced(&staging.join(DOCS_DIR).join(name), doc)?;
    }
    write_synced(&staging.join(BUCKET_FILE), &json)
}

/// Moves the bucket's directory into `grave` (one atomic step), then removes it.
fn remove_bucket_dir(dir: &Path, grave: &Path) -> Result<(), S3Error> {
    fs::rename(dir, grave).map_err(io_context("move bucket away from", dir))?;
    sync_dir(parent(dir)?)?;
    remove_moved_dir(grave);
    Ok(())
}

// ---- open: lock, clear tmp, rebuild indexes (blocking) ----
