//! Object tagging (`?tagging` on a key: Get, Put, DeleteObjectTagging) and bucket
//! tagging (`?tagging` on a bucket). An object's tags are stored in its attributes, so
//! they are replaced with the object, copied with it (`x-amz-tagging-directive`) and
//! durable like the rest of its metadata; a bucket's are a bucket document, like its
//! CORS configuration. The tag rules themselves are `crate::tagging`'s.

use http::{Response, StatusCode};

use super::route::ObjectOp;
use super::{Ctx, empty_response, xml_response};
use crate::access::object_arn;
use crate::body::{ByteStream, ResponseBody};
use crate::error::{S3Error, S3ErrorCode};
use crate::storage::AttrsUpdate;
use crate::tagging::{self, Owner};

/// A tagging request on a key whose current version is a delete marker: 405, as for the
/// marker's own version ("Method=PUT, ResourceType=DeleteMarker"; GET and DELETE alike).
const NOT_ALLOWED: super::versions::OnMarker = super::versions::OnMarker::NotAllowed;

/// The bucket document a bucket's tag set is stored as.
pub const DOCUMENT: &str = "tagging";

pub async fn get_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    let (_, meta) = super::versions::head_located(ctx, bucket, key, NOT_ALLOWED).await?;
    let resp = xml_response(tagging::to_document(&meta.attrs.tags));
    Ok(super::versions::with_version(ctx, bucket, &meta, resp))
}

pub async fn put_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    let _key = super::versions::lock_key(ctx, bucket, key).await;
    let (at_bucket, at_key) = super::versions::locate(ctx, bucket, key).await?;
    // Content-MD5 is optional here ("the command succeeds direct to s3" without it),
    // but checked when sent, like a checksum header.
    let (bytes, _slot) = super::object::read_verified_document(ctx, body).await?;
    let tags = tagging::parse_document(&bytes, Owner::Object)?;
    if ctx.access.reads_request_tags() {
        // Deferred by the authorization stage until the tags were known.
        let action = super::actions::tagging_action(ObjectOp::PutObjectTagging, ctx.req);
        ctx.access
            .check_with_request_tags(action, &object_arn(bucket, key), &tags)?;
    }
    let meta = match set_object_tags(ctx, &at_bucket, &at_key, tags).await {
        Ok(m) => m,
        Err(e) => return Err(super::versions::missing(ctx, bucket, key, e, NOT_ALLOWED).await),
    };
    let resp = empty_response(StatusCode::OK);
    Ok(super::versions::with_version(ctx, bucket, &meta, resp))
}

pub async fn delete_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    let _key = super::versions::lock_key(ctx, bucket, key).await;
    let (at_bucket, at_key) = super::versions::locate(ctx, bucket, key).await?;
    let meta = match set_object_tags(ctx, &at_bucket, &at_key, Vec::new()).await {
        Ok(m) => m,
        Err(e) => return Err(super::versions::missing(ctx, bucket, key, e, NOT_ALLOWED).await),
    };
    let resp = empty_response(StatusCode::NO_CONTENT);
    Ok(super::versions::with_version(ctx, bucket, &meta, resp))
}

/// Replaces an existing object's tags (`NoSuchKey` if there is none), atomically with
/// any concurrent write of the key: the update runs on whatever the key holds.
async fn set_object_tags(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    tags: Vec<tagging::Tag>,
) -> Result<crate::storage::ObjectMeta, S3Error> {
    let update: AttrsUpdate = std::sync::Arc::new(move |attrs| {
        attrs.tags = tags.clone();
        Ok(())
    });
    ctx.storage.update_attrs(bucket, key, update).await
}

pub async fn get_bucket(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    match ctx.storage.bucket_document(bucket, DOCUMENT).await? {
        Some(doc) => Ok(xml_response(String::from_utf8_lossy(&doc).into_owned())),
        None => Err(S3Error::new(S3ErrorCode::NoSuchTagSet)
            .extra("BucketName", bucket)
            .reason(format!("{bucket} has no tags"))),
    }
}

/// PutBucketTagging: "Content-MD5 … is required" (its API reference), as for the other
/// bucket configuration documents.
pub async fn put_bucket(
    ctx: &Ctx<'_>,
    bucket: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    ctx.storage.bucket(bucket).await?;
    let (bytes, _slot) =
        super::object::read_checked_document(ctx, body, "PutBucketTagging").await?;
    let tags = tagging::parse_document(&bytes, Owner::Bucket)?;
    // The stored document is the canonical one; an empty set removes the tags.
    let doc = (!tags.is_empty()).then(|| tagging::to_document(&tags).into());
    ctx.storage
        .put_bucket_document(bucket, DOCUMENT, doc)
        .await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

pub async fn delete_bucket(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    ctx.storage.bucket(bucket).await?;
    ctx.storage
        .put_bucket_document(bucket, DOCUMENT, None)
        .await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}
