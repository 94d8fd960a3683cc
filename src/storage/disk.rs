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
//! ```
//!
//! Object keys never become paths (see [`super::keymap`]): an object file is named by the
//! SHA-256 of its key, so no key can reach `tmp/`, a bucket's `bucket.json`, or outside
//! the root.
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
//! # Index
//!
//! Listings need keys in order; each bucket keeps a `BTreeMap<String, ObjectMeta>`. It is
//! rebuilt at open by reading every object file's trailer, so it survives restarts and is
//! correct after any crash: the files are authoritative and each is either wholly there
//! or absent.

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

use super::finish_meta;
use super::keymap::{ObjectName, check_bucket_name, check_document_name};
use super::listing::list_page;
use super::{
    BucketInfo, CommitCheck, ListPage, ListQuery, ObjectAttrs, ObjectBody, ObjectMeta, OpenObject,
    PutRequest, Storage, TrailingAttrs,
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
}

impl DiskBucket {
    fn new(info: BucketInfo, dir: PathBuf, index: BTreeMap<String, ObjectMeta>) -> DiskBucket {
        DiskBucket {
            info,
            dir,
            commit: Arc::new(tokio::sync::Mutex::new(false)),
            index: Mutex::new(index),
        }
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
        let file = tokio::fs::File::create(temp)
            .await
            .map_err(io_context("create temp file", temp))?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
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
        out.write_all(&encode_trailer(&meta)?)
            .await
            .map_err(io_context("write metadata to", temp))?;
        out.flush().await.map_err(io_context("write", temp))?;
        out.into_inner()
            .sync_all()
            .await
            .map_err(io_context("fsync", temp))?;
        Ok(meta)
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
            create_bucket_dir(&staging, &dir, &created)?;
            let bucket = DiskBucket::new(created, dir, BTreeMap::new());
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
        let mut temp = TempFile::new(self.temp_path());
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
            Ok(meta) => commit(bucket, &temp.path, meta, req.check).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(meta) => {
                temp.keep();
                Ok(meta)
            }
            Err(e) => {
                temp.discard().await;
                Err(e)
            }
        }
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
}

/// Takes the bucket's commit lock and commits the durable temp file in one blocking
/// task that owns the lock (see [`CommitGuard`]).
async fn commit(
    bucket: Arc<DiskBucket>,
    temp: &Path,
    meta: ObjectMeta,
    check: Option<CommitCheck>,
) -> Result<ObjectMeta, S3Error> {
    let guard = bucket.lock_commit().await?;
    let temp = temp.to_path_buf();
    blocking(move || {
        let _commit = guard;
        bucket.commit_object(&temp, meta, check)
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
    let fanout = parent(dest)?;
    match fs::create_dir(fanout) {
        Ok(()) => sync_dir(objects)?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_context("create directory", fanout)(e)),
    }
    fs::rename(src, dest).map_err(io_context("rename into", dest))
}

/// write → fsync → rename → fsync dir: a small file replaced atomically and durably.
fn write_atomic(temp: &Path, dest: &Path, contents: &[u8]) -> Result<(), S3Error> {
    let written = File::create(temp)
        .and_then(|mut f| f.write_all(contents).and_then(|_| f.sync_all()))
        .map_err(io_context("write", temp))
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

/// Builds the bucket's directory in `staging`, then renames it to `dir` in one step.
fn create_bucket_dir(staging: &Path, dir: &Path, info: &BucketInfo) -> Result<(), S3Error> {
    let built = build_bucket_dir(staging, info)
        .and_then(|_| fs::rename(staging, dir).map_err(io_context("rename bucket into", dir)));
    if built.is_err() {
        let _ = fs::remove_dir_all(staging);
    }
    built?;
    sync_dir(parent(dir)?)
}

fn build_bucket_dir(staging: &Path, info: &BucketInfo) -> Result<(), S3Error> {
    let json =
        serde_json::to_vec_pretty(info).map_err(|e| internal(format!("encode bucket: {e}")))?;
    for sub in [DOCS_DIR, OBJECTS_DIR] {
        let path = staging.join(sub);
        fs::create_dir_all(&path).map_err(io_context("create directory", &path))?;
    }
    let file = staging.join(BUCKET_FILE);
    File::create(&file)
        .and_then(|mut f| f.write_all(&json).and_then(|_| f.sync_all()))
        .map_err(io_context("write", &file))?;
    sync_dir(staging)
}

/// Moves the bucket's directory into `grave` (one atomic step), then removes it.
fn remove_bucket_dir(dir: &Path, grave: &Path) -> Result<(), S3Error> {
    fs::rename(dir, grave).map_err(io_context("move bucket away from", dir))?;
    sync_dir(parent(dir)?)?;
    if let Err(e) = fs::remove_dir_all(grave) {
        // Harmless: tmp/ is emptied at the next open.
        tracing::warn!(path = %grave.display(), error = %e, "cannot remove deleted bucket");
    }
    Ok(())
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
    Ok(Some(DiskBucket::new(info, dir.to_path_buf(), index)))
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
