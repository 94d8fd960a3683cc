//! Object Ownership (`?ownershipControls`) and Block Public Access
//! (`?publicAccessBlock`) of a bucket: Put, Get, Delete of each (shapes and errors:
//! docs/permissions-evidence.md §6, §9).

use bytes::Bytes;
use http::{Response, StatusCode};

use super::acl::rules;
use super::{Ctx, empty_response, xml_response};
use crate::access::rules::{OWNERSHIP_DOCUMENT, PUBLIC_ACCESS_DOCUMENT, json};
use crate::acl::Acl;
use crate::body::{ByteStream, ResponseBody};
use crate::controls::{ObjectOwnership, PublicAccessBlock};
use crate::error::{S3Error, S3ErrorCode};

async fn set(ctx: &Ctx<'_>, bucket: &str, name: &str, doc: Option<Bytes>) -> Result<(), S3Error> {
    ctx.storage.put_bucket_document(bucket, name, doc).await?;
    ctx.rules.forget(bucket);
    Ok(())
}

/// PutBucketOwnershipControls. `BucketOwnerEnforced` cannot be set while the bucket's
/// ACL grants anyone but the owner (InvalidBucketAclWithObjectOwnership, §6); existing
/// object ACLs are kept and count again if ACLs are enabled later, as on S3.
pub async fn put_ownership(
    ctx: &Ctx<'_>,
    bucket: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    let rules = rules(ctx, bucket)?;
    let (bytes, _slot) = super::read_xml_document(ctx, body).await?;
    let ownership = ObjectOwnership::from_xml(&bytes)?;
    if ownership == ObjectOwnership::BucketOwnerEnforced && rules.acl != Acl::private(rules.owner())
    {
        return Err(
            S3Error::new(S3ErrorCode::InvalidBucketAclWithObjectOwnership)
                .reason("the bucket ACL grants others access; PutBucketAcl with private first"),
        );
    }
    let doc = Bytes::from_static(ownership.as_str().as_bytes());
    set(ctx, bucket, OWNERSHIP_DOCUMENT, Some(doc)).await?;
    Ok(empty_response(StatusCode::OK))
}

pub async fn get_ownership(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    match rules(ctx, bucket)?.ownership {
        Some(o) => Ok(xml_response(o.to_xml())),
        None => Err(S3Error::new(S3ErrorCode::OwnershipControlsNotFoundError)
            .extra("BucketName", bucket)
            .reason("the bucket has no ownership controls (it was created with --legacy-bucket-defaults, or they were deleted); ACLs are evaluated as under ObjectWriter")),
    }
}

pub async fn delete_ownership(
    ctx: &Ctx<'_>,
    bucket: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    rules(ctx, bucket)?;
    set(ctx, bucket, OWNERSHIP_DOCUMENT, None).await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

pub async fn put_public_access(
    ctx: &Ctx<'_>,
    bucket: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    rules(ctx, bucket)?;
    let (bytes, _slot) = super::read_xml_document(ctx, body).await?;
    let pab = PublicAccessBlock::from_xml(&bytes)?;
    set(ctx, bucket, PUBLIC_ACCESS_DOCUMENT, Some(json(&pab)?)).await?;
    Ok(empty_response(StatusCode::OK))
}

pub async fn get_public_access(
    ctx: &Ctx<'_>,
    bucket: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    match rules(ctx, bucket)?.public_access {
        Some(p) => Ok(xml_response(p.to_xml())),
        None => Err(
            S3Error::new(S3ErrorCode::NoSuchPublicAccessBlockConfiguration)
                .extra("BucketName", bucket)
                .reason("the bucket has no Block Public Access configuration: nothing is blocked"),
        ),
    }
}

pub async fn delete_public_access(
    ctx: &Ctx<'_>,
    bucket: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    rules(ctx, bucket)?;
    set(ctx, bucket, PUBLIC_ACCESS_DOCUMENT, None).await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}
