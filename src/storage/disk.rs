//! The disk backend: one file per object, made visible by one atomic rename.
//!
//! # Layout
//!
//! ```text
//! <root>/lock                                   held (flock) while a DiskStorage is open
//! <root>/tmp/                                   temp files and staging dirs; emptied at open
//! <root>/buckets/<bucket>/bucket.json           BucketInfo
//! <root>/buckets/<bucket>/docs/<name>           bucket documents (`cors`, …)
//! <root>/buckets/<bucket>/objects/<ab>/<ab…64>  one file per object, named by keymap
//! <root>/buckets/<bucket>/uploads/<id>/upload.json      a multipart upload in progress
//! <root>/buckets/<bucket>/uploads/<id>/<nnnnn>.part     its parts, by number
//! ```
//!
//! Object keys never become paths (see [`super::keymap`]): an object file is named by the
//! SHA-256 of its key, so no key can reach `tmp/`, a bucket's `bucket.json`, or outside
//! the root. Upload ids are 32 hex digits chosen by the store; an id from a request
//! becomes a path only after it was found among the bucket's uploads.
//!
//! # Object file format
//!
//! ```text
//! [ body: size bytes ][ ObjectMeta as JSON: n bytes ][ n: u64 little-endian ][ b"S3O1" ]
//! ```
//!
//! Metadata and body share one file so that a single rename publishes both at once:
//! no reader can see new metadata with an old body or the reverse. The metadata goes
//! *after* the body because its size and ETag are known only when the body has ended,
//! and the body is streamed straight into the file (never held whole, never copied a
//! second time). A reader seeks to the 12-byte trailer, checks the magic, reads the JSON,
//! and checks that the body length it implies equals the stored `size`. The JSON holds
//! the key itself, which readers compare with the key they asked for (a guard against a
//! hash collision, however unlikely).
//!
//! # Writes
//!
//! A put streams into `tmp/<unique>` through a buffered writer, hashing MD5 as bytes pass,
//! appends the metadata and trailer, and `fsync`s the file. Then, under the bucket's
//! commit lock (a `tokio::sync::Mutex`), it runs the [`CommitCheck`](super::CommitCheck)
//! against the current index entry, renames the file into place, updates the in-memory
//! index and `fsync`s the directory. That commit runs in one blocking task which owns the
//! lock guard, so a request dropped mid-commit (the client went away) cannot leave the
//! index out of step with the files. Any failure before the rename (body error,
//! `BadDigest`, a failed check) deletes the temp file and leaves the previous object as it
//! was. Bucket creation and deletion use the same pattern with a directory: a bucket is
//! staged in `tmp/` and renamed into `buckets/`, and deleted by renaming it back to `tmp/`.
//!
//! # Multipart uploads
//!
//! CreateMultipartUpload stages `upload.json` (the [`Upload`]) in a directory in `tmp/`
//! and renames it to `uploads/<id>`. A part is written exactly like an object (same temp
//! file, same hashing, same trailer: its metadata records size, MD5 and the attributes
//! with any checksum) and renamed to `<nnnnn>.part`, so replacing a part is atomic and a
//! failed part body leaves the previous one. Completion streams the chosen parts' bodies
//! in order into one temp object file (in chunks, never a part whole in memory), appends
//! the object's trailer, and commits it like a put; in the same step, under the commit
//! lock, the upload directory is moved to `tmp/` and removed. Abort does that move alone.
//!
//! Each upload has a lock (a `tokio::sync::Mutex<bool>`, `true` once it is gone) held
//! while a part is renamed in, for a whole completion and for an abort, always taken
//! before the bucket's commit lock. So a completion sees a fixed set of parts, and of a
//! concurrent completion and abort one wins and the other gets `NoSuchUpload`.
//!
//! Uploads are not objects: they never appear in the index or listings, and they do not
//! keep a bucket alive. DeleteBucket removes them with the bucket, as S3 does (it answers
//! `BucketNotEmpty` only for objects).
//!
//! # Index
//!
//! Listings need keys in order; each bucket keeps a `BTreeMap<String, ObjectMeta>`. It is
//! rebuilt at open by reading every object file's trailer, so it survives restarts and is
//! correct after any crash: the files are authoritative and each is either wholly there
//! or absent. The uploads of each bucket are likewise loaded from `uploads/` at open.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use md5::{Digest, Md5};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio_util::io::ReaderStream;

use super::keymap::{ObjectName, check_bucket_name, check_document_name};
use super::listing::list_page;
use super::multipart::{self, CompletePart, MAX_PART_NUMBER, Part, Upload, UploadChecksum};
use super::{
    BucketInfo, CommitCheck, ListPage, ListQuery, ObjectAttrs, ObjectBody, ObjectMeta, OpenObject,
    PutRequest, Storage, TrailingAttrs,
};
use super::{
    check_part_number, completed_meta, finish_meta, is_upload_id, new_upload, no_such_upload,
    part_of, sort_uploads,
};
use crate::body::ByteStream;
use crate::clock::Clock;
use crate::error::{S3Error, S3ErrorCode};

/// The last four bytes of every object file (format version 1).
const MAGIC: [u8; 4] = *b"S3O1";
/// `u64` JSON length + magic.
const TRAILER_LEN: u64 = 12;
/// Object metadata is a few KiB at most; anything larger is a corrupt file.
const MAX_META_LEN: u64 = 16 * 1024 * 1024;
/// Chunk size of object body streams.
const READ_CHUNK: usize = 64 * 1024;
/// Buffer between the body stream and the temp file.
const WRITE_BUFFER: usize = 256 * 1024;

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
    index: Mutex<BTreeMap<String, ObjectMeta>>,
    /// Uploads in progress, by id; the same as the directories in `uploads/`.
    uploads: Mutex<Uploads>,
}

type Uploads = BTreeMap<String, Arc<DiskUpload>>;

/// An upload in progress.
struct DiskUpload {
    upload: Upload,
    /// Held while a part is renamed in, for a whole completion and for an abort; `true`
    /// once the upload is gone (completed or aborted). Taken before the commit lock.
    lock: Arc<tokio::sync::Mutex<bool>>,
}

/// An upload's lock guard (see [`DiskUpload::lock`]).
type UploadGuard = tokio::sync::OwnedMutexGuard<bool>;

impl DiskUpload {
    fn new(upload: Upload) -> DiskUpload {
        DiskUpload {
            upload,
            lock: Arc::new(tokio::sync::Mutex::new(false)),
        }
    }

    /// Takes the upload's lock, or fails if it was completed or aborted meanwhile.
    async fn lock(&self) -> Result<UploadGuard, S3Error> {
        let guard = self.lock.clone().lock_owned().await;
        if *guard {
            return Err(no_such_upload(&self.upload.upload_id));
        }
        Ok(guard)
    }
}

impl DiskBucket {
    fn new(
        info: BucketInfo,
        dir: PathBuf,
        index: BTreeMap<String, ObjectMeta>,
        uploads: Uploads,
    ) -> DiskBucket {
        DiskBucket {
            info,
            dir,
            commit: Arc::new(tokio::sync::Mutex::new(false)),
            index: Mutex::new(index),
            uploads: Mutex::new(uploads),
        }
    }

    fn uploads(&self) -> MutexGuard<'_, Uploads> {
        self.uploads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The upload `id` of `key`, or `NoSuchUpload` (also for an id naming another key).
    fn find_upload(&self, key: &str, id: &str) -> Result<Arc<DiskUpload>, S3Error> {
        self.uploads()
            .get(id)
            .filter(|u| u.upload.key == key)
            .cloned()
            .ok_or_else(|| no_such_upload(id))
    }

    fn uploads_dir(&self) -> PathBuf {
        self.dir.join(UPLOADS_DIR)
    }

    /// The directory of an upload this bucket holds (never of an id from a request that
    /// was not found first).
    fn upload_dir(&self, upload: &Upload) -> PathBuf {
        self.uploads_dir().join(&upload.upload_id)
    }

    /// Moves the upload's directory out (one atomic step), marks the upload gone and
    /// frees its parts. Runs holding the upload's lock and the commit lock.
    fn forget_upload(
        &self,
        mut guard: UploadGuard,
        upload: &Upload,
        grave: &Path,
    ) -> Result<(), S3Error> {
        let dir = self.upload_dir(upload);
        fs::rename(&dir, grave).map_err(io_context("move upload away from", &dir))?;
        *guard = true;
        self.uploads().remove(&upload.upload_id);
        sync_dir(parent(&dir)?)?;
        remove_moved_dir(grave);
        Ok(())
    }

    fn index(&self) -> MutexGuard<'_, BTreeMap<String, ObjectMeta>> {
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

    /// Check, rename into place, index, fsync the directory: the commit of a put, run
    /// in a blocking task while holding the commit lock.
    fn commit_object(
        &self,
        temp: &Path,
        meta: ObjectMeta,
        check: Option<CommitCheck>,
    ) -> Result<ObjectMeta, S3Error> {
        if let Some(check) = check {
            check(self.index().get(&meta.key))?;
        }
        let dest = self.object_path(&meta.key);
        place_file(temp, &self.objects_dir(), &dest)?;
        self.index().insert(meta.key.clone(), meta.clone());
        sync_dir(parent(&dest)?)?;
        Ok(meta)
    }

    /// Removes the key's file and index entry, holding the commit lock.
    fn remove_object(&self, key: &str) -> Result<(), S3Error> {
        // Only a key the index holds has a file of its own (the index was built from
        // the files, checking each file's key), so a hash collision can never delete
        // another key's object.
        if !self.index().contains_key(key) {
            return Ok(());
        }
        let removed = remove_durably(&self.object_path(key));
        self.index().remove(key);
        removed.map(|_| ())
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

    /// Streams the body into a temp file and makes it durable; returns its metadata.
    async fn write_temp(
        &self,
        temp: &Path,
        key: &str,
        body: ByteStream,
        content_md5: Option<[u8; 16]>,
        attrs: ObjectAttrs,
        trailing: Option<TrailingAttrs>,
    ) -> Result<ObjectMeta, S3Error> {
        let mut out = create_temp(temp).await?;
        let (size, md5) = copy_hashed(body, &mut out, temp).await?;
        let meta = finish_meta(
            key,
            size,
            md5,
            content_md5,
            attrs,
            trailing.as_ref(),
            &*self.clock,
        )?;
        seal_temp(out, &meta, temp).await?;
        Ok(meta)
    }

    /// Writes the completed object into a temp file: the chosen parts' bodies in order,
    /// copied in chunks, then the object's trailer; durable when it returns.
    async fn write_parts(
        &self,
        temp: &Path,
        dir: &Path,
        parts: &[Part],
        meta: &ObjectMeta,
    ) -> Result<(), S3Error> {
        let mut out = create_temp(temp).await?;
        for part in parts {
            let path = dir.join(part_file_name(part.number));
            let file = tokio::fs::File::open(&path)
                .await
                .map_err(io_context("open", &path))?;
            // The part's body is the file's first `size` bytes; its trailer follows.
            let mut body = tokio::io::BufReader::with_capacity(READ_CHUNK, file.take(part.size));
            let copied = tokio::io::copy_buf(&mut body, &mut out)
                .await
                .map_err(io_context("copy part", &path))?;
            if copied != part.size {
                return Err(internal(format!(
                    "part file {} holds {copied} of {} bytes",
                    path.display(),
                    part.size
                )));
            }
        }
        seal_temp(out, meta, temp).await
    }
}

/// Creates a temp file for a body, buffered.
async fn create_temp(temp: &Path) -> Result<BufWriter<tokio::fs::File>, S3Error> {
    let file = tokio::fs::File::create(temp)
        .await
        .map_err(io_context("create temp file", temp))?;
    Ok(BufWriter::with_capacity(WRITE_BUFFER, file))
}

/// Appends the metadata and trailer after the body and makes the file durable.
async fn seal_temp(
    mut out: BufWriter<tokio::fs::File>,
    meta: &ObjectMeta,
    temp: &Path,
) -> Result<(), S3Error> {
    out.write_all(&encode_trailer(meta)?)
        .await
        .map_err(io_context("write metadata to", temp))?;
    out.flush().await.map_err(io_context("write", temp))?;
    out.into_inner()
        .sync_all()
        .await
        .map_err(io_context("fsync", temp))
}

fn read_lock(buckets: &RwLock<Buckets>) -> RwLockReadGuard<'_, Buckets> {
    buckets.read().unwrap_or_else(PoisonError::into_inner)
}

fn write_lock(buckets: &RwLock<Buckets>) -> RwLockWriteGuard<'_, Buckets> {
    buckets.write().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl Storage for DiskStorage {
    async fn create_bucket(&self, name: &str, region: &str) -> Result<BucketInfo, S3Error> {
        check_bucket_name(name)?;
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
            create_dir_atomic(&staging, &dir, |s| build_bucket_dir(s, &created))?;
            let bucket = DiskBucket::new(created, dir, BTreeMap::new(), BTreeMap::new());
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
        let bucket = self.handle(bucket)?;
        let temp = TempFile::new(self.temp_path());
        let written = self
            .write_temp(
                &temp.path,
                key,
                req.body,
                req.content_md5,
                req.attrs,
                req.trailing,
            )
            .await;
        let result = match written {
            Ok(meta) => commit(bucket, &temp.path, meta, req.check, |_| {}).await,
            Err(e) => Err(e),
        };
        temp.settle(result).await
    }

    async fn open_object(&self, bucket: &str, key: &str) -> Result<OpenObject, S3Error> {
        let path = self.handle(bucket)?.object_path(key);
        let wanted = key.to_owned();
        let opened = blocking(move || open_object_file(&path, &wanted)).await?;
        let (file, meta) = opened.ok_or_else(|| S3Error::no_such_key(key))?;
        let body = DiskBody {
            file,
            size: meta.size,
        };
        Ok(OpenObject {
            meta,
            body: Box::new(body),
        })
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), S3Error> {
        let bucket = self.handle(bucket)?;
        let commit = bucket.lock_commit().await?;
        let key = key.to_owned();
        blocking(move || {
            let _commit = commit;
            bucket.remove_object(&key)
        })
        .await
    }

    async fn list_objects(&self, bucket: &str, query: &ListQuery<'_>) -> Result<ListPage, S3Error> {
        let bucket = self.handle(bucket)?;
        let index = bucket.index();
        Ok(list_page(&index, query))
    }

    async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        attrs: ObjectAttrs,
        checksum: Option<UploadChecksum>,
    ) -> Result<Upload, S3Error> {
        let bucket = self.handle(bucket)?;
        let upload = new_upload(key, attrs, checksum, &*self.clock);
        let commit = bucket.lock_commit().await?;
        let staging = self.temp_path();
        let created = upload.clone();
        blocking(move || {
            let _commit = commit;
            ensure_dir(&bucket.uploads_dir(), &bucket.dir)?;
            let dir = bucket.upload_dir(&created);
            create_dir_atomic(&staging, &dir, |s| build_upload_dir(s, &created))?;
            let id = created.upload_id.clone();
            bucket
                .uploads()
                .insert(id, Arc::new(DiskUpload::new(created)));
            Ok(())
        })
        .await?;
        Ok(upload)
    }

    async fn put_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        req: PutRequest,
    ) -> Result<Part, S3Error> {
        check_part_number(number)?;
        let bucket = self.handle(bucket)?;
        let up = bucket.find_upload(key, upload_id)?;
        let temp = TempFile::new(self.temp_path());
        let written = self
            .write_temp(
                &temp.path,
                key,
                req.body,
                req.content_md5,
                req.attrs,
                req.trailing,
            )
            .await;
        let result = match written {
            Ok(meta) => {
                let part = part_of(&up.upload, number, &meta);
                commit_part(bucket, up, &temp.path, number)
                    .await
                    .map(|()| part)
            }
            Err(e) => Err(e),
        };
        temp.settle(result).await
    }

    async fn upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(Upload, Vec<Part>), S3Error> {
        let bucket = self.handle(bucket)?;
        let upload = bucket.find_upload(key, upload_id)?.upload.clone();
        let (dir, listed) = (bucket.upload_dir(&upload), upload.clone());
        let parts = blocking(move || load_parts(&dir, &listed)).await?;
        let parts = parts.ok_or_else(|| no_such_upload(upload_id))?;
        Ok((upload, parts))
    }

    async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletePart],
        check: Option<CommitCheck>,
    ) -> Result<ObjectMeta, S3Error> {
        let bucket = self.handle(bucket)?;
        let up = bucket.find_upload(key, upload_id)?;
        // Held to the end: no part changes, and no abort or other completion interleaves.
        let guard = up.lock().await?;
        let dir = bucket.upload_dir(&up.upload);
        let (listed_dir, listed) = (dir.clone(), up.upload.clone());
        let stored = blocking(move || load_parts(&listed_dir, &listed))
            .await?
            .ok_or_else(|| no_such_upload(upload_id))?;
        let plan = multipart::plan(&up.upload, &stored, parts)?;
        let meta = completed_meta(&up.upload, &plan, &*self.clock);
        let temp = TempFile::new(self.temp_path());
        let written = self.write_parts(&temp.path, &dir, &plan.parts, &meta).await;
        let grave = self.temp_path();
        let result = match written {
            Ok(()) => {
                let forget = move |b: &DiskBucket| {
                    // The object is in place; an upload left behind by a failure here is
                    // still listed and can be aborted.
                    if let Err(e) = b.forget_upload(guard, &up.upload, &grave) {
                        tracing::warn!(upload = %up.upload.upload_id, error = %e, "cannot remove completed upload");
                    }
                };
                commit(bucket, &temp.path, meta, check, forget).await
            }
            Err(e) => Err(e),
        };
        temp.settle(result).await
    }

    async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), S3Error> {
        let bucket = self.handle(bucket)?;
        let up = bucket.find_upload(key, upload_id)?;
        let guard = up.lock().await?;
        let commit = bucket.lock_commit().await?;
        let grave = self.temp_path();
        blocking(move || {
            let _commit = commit;
            bucket.forget_upload(guard, &up.upload, &grave)
        })
        .await
    }

    async fn list_uploads(&self, bucket: &str) -> Result<Vec<Upload>, S3Error> {
        let bucket = self.handle(bucket)?;
        let mut uploads: Vec<Upload> = bucket
            .uploads()
            .values()
            .map(|u| u.upload.clone())
            .collect();
        sort_uploads(&mut uploads);
        Ok(uploads)
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

/// Renames a durable part file into its upload, holding the upload's lock (so the upload
/// is not completed or aborted meanwhile) and the bucket's commit lock, in one blocking
/// task that owns both. Replacing a part is this one rename.
async fn commit_part(
    bucket: Arc<DiskBucket>,
    up: Arc<DiskUpload>,
    temp: &Path,
    number: u32,
) -> Result<(), S3Error> {
    let guard = up.lock().await?;
    let commit = bucket.lock_commit().await?;
    let temp = temp.to_path_buf();
    let dest = bucket.upload_dir(&up.upload).join(part_file_name(number));
    blocking(move || {
        let _locks = (guard, commit);
        fs::rename(&temp, &dest).map_err(io_context("rename into", &dest))?;
        sync_dir(parent(&dest)?)
    })
    .await
}

/// A temp file that is removed unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    fn new(path: PathBuf) -> TempFile {
        TempFile { path, armed: true }
    }

    /// The file was renamed away: nothing to remove.
    fn keep(&mut self) {
        self.armed = false;
    }

    /// Ends a write: on success the file was renamed away; on failure it is removed.
    async fn settle<T>(mut self, result: Result<T, S3Error>) -> Result<T, S3Error> {
        match result {
            Ok(value) => {
                self.keep();
                Ok(value)
            }
            Err(e) => {
                self.discard().await;
                Err(e)
            }
        }
    }

    /// Removes the file now (the normal error path).
    async fn discard(mut self) {
        if self.armed {
            self.armed = false;
            if let Err(e) = tokio::fs::remove_file(&self.path).await
                && e.kind() != io::ErrorKind::NotFound
            {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot remove temp file");
            }
        }
    }
}

impl Drop for TempFile {
    /// Reached only when a put is cancelled (its future dropped) mid-way; the file would
    /// also be removed at the next open.
    fn drop(&mut self) {
        if self.armed {
            let path = std::mem::take(&mut self.path);
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => drop(rt.spawn_blocking(move || fs::remove_file(path))),
                Err(_) => drop(fs::remove_file(path)),
            }
        }
    }
}

/// An opened object file: reads come from this descriptor, so a later rename over the
/// same name does not change what is read.
struct DiskBody {
    file: File,
    size: u64,
}

impl ObjectBody for DiskBody {
    fn stream(self: Box<Self>, range: Option<(u64, u64)>) -> ByteStream {
        let DiskBody { mut file, size } = *self;
        // Clamp to the body: reading past it would read the metadata trailer.
        let (start, end_exclusive) = match range {
            Some((start, end)) => (start, end.saturating_add(1).min(size)),
            None => (0, size),
        };
        let len = end_exclusive.saturating_sub(start);
        if len == 0 {
            return Box::pin(futures_util::stream::empty());
        }
        // `lseek` only moves the descriptor's offset; it does no I/O.
        if let Err(e) = file.seek(SeekFrom::Start(start)) {
            let err = S3Error::internal(format!("seek in object file: {e}"));
            return Box::pin(futures_util::stream::once(async move { Err(err) }));
        }
        let reader = tokio::fs::File::from_std(file).take(len);
        let stream = ReaderStream::with_capacity(reader, READ_CHUNK)
            .map(|r| r.map_err(|e| S3Error::internal(format!("read object file: {e}"))));
        Box::pin(stream)
    }
}

// ---- async helpers ----

/// Runs blocking file-system work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, S3Error> + Send + 'static,
) -> Result<T, S3Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| S3Error::internal(format!("storage task failed: {e}")))?
}

/// Copies the body stream into `out`, returning its size and MD5.
async fn copy_hashed(
    mut body: ByteStream,
    out: &mut BufWriter<tokio::fs::File>,
    path: &Path,
) -> Result<(u64, [u8; 16]), S3Error> {
    let mut md5 = Md5::new();
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        md5.update(&chunk);
        size += chunk.len() as u64;
        out.write_all(&chunk)
            .await
            .map_err(io_context("write", path))?;
    }
    Ok((size, md5.finalize().into()))
}

/// Maps an I/O error to `InternalError`, saying what was being done to which path.
fn io_context(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> S3Error + use<> {
    let path = path.display().to_string();
    move |e| S3Error::internal(format!("{what} {path}: {e}"))
}

fn internal(what: impl Display) -> S3Error {
    S3Error::internal(what.to_string())
}

// ---- object file format ----

/// The JSON metadata and the trailer that follow the body.
fn encode_trailer(meta: &ObjectMeta) -> Result<Vec<u8>, S3Error> {
    let mut out =
        serde_json::to_vec(meta).map_err(|e| internal(format!("encode object metadata: {e}")))?;
    let json_len = out.len() as u64;
    out.extend_from_slice(&json_len.to_le_bytes());
    out.extend_from_slice(&MAGIC);
    Ok(out)
}

/// Reads an object file's metadata, checking the trailer and the body length.
fn read_meta(file: &mut File, path: &Path) -> Result<ObjectMeta, S3Error> {
    let corrupt = |why: &str| internal(format!("corrupt object file {}: {why}", path.display()));
    let file_len = file.metadata().map_err(io_context("stat", path))?.len();
    if file_len < TRAILER_LEN {
        return Err(corrupt("shorter than its trailer"));
    }
    let mut trailer = [0u8; TRAILER_LEN as usize];
    file.seek(SeekFrom::Start(file_len - TRAILER_LEN))
        .and_then(|_| file.read_exact(&mut trailer))
        .map_err(io_context("read trailer of", path))?;
    let (len_bytes, magic) = trailer.split_at(8);
    if magic != MAGIC {
        return Err(corrupt("bad magic"));
    }
    let mut json_len = [0u8; 8];
    json_len.copy_from_slice(len_bytes);
    let json_len = u64::from_le_bytes(json_len);
    let body_len = (file_len - TRAILER_LEN)
        .checked_sub(json_len)
        .filter(|_| json_len <= MAX_META_LEN)
        .ok_or_else(|| corrupt("bad metadata length"))?;
    // At most MAX_META_LEN, checked above.
    let mut json = vec![0u8; json_len as usize];
    file.seek(SeekFrom::Start(body_len))
        .and_then(|_| file.read_exact(&mut json))
        .map_err(io_context("read metadata of", path))?;
    let meta: ObjectMeta =
        serde_json::from_slice(&json).map_err(|e| corrupt(&format!("metadata: {e}")))?;
    if meta.size != body_len {
        return Err(corrupt("body length differs from the stored size"));
    }
    Ok(meta)
}

/// Opens the object file for `key`; `None` if absent or holding another key.
fn open_object_file(path: &Path, key: &str) -> Result<Option<(File, ObjectMeta)>, S3Error> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_context("open", path)(e)),
    };
    let meta = read_meta(&mut file, path)?;
    Ok((meta.key == key).then_some((file, meta)))
}

// ---- durable file-system steps (blocking) ----

fn sync_dir(dir: &Path) -> Result<(), S3Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_context("fsync directory", dir))
}

/// The parent directory of a path this module built (always has one).
fn parent(path: &Path) -> Result<&Path, S3Error> {
    path.parent()
        .ok_or_else(|| internal(format!("{} has no parent directory", path.display())))
}

/// Renames a durable temp file to `dest`, creating `dest`'s fan-out directory (under
/// `objects`) first if needed. The caller fsyncs `dest`'s directory.
fn place_file(src: &Path, objects: &Path, dest: &Path) -> Result<(), S3Error> {
    ensure_dir(parent(dest)?, objects)?;
    fs::rename(src, dest).map_err(io_context("rename into", dest))
}

/// Creates `dir` (a child of `parent_dir`) durably if it does not exist.
fn ensure_dir(dir: &Path, parent_dir: &Path) -> Result<(), S3Error> {
    match fs::create_dir(dir) {
        Ok(()) => sync_dir(parent_dir),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_context("create directory", dir)(e)),
    }
}

/// Writes a new file and fsyncs it.
fn write_synced(path: &Path, contents: &[u8]) -> Result<(), S3Error> {
    File::create(path)
        .and_then(|mut f| f.write_all(contents).and_then(|_| f.sync_all()))
        .map_err(io_context("write", path))
}

/// write → fsync → rename → fsync dir: a small file replaced atomically and durably.
fn write_atomic(temp: &Path, dest: &Path, contents: &[u8]) -> Result<(), S3Error> {
    let written = write_synced(temp, contents)
        .and_then(|_| fs::rename(temp, dest).map_err(io_context("rename into", dest)));
    if written.is_err() {
        let _ = fs::remove_file(temp);
    }
    written?;
    sync_dir(parent(dest)?)
}

/// Removes a file and fsyncs its directory; `false` if it was not there.
fn remove_durably(path: &Path) -> Result<bool, S3Error> {
    match fs::remove_file(path) {
        Ok(()) => sync_dir(parent(path)?).map(|_| true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_context("remove", path)(e)),
    }
}

/// Builds a directory in `staging` (`build` fills it), then renames it to `dir` in one
/// step: a bucket or an upload appears whole or not at all.
fn create_dir_atomic(
    staging: &Path,
    dir: &Path,
    build: impl FnOnce(&Path) -> Result<(), S3Error>,
) -> Result<(), S3Error> {
    let built = fs::create_dir(staging)
        .map_err(io_context("create directory", staging))
        .and_then(|_| build(staging))
        .and_then(|_| sync_dir(staging))
        .and_then(|_| fs::rename(staging, dir).map_err(io_context("rename into", dir)));
    if built.is_err() {
        let _ = fs::remove_dir_all(staging);
    }
    built?;
    sync_dir(parent(dir)?)
}

fn build_bucket_dir(staging: &Path, info: &BucketInfo) -> Result<(), S3Error> {
    let json =
        serde_json::to_vec_pretty(info).map_err(|e| internal(format!("encode bucket: {e}")))?;
    for sub in [DOCS_DIR, OBJECTS_DIR, UPLOADS_DIR] {
        let path = staging.join(sub);
        fs::create_dir(&path).map_err(io_context("create directory", &path))?;
    }
    write_synced(&staging.join(BUCKET_FILE), &json)
}

fn build_upload_dir(staging: &Path, upload: &Upload) -> Result<(), S3Error> {
    let json =
        serde_json::to_vec_pretty(upload).map_err(|e| internal(format!("encode upload: {e}")))?;
    write_synced(&staging.join(UPLOAD_FILE), &json)
}

/// Moves the bucket's directory into `grave` (one atomic step), then removes it.
fn remove_bucket_dir(dir: &Path, grave: &Path) -> Result<(), S3Error> {
    fs::rename(dir, grave).map_err(io_context("move bucket away from", dir))?;
    sync_dir(parent(dir)?)?;
    remove_moved_dir(grave);
    Ok(())
}

/// Removes a directory already moved into `tmp/`.
fn remove_moved_dir(grave: &Path) {
    if let Err(e) = fs::remove_dir_all(grave) {
        // Harmless: tmp/ is emptied at the next open.
        tracing::warn!(path = %grave.display(), error = %e, "cannot remove a deleted directory");
    }
}

/// The file name of part `number`: zero-padded, so the names sort as the numbers do.
fn part_file_name(number: u32) -> String {
    format!("{number:05}{PART_SUFFIX}")
}

/// The part number a file name stands for, if it is a part file's name.
fn part_number(name: &str) -> Option<u32> {
    let digits = name.strip_suffix(PART_SUFFIX)?;
    let number = digits.parse::<u32>().ok()?;
    (digits.len() == 5 && (1..=MAX_PART_NUMBER).contains(&number)).then_some(number)
}

/// The upload's stored parts in number order, read from their files' trailers;
/// `None` if the upload's directory is gone (completed or aborted meanwhile).
fn load_parts(dir: &Path, upload: &Upload) -> Result<Option<Vec<Part>>, S3Error> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_context("read directory", dir)(e)),
    };
    let mut parts = Vec::new();
    for entry in entries {
        let path = entry.map_err(io_context("read directory", dir))?.path();
        let Some(number) = part_number(file_name(&path)) else {
            continue;
        };
        let mut file = match File::open(&path) {
            Ok(file) => file,
            // Removed with its upload while we listed.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_context("open", &path)(e)),
        };
        let meta = read_meta(&mut file, &path)?;
        if meta.key != upload.key {
            return Err(internal(format!(
                "part file {} names key {:?}",
                path.display(),
                meta.key
            )));
        }
        parts.push(part_of(upload, number, &meta));
    }
    parts.sort_by_key(|p| p.number);
    Ok(Some(parts))
}

// ---- open: lock, clear tmp, rebuild indexes (blocking) ----

fn open_root(root: &Path) -> Result<(File, Buckets), S3Error> {
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

fn read_dir_paths(dir: &Path) -> Result<Vec<PathBuf>, S3Error> {
    fs::read_dir(dir)
        .and_then(|entries| entries.map(|e| e.map(|e| e.path())).collect())
        .map_err(io_context("read directory", dir))
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
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
    let uploads = scan_uploads(&dir.join(UPLOADS_DIR))?;
    Ok(Some(DiskBucket::new(
        info,
        dir.to_path_buf(),
        index,
        uploads,
    )))
}

/// Rebuilds a bucket's index from its object files.
fn scan_objects(objects: &Path) -> Result<BTreeMap<String, ObjectMeta>, S3Error> {
    let mut index = BTreeMap::new();
    for fanout in read_dir_paths(objects)? {
        if !ObjectName::is_fanout_name(file_name(&fanout)) {
            tracing::warn!(path = %fanout.display(), "unexpected entry in objects dir; ignored");
            continue;
        }
        for path in read_dir_paths(&fanout)? {
            if let Some(meta) = load_object_meta(&path) {
                index.insert(meta.key.clone(), meta);
            }
        }
    }
    Ok(index)
}

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
        .and_then(|mut f| read_meta(&mut f, path));
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

/// Loads a bucket's uploads in progress from their `upload.json`; anything else in
/// `uploads/` is logged and ignored. A bucket made before uploads existed has no
/// `uploads/` yet.
fn scan_uploads(dir: &Path) -> Result<Uploads, S3Error> {
    let mut uploads = Uploads::new();
    if !dir.exists() {
        return Ok(uploads);
    }
    for path in read_dir_paths(dir)? {
        let id = file_name(&path);
        let file = path.join(UPLOAD_FILE);
        let loaded = fs::read(&file)
            .map_err(|e| e.to_string())
            .and_then(|json| serde_json::from_slice::<Upload>(&json).map_err(|e| e.to_string()));
        match loaded {
            Ok(upload) if is_upload_id(id) && upload.upload_id == id => {
                uploads.insert(upload.upload_id.clone(), Arc::new(DiskUpload::new(upload)));
            }
            Ok(_) => {
                tracing::warn!(path = %path.display(), "upload directory under another id; ignored")
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "not an upload directory; ignored")
            }
        }
    }
    Ok(uploads)
}
