//! Where buckets and objects live: one trait, two backends.
//!
//! [`Storage`] is the last stage of the request flow. It knows nothing of HTTP or auth:
//! it receives validated bucket names and keys, a verified body stream, and returns
//! metadata and body streams. Both backends pass the same conformance suite
//! (`tests/storage_conformance.rs`).
//!
//! Guarantees every backend gives:
//! - **Atomic visibility:** a reader sees the previous object or the whole new one, never a
//!   part. A body stream that ends in `Err` (dropped connection, failed hash) stores nothing
//!   and leaves the previous object intact.
//! - **Streaming:** bodies are never collected whole (the memory backend keeps the chunks it
//!   was given, by its nature).
//! - **Order:** listings are in UTF-8 byte order of the key, as S3 lists.
//! - **Hashes as bytes pass:** the MD5 (the ETag) is computed while the body is written.

pub mod body_md5;
pub mod disk;
pub mod keymap;
pub mod listing;
pub mod memory;
pub mod multipart;
mod range;

pub use crate::checksum::TrailingAttrs;
use std::collections::BTreeMap;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::body::ByteStream;
use crate::clock::Clock;
use crate::error::{S3Error, S3ErrorCode};

pub use disk::DiskStorage;
pub use memory::MemoryStorage;
pub use multipart::{CompletePart, Initiator, Part, Upload, UploadChecksum, UploadOptions};
pub use range::ByteRange;

/// What the client set on an object and gets back on GET/HEAD.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjectAttrs {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub cache_control: Option<String>,
    pub content_language: Option<String>,
    pub expires: Option<String>,
    /// `x-amz-meta-*` headers: lowercase name without the prefix → value.
    pub user_metadata: BTreeMap<String, String>,
    /// Other stored properties (storage class, checksums), by their header name.
    pub extra: BTreeMap<String, String>,
    /// The object's ACL (its owner and grants). `None`: owned by the bucket owner, who
    /// alone has access (the bucket owner's full control).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<crate::acl::Acl>,
    /// The object's tags, in the order they were given (`crate::tagging`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<crate::tagging::Tag>,
    /// In a bucket whose versioning was ever enabled: which version this is
    /// (`crate::versioning`). `None`: written while the bucket was unversioned, the
    /// version S3 calls `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<VersionStamp>,
}

/// A version's identity: its id (`null` in a suspended bucket), its place in the key's
/// history (larger is newer) and whether it is a delete marker.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VersionStamp {
    pub id: String,
    pub seq: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_marker: bool,
}

/// Where objects stored before strict-s3 kept ACLs held their canned ACL's name.
pub const LEGACY_CANNED_ACL: &str = "x-amz-acl";

impl ObjectAttrs {
    /// The object's ACL: its own, or one expanded from the canned name an object stored
    /// by an earlier strict-s3 carries; `None` for the bucket owner's private default.
    pub fn stored_acl(&self, bucket_owner: &str) -> Option<crate::acl::Acl> {
        self.acl.clone().or_else(|| {
            let canned = crate::acl::Canned::parse(self.extra.get(LEGACY_CANNED_ACL)?)?;
            Some(canned.acl(bucket_owner, bucket_owner, false))
        })
    }
}

/// An object's metadata, as stored beside its body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    /// The entity tag without quotes: hex MD5, or `hex-N` for multipart objects.
    pub etag: String,
    #[serde(with = "time::serde::rfc3339")]
    pub last_modified: OffsetDateTime,
    pub attrs: ObjectAttrs,
    /// For an object completed from a multipart upload: its parts' sizes, in order
    /// (GetObject `?partNumber=N`, `x-amz-mp-parts-count`). Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<u64>,
    /// For an object completed from a COMPOSITE-checksum upload: each part's checksum
    /// (base64, the object's algorithm), in order, for GetObjectAttributes' ObjectParts.
    /// Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub part_checksums: Vec<String>,
}

impl ObjectMeta {
    /// The ETag as it goes on the wire, quoted.
    pub fn quoted_etag(&self) -> String {
        // Not `format!`: every GET and PUT sends one.
        ["\"", &self.etag, "\""].concat()
    }
}

/// A bucket as listed by ListBuckets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketInfo {
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// The bucket's region (its LocationConstraint).
    pub region: String,
}

impl BucketInfo {
    /// A bucket created now.
    pub fn new(name: &str, region: &str, clock: &dyn Clock) -> BucketInfo {
        BucketInfo {
            name: name.to_owned(),
            created: now_millis(clock),
            region: region.to_owned(),
        }
    }

    /// The error for creating a bucket that exists (this server has one owner).
    pub fn already_owned(name: &str) -> S3Error {
        S3Error::new(S3ErrorCode::BucketAlreadyOwnedByYou).extra("BucketName", name)
    }
}

/// Runs under the key's write lock just before the new object becomes visible, with the
/// current object (if any). Conditional PUTs (`If-None-Match: *`, `If-Match`) use it so
/// the check and the replacement are one atomic step. An `Err` stores nothing.
pub type CommitCheck = Box<dyn FnOnce(Option<&ObjectMeta>) -> Result<(), S3Error> + Send>;

/// A change of an object's attributes (see [`Storage::update_attrs`]); it may run more
/// than once if the object is replaced meanwhile, each time on the current attributes.
pub type AttrsUpdate =
    std::sync::Arc<dyn Fn(&mut ObjectAttrs) -> Result<(), S3Error> + Send + Sync>;

/// A write of one object.
pub struct PutRequest {
    pub attrs: ObjectAttrs,
    /// The verified body. An `Err` item aborts the write.
    pub body: ByteStream,
    /// The `Content-MD5` the client sent, compared with the MD5 computed while writing:
    /// a mismatch is `BadDigest` and nothing is stored.
    pub content_md5: Option<[u8; 16]>,
    pub check: Option<CommitCheck>,
    /// Properties the body's trailer adds (see [`TrailingAttrs`]).
    pub trailing: Option<TrailingAttrs>,
    /// Store the body with exactly this metadata (its ETag, time, parts and attributes)
    /// rather than compute it: a version moved between a key and its history
    /// (`crate::versioning`) keeps what it was.
    pub restore: Option<Box<ObjectMeta>>,
}

impl PutRequest {
    pub fn new(attrs: ObjectAttrs, body: ByteStream) -> Self {
        PutRequest {
            attrs,
            body,
            content_md5: None,
            check: None,
            trailing: None,
            restore: None,
        }
    }
}

/// An opened object: its metadata and a handle on exactly that version's body, so a
/// replacement that lands between open and read does not mix two versions.
pub struct OpenObject {
    pub meta: ObjectMeta,
    pub body: Box<dyn ObjectBody>,
}

/// The body of an opened object.
pub trait ObjectBody: Send {
    /// Streams the bytes `start..=end` (already resolved against the size), or all of them.
    fn stream(self: Box<Self>, range: Option<(u64, u64)>) -> ByteStream;
}

/// A listing request, already validated by the operation layer.
#[derive(Clone, Debug, Default)]
pub struct ListQuery<'a> {
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    /// Keys (and common prefixes) strictly greater than this are returned.
    pub start_after: Option<&'a str>,
    pub max_keys: usize,
}

/// One page of a listing, in key order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPage {
    pub objects: Vec<ObjectMeta>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    /// The last key or common prefix in this page: where the next page starts after.
    pub last: Option<String>,
}

/// The storage backend.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// `BucketAlreadyOwnedByYou` if it exists.
    async fn create_bucket(&self, name: &str, region: &str) -> Result<BucketInfo, S3Error> {
        self.create_bucket_with(name, region, Vec::new()).await
    }
    /// Creates a bucket together with its first documents (its owner's ACL, ownership,
    /// Block Public Access), in one atomic step: a crash leaves the bucket with all of
    /// them or no bucket, never a bucket without its access rules.
    async fn create_bucket_with(
        &self,
        name: &str,
        region: &str,
        docs: Vec<(&'static str, Bytes)>,
    ) -> Result<BucketInfo, S3Error>;
    /// `NoSuchBucket`, or `BucketNotEmpty` while it holds objects.
    async fn delete_bucket(&self, name: &str) -> Result<(), S3Error>;
    /// `NoSuchBucket` if absent.
    async fn bucket(&self, name: &str) -> Result<BucketInfo, S3Error>;
    /// All buckets, by name.
    async fn list_buckets(&self) -> Result<Vec<BucketInfo>, S3Error>;
    /// Stores (`Some`) or removes (`None`) a bucket configuration document such as `cors`.
    async fn put_bucket_document(
        &self,
        bucket: &str,
        name: &str,
        doc: Option<Bytes>,
    ) -> Result<(), S3Error>;
    async fn bucket_document(&self, bucket: &str, name: &str) -> Result<Option<Bytes>, S3Error>;

    /// Writes an object atomically; returns its metadata (size, ETag, time).
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        req: PutRequest,
    ) -> Result<ObjectMeta, S3Error>;
    /// `NoSuchBucket` / `NoSuchKey`.
    async fn open_object(&self, bucket: &str, key: &str) -> Result<OpenObject, S3Error>;
    /// `NoSuchBucket` / `NoSuchKey`.
    async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta, S3Error> {
        Ok(self.open_object(bucket, key).await?.meta)
    }
    /// Changes an object's attributes (its ACL) and nothing else: the body, ETag and
    /// Last-Modified stay. Atomic like a put: a reader sees the old attributes or the new
    /// ones. `update` runs on the current attributes and may refuse. `NoSuchKey`.
    async fn update_attrs(
        &self,
        bucket: &str,
        key: &str,
        update: AttrsUpdate,
    ) -> Result<ObjectMeta, S3Error>;
    /// Deletes; a missing key is not an error (S3 answers 204 either way).
    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), S3Error>;
    /// One page of keys in UTF-8 byte order, grouped by the delimiter.
    async fn list_objects(&self, bucket: &str, query: &ListQuery<'_>) -> Result<ListPage, S3Error>;

    /// Starts a multipart upload (`NoSuchBucket`); the store chooses a unique upload id.
    async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        attrs: ObjectAttrs,
        options: UploadOptions,
    ) -> Result<Upload, S3Error>;
    /// Stores (or replaces) part `number` of an upload, streamed and hashed like an object
    /// (`content_md5` checked, `trailing` applied). The part's checksum is the value of the
    /// upload's checksum header in the request's attributes, if present. `NoSuchUpload`
    /// when the id is unknown or names another key.
    async fn put_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        req: PutRequest,
    ) -> Result<Part, S3Error>;
    /// The upload and its parts in part-number order. `NoSuchUpload`.
    async fn upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(Upload, Vec<Part>), S3Error>;
    /// Validates `parts` with [`multipart::plan`], writes the object from the chosen parts
    /// (atomically, `check` under the commit lock, as `put_object`), then forgets the
    /// upload. The object gets the upload's attributes, the plan's ETag and checksum, and
    /// its part sizes, and `version` (`crate::versioning`). `NoSuchUpload`.
    async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletePart],
        check: Option<CommitCheck>,
        version: Option<VersionStamp>,
    ) -> Result<ObjectMeta, S3Error>;
    /// Removes the upload and frees its parts. `NoSuchUpload`.
    async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), S3Error>;
    /// The bucket's uploads in progress, by key (UTF-8 bytes), then initiation time, then id.
    async fn list_uploads(&self, bucket: &str) -> Result<Vec<Upload>, S3Error>;
}

/// `NoSuchUpload`, naming the id.
pub fn no_such_upload(upload_id: &str) -> S3Error {
    S3Error::new(S3ErrorCode::NoSuchUpload).extra("UploadId", upload_id)
}

/// The length of an upload id: 32 lowercase hex digits (128 bits).
const UPLOAD_ID_LEN: usize = 32;

/// A new upload, stamped now, with a fresh id: 128 bits from hashing the time, a
/// process-wide counter and std's randomly keyed `RandomState`. Unguessable enough for a
/// local tool, unique within the process (the counter) and across restarts (the random
/// keys and the time); hex, so it is URL-safe and a valid path component.
pub(crate) fn new_upload(
    key: &str,
    attrs: ObjectAttrs,
    options: UploadOptions,
    clock: &dyn Clock,
) -> Upload {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = clock.now();
    let seq = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = String::with_capacity(UPLOAD_ID_LEN);
    for half in 0..2u8 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_i128(now.unix_timestamp_nanos());
        h.write_u64(seq);
        h.write_u8(half);
        h.write(key.as_bytes());
        id.push_str(&format!("{:016x}", h.finish()));
    }
    Upload {
        upload_id: id,
        key: key.to_owned(),
        initiated: now_millis(clock),
        attrs,
        checksum: options.checksum,
        initiator: options.initiator,
        key_existed: options.key_existed,
    }
}

/// Whether `id` has the form [`new_upload`] gives (checked before an id names a path).
pub(crate) fn is_upload_id(id: &str) -> bool {
    id.len() == UPLOAD_ID_LEN && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Refuses a part number outside S3's range, as `partNumber` in a request would be
/// (the operation layer parses it first; this keeps a store from holding a part it could
/// never list).
pub(crate) fn check_part_number(number: u32) -> Result<(), S3Error> {
    multipart::parse_part_number(&number.to_string()).map(|_| ())
}

/// A part as stored: its metadata is what [`finish_meta`] recorded for its body (size,
/// MD5, time, attributes with trailing ones applied); its checksum is the value of the
/// upload's checksum header among those attributes (verified by the operation layer).
pub(crate) fn part_of(upload: &Upload, number: u32, meta: &ObjectMeta) -> Part {
    Part {
        number,
        etag: meta.etag.clone(),
        size: meta.size,
        last_modified: meta.last_modified,
        checksum: upload
            .checksum
            .and_then(|c| meta.attrs.extra.get(c.algorithm.header()).cloned()),
    }
}

/// The metadata of the object a completion produces: the upload's attributes plus the
/// plan's checksum (and its type), the plan's size and ETag, the parts' sizes.
pub(crate) fn completed_meta(
    upload: &Upload,
    plan: &multipart::Plan,
    version: Option<VersionStamp>,
    clock: &dyn Clock,
) -> ObjectMeta {
    let mut attrs = upload.attrs.clone();
    attrs.version = version;
    if let (Some((header, value)), Some(c)) = (&plan.checksum, upload.checksum) {
        attrs.extra.insert((*header).to_owned(), value.clone());
        attrs
            .extra
            .insert("x-amz-checksum-type".to_owned(), c.kind.as_str().to_owned());
    }
    ObjectMeta {
        key: upload.key.clone(),
        size: plan.size,
        etag: plan.etag.clone(),
        last_modified: now_millis(clock),
        attrs,
        parts: plan.parts.iter().map(|p| p.size).collect(),
        part_checksums: match upload.checksum {
            Some(c) if c.kind == multipart::ChecksumType::Composite => plan
                .parts
                .iter()
                .map(|p| p.checksum.clone().unwrap_or_default())
                .collect(),
            _ => Vec::new(),
        },
    }
}

/// The uploads in ListMultipartUploads order: key bytes, then initiation, then id.
pub(crate) fn sort_uploads(uploads: &mut [Upload]) {
    uploads.sort_by(|a, b| {
        (a.key.as_bytes(), a.initiated, &a.upload_id).cmp(&(
            b.key.as_bytes(),
            b.initiated,
            &b.upload_id,
        ))
    });
}

/// "Now" as stored in object and bucket metadata: millisecond precision, the finest S3
/// shows (ListObjects' `LastModified`).
pub(crate) fn now_millis(clock: &dyn Clock) -> OffsetDateTime {
    let now = clock.now();
    now.replace_millisecond(now.millisecond()).unwrap_or(now)
}

/// Compares the client's `Content-MD5` with the MD5 computed while the body was written.
fn check_content_md5(expected: Option<[u8; 16]>, actual: [u8; 16]) -> Result<(), S3Error> {
    match expected {
        Some(expected) if expected != actual => {
            Err(S3Error::new(S3ErrorCode::BadDigest).reason(format!(
                "Content-MD5 was {} but the body's MD5 is {}",
                hex::encode(expected),
                hex::encode(actual)
            )))
        }
        _ => Ok(()),
    }
}

/// The metadata of a body that has just been written in full: the client's Content-MD5
/// checked against the MD5 computed on the way, trailing properties applied, the time
/// stamped. Both stores call it, so what they record cannot drift apart.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish_meta(
    key: &str,
    size: u64,
    md5: [u8; 16],
    content_md5: Option<[u8; 16]>,
    mut attrs: ObjectAttrs,
    trailing: Option<&TrailingAttrs>,
    restore: Option<Box<ObjectMeta>>,
    clock: &dyn Clock,
) -> Result<ObjectMeta, S3Error> {
    check_content_md5(content_md5, md5)?;
    if let Some(kept) = restore {
        if kept.size != size {
            return Err(S3Error::internal(format!(
                "a restored version of {key} has {size} bytes, its metadata says {}",
                kept.size
            )));
        }
        return Ok(ObjectMeta {
            key: key.to_owned(),
            ..*kept
        });
    }
    if let Some(t) = trailing {
        attrs.extra.extend(t.take());
    }
    Ok(ObjectMeta {
        key: key.to_owned(),
        size,
        etag: hex::encode(md5),
        last_modified: now_millis(clock),
        attrs,
        parts: Vec::new(),
        part_checksums: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_check_reports_both_values() {
        assert!(check_content_md5(None, [0; 16]).is_ok());
        assert!(check_content_md5(Some([1; 16]), [1; 16]).is_ok());
        let err = check_content_md5(Some([1; 16]), [2; 16]).expect_err("mismatch");
        assert_eq!(err.code, S3ErrorCode::BadDigest);
        assert!(
            err.reason
                .as_deref()
                .unwrap_or("")
                .contains(&hex::encode([2u8; 16]))
        );
    }
}
