//! The in-memory backend: for tests and throwaway servers; nothing survives the process.
//!
//! All state sits behind one `std::sync::RwLock`, which is never held across an
//! `.await`: a put first consumes its body stream (hashing as chunks arrive), then takes
//! the write lock once to run the commit check and insert, so the check and the
//! replacement are one atomic step and a failed body stores nothing. Bodies are kept as
//! the chunks they arrived in, behind an `Arc`, so an opened object keeps reading its own
//! version while a replacement lands.
//!
//! Multipart uploads live in their bucket (and go with it: S3 deletes a bucket with uploads
//! in progress). A part is kept as the chunks it arrived in; completing builds the object's
//! chunk list from the chosen parts' chunks, which are refcounted, so no byte is copied.
//! Completion runs under the write lock: the plan, the check, the insert and forgetting
//! the upload are one step, so a concurrent abort either wins or gets `NoSuchUpload`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::body_md5::BodyMd5;
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use super::keymap::{check_bucket_name, check_document_name};
use super::listing::list_page;
use super::multipart::{self, CompletePart, Part, Upload, UploadOptions};
use super::{
    AttrsUpdate, BucketInfo, CommitCheck, ListPage, ListQuery, ObjectAttrs, ObjectBody, ObjectMeta,
    OpenObject, PutRequest, Storage, VersionStamp,
};
use super::{
    check_part_number, completed_meta, finish_meta, new_upload, no_such_upload, part_of,
    sort_uploads,
};
use crate::body::{ByteStream, from_chunks};
use crate::clock::{Clock, SystemClock};
use crate::error::{S3Error, S3ErrorCode};

/// The in-memory storage backend.
pub struct MemoryStorage {
    clock: Arc<dyn Clock>,
    buckets: RwLock<BTreeMap<String, MemBucket>>,
}

struct MemBucket {
    info: BucketInfo,
    docs: BTreeMap<String, Bytes>,
    /// The listing index; `bodies` holds the same keys.
    index: BTreeMap<String, ObjectMeta>,
    bodies: HashMap<String, Arc<[Bytes]>>,
    /// Uploads in progress, by id.
    uploads: HashMap<String, MemUpload>,
}

struct MemUpload {
    upload: Upload,
    /// Each part with its body, by part number.
    parts: BTreeMap<u32, (Part, Arc<[Bytes]>)>,
}

impl MemBucket {
    /// The upload `id` of `key`, or `NoSuchUpload`.
    fn upload(&self, key: &str, id: &str) -> Result<&MemUpload, S3Error> {
        self.uploads
            .get(id)
            .filter(|u| u.upload.key == key)
            .ok_or_else(|| no_such_upload(id))
    }

    fn upload_mut(&mut self, key: &str, id: &str) -> Result<&mut MemUpload, S3Error> {
        self.uploads
            .get_mut(id)
            .filter(|u| u.upload.key == key)
            .ok_or_else(|| no_such_upload(id))
    }
}

impl Default for MemoryStorage {
    /// A store on the system clock.
    fn default() -> Self {
        MemoryStorage::new(Arc::new(SystemClock))
    }
}

impl MemoryStorage {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        MemoryStorage {
            clock,
            buckets: RwLock::new(BTreeMap::new()),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, MemBucket>> {
        // No code panics while holding the lock, so a poisoned lock still holds whole data.
        self.buckets.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, MemBucket>> {
        self.buckets.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the bucket, or fails with `NoSuchBucket`.
    fn with_bucket<T>(&self, name: &str, f: impl FnOnce(&MemBucket) -> T) -> Result<T, S3Error> {
        check_bucket_name(name)?;
        let buckets = self.read();
        let bucket = buckets
            .get(name)
            .ok_or_else(|| S3Error::no_such_bucket(name))?;
        Ok(f(bucket))
    }

    fn with_bucket_mut<T>(
        &self,
        name: &str,
        f: impl FnOnce(&mut MemBucket) -> Result<T, S3Error>,
    ) -> Result<T, S3Error> {
        check_bucket_name(name)?;
        let mut buckets = self.write();
        let bucket = buckets
            .get_mut(name)
            .ok_or_else(|| S3Error::no_such_bucket(name))?;
        f(bucket)
    }
}

/// Consumes a body stream, keeping its chunks and hashing them as they pass.
///
/// Past its first [`BLOCK`], a body's chunks are gathered into blocks of [`BLOCK`]: hyper
/// hands a large upload over in chunks of a few KiB to a few hundred, and a GET then
/// sent each as its own frame (256 MiB GET at 47 % of the limit server's speed). The copy
/// costs the PUT nothing measurable, since the upload waits on its MD5 thread anyway
/// ([`BodyMd5`]); small bodies are kept as they came, uncopied.
async fn collect_hashed(mut body: ByteStream) -> Result<(Vec<Bytes>, u64, [u8; 16]), S3Error> {
    let mut md5 = BodyMd5::default();
    let mut chunks = Vec::new();
    let mut block = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        md5.update(&chunk).await?;
        if chunk.is_empty() {
            continue;
        }
        if md5.size() <= BLOCK as u64 || (block.is_empty() && chunk.len() >= BLOCK) {
            chunks.push(chunk);
            continue;
        }
        let mut rest: &[u8] = &chunk;
        while !rest.is_empty() {
            if block.is_empty() {
                block.reserve(BLOCK);
            }
            let (now, later) = rest.split_at((BLOCK - block.len()).min(rest.len()));
            block.extend_from_slice(now);
            if block.len() == BLOCK {
                chunks.push(block.split().freeze());
            }
            rest = later;
        }
    }
    if !block.is_empty() {
        chunks.push(block.freeze());
    }
    let (size, md5) = md5.finish().await?;
    Ok((chunks, size, md5))
}

/// The size of the blocks a large body is stored in (see [`collect_hashed`]).
const BLOCK: usize = 1024 * 1024;

#[async_trait]
impl Storage for MemoryStorage {
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
        let mut buckets = self.write();
        if buckets.contains_key(name) {
            return Err(BucketInfo::already_owned(name));
        }
        let info = BucketInfo::new(name, region, &*self.clock);
        let bucket = MemBucket {
            info: info.clone(),
            docs: docs.into_iter().map(|(n, d)| (n.to_owned(), d)).collect(),
            index: BTreeMap::new(),
            bodies: HashMap::new(),
            uploads: HashMap::new(),
        };
        buckets.insert(name.to_owned(), bucket);
        Ok(info)
    }

    async fn delete_bucket(&self, name: &str) -> Result<(), S3Error> {
        check_bucket_name(name)?;
        let mut buckets = self.write();
        let bucket = buckets
            .get(name)
            .ok_or_else(|| S3Error::no_such_bucket(name))?;
        if !bucket.index.is_empty() {
            return Err(S3Error::new(S3ErrorCode::BucketNotEmpty).extra("BucketName", name));
        }
        // Uploads in progress do not keep a bucket alive (S3 deletes them with it).
        buckets.remove(name);
        Ok(())
    }

    async fn bucket(&self, name: &str) -> Result<BucketInfo, S3Error> {
        self.with_bucket(name, |b| b.info.clone())
    }

    async fn list_buckets(&self) -> Result<Vec<BucketInfo>, S3Error> {
        Ok(self.read().values().map(|b| b.info.clone()).collect())
    }

    async fn put_bucket_document(
        &self,
        bucket: &str,
        name: &str,
        doc: Option<Bytes>,
    ) -> Result<(), S3Error> {
        check_document_name(name)?;
        self.with_bucket_mut(bucket, |b| {
            match doc {
                Some(doc) => b.docs.insert(name.to_owned(), doc),
                None => b.docs.remove(name),
            };
            Ok(())
        })
    }

    async fn bucket_document(&self, bucket: &str, name: &str) -> Result<Option<Bytes>, S3Error> {
        check_document_name(name)?;
        self.with_bucket(bucket, |b| b.docs.get(name).cloned())
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        req: PutRequest,
    ) -> Result<ObjectMeta, S3Error> {
        // Fail fast before reading the body; checked again at commit.
        self.with_bucket(bucket, |_| ())?;
        let (chunks, size, md5) = collect_hashed(req.body).await?;
        let meta = finish_meta(
            key,
            size,
            md5,
            req.content_md5,
            req.attrs,
            req.trailing.as_ref(),
            req.restore,
            &*self.clock,
        )?;
        let check = req.check;
        self.with_bucket_mut(bucket, |b| {
            if let Some(check) = check {
                check(b.index.get(key))?;
            }
            b.index.insert(key.to_owned(), meta.clone());
            b.bodies.insert(key.to_owned(), chunks.into());
            Ok(meta)
        })
    }

    async fn open_object(&self, bucket: &str, key: &str) -> Result<OpenObject, S3Error> {
        let found = self.with_bucket(bucket, |b| {
            let meta = b.index.get(key)?.clone();
            let chunks = b.bodies.get(key)?.clone();
            Some((meta, chunks))
        })?;
        let (meta, chunks) = found.ok_or_else(|| S3Error::no_such_key(key))?;
        Ok(OpenObject {
            meta,
            body: Box::new(MemBody { chunks }),
        })
    }

    async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta, S3Error> {
        self.with_bucket(bucket, |b| b.index.get(key).cloned())?
            .ok_or_else(|| S3Error::no_such_key(key))
    }

    async fn update_attrs(
        &self,
        bucket: &str,
        key: &str,
        update: AttrsUpdate,
    ) -> Result<ObjectMeta, S3Error> {
        self.with_bucket_mut(bucket, |b| {
            let meta = b
                .index
                .get_mut(key)
                .ok_or_else(|| S3Error::no_such_key(key))?;
            let mut attrs = meta.attrs.clone();
            update(&mut attrs)?;
            meta.attrs = attrs;
            Ok(meta.clone())
        })
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), S3Error> {
        self.with_bucket_mut(bucket, |b| {
            b.index.remove(key);
            b.bodies.remove(key);
            Ok(())
        })
    }

    async fn list_objects(&self, bucket: &str, query: &ListQuery<'_>) -> Result<ListPage, S3Error> {
        self.with_bucket(bucket, |b| list_page(&b.index, query))
    }

    async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        attrs: ObjectAttrs,
        options: UploadOptions,
    ) -> Result<Upload, S3Error> {
        let upload = new_upload(key, attrs, options, &*self.clock);
        self.with_bucket_mut(bucket, |b| {
            let kept = MemUpload {
                upload: upload.clone(),
                parts: BTreeMap::new(),
            };
            b.uploads.insert(upload.upload_id.clone(), kept);
            Ok(upload)
        })
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
        // Fail fast before reading the body; checked again when the part is stored.
        self.with_bucket(bucket, |b| b.upload(key, upload_id).map(|_| ()))??;
        let (chunks, size, md5) = collect_hashed(req.body).await?;
        let meta = finish_meta(
            key,
            size,
            md5,
            req.content_md5,
            req.attrs,
            req.trailing.as_ref(),
            req.restore,
            &*self.clock,
        )?;
        self.with_bucket_mut(bucket, |b| {
            let up = b.upload_mut(key, upload_id)?;
            let part = part_of(&up.upload, number, &meta);
            up.parts.insert(number, (part.clone(), chunks.into()));
            Ok(part)
        })
    }

    async fn upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(Upload, Vec<Part>), S3Error> {
        self.with_bucket(bucket, |b| {
            let up = b.upload(key, upload_id)?;
            let parts = up.parts.values().map(|(p, _)| p.clone()).collect();
            Ok((up.upload.clone(), parts))
        })?
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
        let clock = &*self.clock;
        self.with_bucket_mut(bucket, |b| {
            let up = b.upload(key, upload_id)?;
            let stored: Vec<Part> = up.parts.values().map(|(p, _)| p.clone()).collect();
            let plan = multipart::plan(&up.upload, &stored, parts)?;
            let meta = completed_meta(&up.upload, &plan, version, clock);
            let chunks: Vec<Bytes> = plan
                .parts
                .iter()
                .filter_map(|p| up.parts.get(&p.number))
                .flat_map(|(_, body)| body.iter().cloned())
                .collect();
            if let Some(check) = check {
                check(b.index.get(key))?;
            }
            b.index.insert(key.to_owned(), meta.clone());
            b.bodies.insert(key.to_owned(), chunks.into());
            b.uploads.remove(upload_id);
            Ok(meta)
        })
    }

    async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), S3Error> {
        self.with_bucket_mut(bucket, |b| {
            b.upload(key, upload_id)?;
            b.uploads.remove(upload_id);
            Ok(())
        })
    }

    async fn list_uploads(&self, bucket: &str) -> Result<Vec<Upload>, S3Error> {
        let mut uploads = self.with_bucket(bucket, |b| {
            b.uploads
                .values()
                .map(|u| u.upload.clone())
                .collect::<Vec<_>>()
        })?;
        sort_uploads(&mut uploads);
        Ok(uploads)
    }
}

/// One version of an object's body: the chunks as they were stored.
struct MemBody {
    chunks: Arc<[Bytes]>,
}

impl ObjectBody for MemBody {
    fn stream(self: Box<Self>, range: Option<(u64, u64)>) -> ByteStream {
        match range {
            None => from_chunks(self.chunks.to_vec()),
            Some((start, end)) => from_chunks(slice_chunks(&self.chunks, start, end)),
        }
    }
}

/// The parts of `chunks` covering bytes `start..=end`, without copying any bytes.
fn slice_chunks(chunks: &[Bytes], start: u64, end: u64) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut offset = 0u64;
    for chunk in chunks {
        let len = chunk.len() as u64;
        let (chunk_start, chunk_end) = (offset, offset + len);
        offset = chunk_end;
        if chunk_end <= start {
            continue;
        }
        if chunk_start > end {
            break;
        }
        let from = start.saturating_sub(chunk_start);
        let to = (end - chunk_start).saturating_add(1).min(len);
        // Both bounds are within `len`, which came from a `usize`.
        out.push(chunk.slice(from as usize..to as usize));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static str]) -> Vec<Bytes> {
        parts
            .iter()
            .map(|p| Bytes::from_static(p.as_bytes()))
            .collect()
    }

    fn joined(parts: Vec<Bytes>) -> String {
        parts
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    #[test]
    fn slices_ranges_across_chunk_boundaries() {
        let c = chunks(&["abc", "defg", "h"]);
        assert_eq!(joined(slice_chunks(&c, 0, 7)), "abcdefgh");
        assert_eq!(joined(slice_chunks(&c, 2, 3)), "cd");
        assert_eq!(joined(slice_chunks(&c, 3, 6)), "defg");
        assert_eq!(joined(slice_chunks(&c, 7, 7)), "h");
        assert_eq!(joined(slice_chunks(&c, 1, 100)), "bcdefgh");
        assert_eq!(joined(slice_chunks(&c, 5, u64::MAX)), "fgh");
        assert_eq!(joined(slice_chunks(&c, 8, 9)), "");
    }

    /// A large body arriving in odd small chunks is kept as it came for its first MiB,
    /// then in whole 1 MiB blocks, with every byte in place and the MD5 of all of them.
    #[tokio::test]
    async fn a_large_body_is_stored_in_whole_blocks() {
        let data: Vec<u8> = (0..5 * BLOCK + 12_345)
            .map(|i| (i * 7 % 253) as u8)
            .collect();
        let parts: Vec<Result<Bytes, S3Error>> = data
            .chunks(70_001)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let body: ByteStream = Box::pin(futures_util::stream::iter(parts));
        let (stored, size, md5) = collect_hashed(body).await.unwrap();
        assert_eq!(size, data.len() as u64);
        assert_eq!(stored.concat(), data);
        assert_eq!(
            md5,
            <[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(&data))
        );
        let first_mib = stored.iter().take_while(|c| c.len() == 70_001).count();
        assert_eq!(
            first_mib,
            BLOCK / 70_001,
            "the chunks within the first MiB are kept as they came"
        );
        let blocks = &stored[first_mib..stored.len() - 1];
        assert!(blocks.len() >= 3 && blocks.iter().all(|b| b.len() == BLOCK));
        assert!(stored.last().unwrap().len() <= BLOCK);
    }
}
