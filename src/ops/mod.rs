//! S3 operations: one route table ([`route`]), one handler per operation ([`dispatch`]).
//!
//! A handler gets a [`Ctx`] (the request, its address, who sent it, and the server's
//! parts it may use) and the bucket and key its [`Op`] carries; it never sees the
//! service, so operations cannot reach back into the stages before them.

pub mod acl;
mod actions;
mod attributes;
pub(crate) mod attrs;
pub(crate) mod bucket;
mod completions;
pub(crate) mod conditions;
mod controls;
mod copy;
pub mod cors;
pub(crate) mod delete;
mod list;
pub(crate) mod multipart;
pub use completions::Completions;
pub(crate) mod object;
mod policy;
pub mod post;
mod route;
mod tagging;
mod uploads_list;
pub(crate) mod versions;
mod versions_list;
pub use actions::{checked_with_body_tags, copy_source, required};
pub use route::{BucketOp, ObjectOp, Op, route};

use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Response, StatusCode};

use crate::addressing::Address;
use crate::auth::Authenticated;
use crate::body::{self, ByteStream, ResponseBody};
use crate::clock::Clock;
use crate::config::Config;
use crate::error::S3Error;
use crate::form::FormUpload;
use crate::request::S3Request;
use crate::storage::Storage;

/// Everything a handler may read about the request, and the server parts it may use.
pub struct Ctx<'a> {
    pub req: &'a S3Request,
    pub addr: &'a Address,
    /// Who sent it, and what its body must still satisfy.
    pub auth: &'a Authenticated,
    /// What the caller may do, for the checks an operation makes itself (DeleteObjects
    /// per key, a POST form's key).
    pub access: &'a crate::access::Access,
    pub storage: &'a dyn Storage,
    pub config: &'a Config,
    pub clock: &'a dyn Clock,
    /// CompleteMultipartUpload answers, for clients that retry one.
    pub completions: &'a Completions,
    /// Slots for XML request documents being read and parsed (`Limits::max_xml_in_flight`).
    pub xml_slots: &'a tokio::sync::Semaphore,
    /// Each bucket's parsed access rules; an operation that changes one forgets it.
    pub rules: &'a crate::access::RulesCache,
    /// One lock per key whose versions are changing (`crate::versioning`).
    pub key_locks: &'a crate::versioning::KeyLocks,
}

/// What the operation reads: the body (already held to the signature's payload promise),
/// or for a POST form the form, whose head the authentication stage has read.
pub enum Input {
    Body(ByteStream),
    /// Boxed: the form's parser state is large, and most requests carry a body.
    Form(Box<FormUpload>),
}

impl Input {
    fn body(self) -> ByteStream {
        match self {
            Input::Body(b) => b,
            // Only PostObject is given a form, and it takes it whole: anything else
            // fails loudly rather than read an empty body.
            Input::Form(_) => Box::pin(futures_util::stream::once(async {
                Err(S3Error::internal(
                    "a form was given to an operation that reads a body",
                ))
            })),
        }
    }
}

/// Runs the operation.
pub async fn dispatch(
    ctx: &Ctx<'_>,
    op: Op<'_>,
    input: Input,
) -> Result<Response<ResponseBody>, S3Error> {
    match op {
        Op::ListBuckets => bucket::list_buckets(ctx).await,
        Op::Bucket(bucket, op) => bucket_op(ctx, bucket, op, input).await,
        Op::Object { bucket, key, op } => object_op(ctx, bucket, key, op, input).await,
    }
}

async fn bucket_op(
    ctx: &Ctx<'_>,
    bucket: &str,
    op: BucketOp,
    input: Input,
) -> Result<Response<ResponseBody>, S3Error> {
    match op {
        BucketOp::CreateBucket => bucket::create_bucket(ctx, bucket, input.body()).await,
        BucketOp::DeleteBucket => bucket::delete_bucket(ctx, bucket).await,
        BucketOp::HeadBucket => bucket::head_bucket(ctx, bucket).await,
        BucketOp::GetBucketLocation => bucket::get_bucket_location(ctx, bucket).await,
        BucketOp::ListObjects => list::list_objects(ctx, bucket, false).await,
        BucketOp::ListObjectsV2 => list::list_objects(ctx, bucket, true).await,
        BucketOp::DeleteObjects => delete::delete_objects(ctx, bucket, input.body()).await,
        BucketOp::ListMultipartUploads => uploads_list::list_uploads(ctx, bucket).await,
        BucketOp::PostObject => match input {
            Input::Form(upload) => post::post_object(ctx, bucket, *upload).await,
            Input::Body(_) => Err(S3Error::internal(
                "a POST form reached its operation without its head read",
            )),
        },
        BucketOp::PutBucketCors => cors::put(ctx, bucket, input.body()).await,
        BucketOp::GetBucketCors => cors::get(ctx, bucket).await,
        BucketOp::DeleteBucketCors => cors::delete(ctx, bucket).await,
        BucketOp::PutBucketPolicy => policy::put(ctx, bucket, input.body()).await,
        BucketOp::GetBucketPolicy => policy::get(ctx, bucket).await,
        BucketOp::DeleteBucketPolicy => policy::delete(ctx, bucket).await,
        BucketOp::GetBucketPolicyStatus => policy::status(ctx, bucket).await,
        BucketOp::GetBucketAcl => acl::get_bucket(ctx, bucket).await,
        BucketOp::PutBucketAcl => acl::put_bucket(ctx, bucket, input.body()).await,
        BucketOp::GetBucketOwnershipControls => controls::get_ownership(ctx, bucket).await,
        BucketOp::PutBucketOwnershipControls => {
            controls::put_ownership(ctx, bucket, input.body()).await
        }
        BucketOp::DeleteBucketOwnershipControls => controls::delete_ownership(ctx, bucket).await,
        BucketOp::GetPublicAccessBlock => controls::get_public_access(ctx, bucket).await,
        BucketOp::PutPublicAccessBlock => {
            controls::put_public_access(ctx, bucket, input.body()).await
        }
        BucketOp::DeletePublicAccessBlock => controls::delete_public_access(ctx, bucket).await,
        BucketOp::GetBucketTagging => tagging::get_bucket(ctx, bucket).await,
        BucketOp::PutBucketTagging => tagging::put_bucket(ctx, bucket, input.body()).await,
        BucketOp::DeleteBucketTagging => tagging::delete_bucket(ctx, bucket).await,
        BucketOp::GetBucketVersioning => versions::get_bucket(ctx, bucket).await,
        BucketOp::PutBucketVersioning => versions::put_bucket(ctx, bucket, input.body()).await,
        BucketOp::ListObjectVersions => versions_list::list(ctx, bucket).await,
    }
}

async fn object_op(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    op: ObjectOp,
    input: Input,
) -> Result<Response<ResponseBody>, S3Error> {
    match op {
        ObjectOp::PutObject => object::put_object(ctx, bucket, key, input.body()).await,
        ObjectOp::CopyObject => copy::copy_object(ctx, bucket, key).await,
        ObjectOp::GetObject => object::get_object(ctx, bucket, key, false).await,
        ObjectOp::HeadObject => object::get_object(ctx, bucket, key, true).await,
        ObjectOp::DeleteObject => object::delete_object(ctx, bucket, key).await,
        ObjectOp::CreateMultipartUpload => multipart::create(ctx, bucket, key).await,
        ObjectOp::UploadPart => multipart::upload_part(ctx, bucket, key, input.body()).await,
        ObjectOp::UploadPartCopy => multipart::upload_part_copy(ctx, bucket, key).await,
        ObjectOp::CompleteMultipartUpload => {
            multipart::complete(ctx, bucket, key, input.body()).await
        }
        ObjectOp::AbortMultipartUpload => multipart::abort(ctx, bucket, key).await,
        ObjectOp::ListParts => multipart::list_parts(ctx, bucket, key).await,
        ObjectOp::GetObjectAcl => acl::get_object(ctx, bucket, key).await,
        ObjectOp::PutObjectAcl => acl::put_object(ctx, bucket, key, input.body()).await,
        ObjectOp::GetObjectTagging => tagging::get_object(ctx, bucket, key).await,
        ObjectOp::PutObjectTagging => tagging::put_object(ctx, bucket, key, input.body()).await,
        ObjectOp::DeleteObjectTagging => tagging::delete_object(ctx, bucket, key).await,
        ObjectOp::GetObjectAttributes => attributes::get(ctx, bucket, key).await,
    }
}

/// An XML request document, read whole (at most `max_xml_body`) while holding one of the
/// server's XML slots: the permit travels with the bytes and is released when the caller
/// has parsed them, so at most `max_xml_in_flight` documents are in memory at once and the
/// others wait unread (187 MiB for 32 hostile 2 MiB documents at once before this bound).
pub async fn read_xml_document<'a>(
    ctx: &'a Ctx<'_>,
    body: ByteStream,
) -> Result<(bytes::Bytes, tokio::sync::SemaphorePermit<'a>), S3Error> {
    let permit = ctx.xml_slots.acquire().await.map_err(S3Error::internal)?;
    let limit = ctx.config.limits.max_xml_body;
    let bytes = body::collect_limited(body, limit, || {
        crate::xml::malformed(format!("the XML body exceeds {limit} bytes"))
    })
    .await?;
    Ok((bytes, permit))
}

/// Finishes a response. Header values come from validated input, so this cannot fail in
/// practice; if it did, the client gets an InternalError rather than a dropped connection.
pub fn respond(
    builder: http::response::Builder,
    body: ResponseBody,
) -> Result<Response<ResponseBody>, S3Error> {
    builder.body(body).map_err(S3Error::internal)
}

/// A 200 with an XML document.
pub fn xml_response(xml: String) -> Response<ResponseBody> {
    let len = xml.len();
    Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, "application/xml")
        .header(CONTENT_LENGTH, len)
        .body(body::full(xml))
        .expect("static response parts are valid")
}

/// An empty response with `status`.
pub fn empty_response(status: StatusCode) -> Response<ResponseBody> {
    Response::builder()
        .status(status)
        .body(body::empty())
        .expect("static response parts are valid")
}

pub use crate::dates::{http_time, xml_time};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let t = time::macros::datetime!(2013-05-24 00:00:00.123 UTC);
        assert_eq!(xml_time(t), "2013-05-24T00:00:00.123Z");
        assert_eq!(http_time(t), "Fri, 24 May 2013 00:00:00 GMT");
    }
}
