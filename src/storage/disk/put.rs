//! PutObject and UploadPart bodies on disk: how a body becomes a segment record, or a
//! durable temp file and then an object file.
//!
//! Two shapes, chosen by size once the body has arrived or passed [`SMALL_BODY`]:
//!
//! - **Small bodies** (most presigned PUTs) are held in memory as they arrive (hashed as
//!   they pass), and committed on the request's worker: take the commit lock, check,
//!   append one record to the bucket's active segment and index it (no `.await` between
//!   these), release the lock, and wait for the group `fdatasync` that covers the record
//!   ([`super::records`]). Why: profiling a 1 KiB put showed its time in two `fsync`s
//!   (file, then directory) and four hand-offs between async workers and blocking
//!   threads; then in creating and renaming a file per put, which this file system does
//!   about 4,000 times a second with no sync at all. Now it is no hand-off at all, one
//!   `pwrite`, and a share of one sync.
//! - **Large bodies** stream into the temp file through a buffered writer, which is
//!   `fsync`ed, then committed under the commit lock like before (their time is the
//!   disk's, not the sync's).
//!
//! Either way a failure before the commit (body error, `BadDigest`, a failed check)
//! leaves the previous object as it was (and no temp file), and a request dropped
//! mid-commit cannot stop the commit half-way (a record's commit has no `.await` inside;
//! a file's runs in a blocking task to its end).

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::durable::{TempFile, io_context};
use super::format::{copy_body, create_temp, seal_temp};
use super::segments::Record;
use super::{DiskBucket, DiskStorage, commit};
use crate::body::ByteStream;
use crate::error::S3Error;
use crate::storage::body_md5::BodyMd5;
use crate::storage::{
    CommitCheck, ObjectAttrs, ObjectMeta, PutRequest, TrailingAttrs, finish_meta,
};

/// Bodies up to this size are staged in memory and committed as a segment record.
pub(super) const SMALL_BODY: u64 = 256 * 1024;

/// What a body needs besides its bytes to become an object (or a part).
pub(super) struct WriteOf<'a> {
    pub(super) key: &'a str,
    pub(super) content_md5: Option<[u8; 16]>,
    pub(super) attrs: ObjectAttrs,
    pub(super) trailing: Option<TrailingAttrs>,
    pub(super) restore: Option<Box<ObjectMeta>>,
}

impl DiskStorage {
    /// PutObject: see the module documentation.
    pub(super) async fn put(
        &self,
        bucket: Arc<DiskBucket>,
        key: &str,
        req: PutRequest,
    ) -> Result<ObjectMeta, S3Error> {
        let PutRequest {
            attrs,
            mut body,
            content_md5,
            check,
            trailing,
            restore,
        } = req;
        let of = WriteOf {
            key,
            content_md5,
            attrs,
            trailing,
            restore,
        };
        let mut staged = Vec::new();
        let mut hashed = BodyMd5::default();
        while hashed.size() <= SMALL_BODY {
            let Some(chunk) = body.next().await else {
                let meta = self.finish(of, hashed).await?;
                return self.put_small(bucket, staged, meta, check).await;
            };
            let chunk = chunk?;
            hashed.update(&chunk).await?;
            staged.push(chunk);
        }
        let temp = TempFile::new(self.temp_path());
        let written = self
            .write_temp_from(&temp.path, staged, body, hashed, of)
            .await;
        let result = match written {
            Ok(meta) => commit(bucket, &temp.path, meta, check, |_| {}).await,
            Err(e) => Err(e),
        };
        temp.settle(result).await
    }

    /// The metadata of a body that has ended (checks Content-MD5 and the trailer).
    async fn finish(&self, of: WriteOf<'_>, hashed: BodyMd5) -> Result<ObjectMeta, S3Error> {
        let (size, md5) = hashed.finish().await?;
        finish_meta(
            of.key,
            size,
            md5,
            of.content_md5,
            of.attrs,
            of.trailing.as_ref(),
            of.restore,
            &*self.clock,
        )
    }

    /// The small-body commit: one record ([`DiskBucket::commit_record`]).
    async fn put_small(
        &self,
        bucket: Arc<DiskBucket>,
        body: Vec<Bytes>,
        meta: ObjectMeta,
        check: Option<CommitCheck>,
    ) -> Result<ObjectMeta, S3Error> {
        let commit = bucket.lock_commit().await?;
        let record = Record::Object {
            meta: &meta,
            body: &body,
        };
        bucket.commit_record(commit, record, check).await?;
        Ok(meta)
    }

    /// Streams a body into a temp file and makes it durable; returns its metadata.
    /// (UploadPart, and the large-body PutObject.)
    pub(super) async fn write_temp(
        &self,
        temp: &Path,
        body: ByteStream,
        of: WriteOf<'_>,
    ) -> Result<ObjectMeta, S3Error> {
        self.write_temp_from(temp, Vec::new(), body, BodyMd5::default(), of)
            .await
    }

    /// [`DiskStorage::write_temp`] for a body whose first chunks (`staged`, already in
    /// `hashed`) were read before it was known to be large.
    async fn write_temp_from(
        &self,
        temp: &Path,
        staged: Vec<Bytes>,
        body: ByteStream,
        mut hashed: BodyMd5,
        of: WriteOf<'_>,
    ) -> Result<ObjectMeta, S3Error> {
        let mut out = create_temp(temp).await?;
        // The staged chunks are in `hashed` already; the rest is hashed as it is copied.
        for chunk in staged {
            out.write_all(&chunk)
                .await
                .map_err(io_context("write", temp))?;
        }
        copy_body(body, &mut out, temp, Some(&mut hashed)).await?;
        let meta = self.finish(of, hashed).await?;
        seal_temp(out, &meta, temp).await?;
        Ok(meta)
    }
}
