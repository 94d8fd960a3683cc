//! ACLs as operations see them: GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl
//! (`?acl`), and the ACL every write stores (PutObject, CopyObject,
//! CreateMultipartUpload, a POST form's `acl` field, CreateBucket), decided under the
//! bucket's Object Ownership and Block Public Access (evidence:
//! docs/permissions-evidence.md §6, §7, §9).

use http::{Response, StatusCode};

use super::{Ctx, empty_response, xml_response};
use crate::access::BucketRules;
use crate::acl::{self, Acl, AclRequest};
use crate::body::{ByteStream, ResponseBody};
use crate::controls::{ObjectOwnership, PublicAccessBlock};
use crate::error::{S3Error, S3ErrorCode};
use crate::storage::AttrsUpdate;

/// The rules of the addressed bucket (loaded by the access stage), or NoSuchBucket.
pub fn rules<'a>(ctx: &'a Ctx<'_>, bucket: &str) -> Result<&'a BucketRules, S3Error> {
    ctx.access
        .rules(bucket)
        .ok_or_else(|| S3Error::no_such_bucket(bucket))
}

/// 400 AccessControlListNotSupported on PutBucketAcl and PutObjectAcl, whatever the ACL:
/// "Requests to set ACLs or update ACLs fail with a 400 error and return the
/// AccessControlListNotSupported error code" (S3 user guide, Object Ownership
/// troubleshooting); hashicorp/terraform-provider-aws#28353 shows it for `private`.
/// Only uploads may carry bucket-owner-full-control.
fn acls_cannot_be_set(bucket: &str) -> S3Error {
    S3Error::new(S3ErrorCode::AccessControlListNotSupported).reason(format!(
        "{bucket} has Object Ownership BucketOwnerEnforced: its ACLs cannot be set or updated, not even to private (GetBucketAcl and GetObjectAcl still answer, with the bucket owner's full control); PutBucketOwnershipControls with ObjectWriter or BucketOwnerPreferred enables ACLs"
    ))
}

/// 400 AccessControlListNotSupported: the bucket's ownership disables ACLs.
fn acls_disabled(bucket: &str) -> S3Error {
    S3Error::new(S3ErrorCode::AccessControlListNotSupported).reason(format!(
        "{bucket} has Object Ownership BucketOwnerEnforced, so only bucket-owner-full-control (or no ACL) is accepted; PutBucketOwnershipControls with ObjectWriter or BucketOwnerPreferred enables ACLs, and --legacy-bucket-defaults creates buckets that way"
    ))
}

/// `BlockPublicAcls` refuses a request that carries a public ACL.
fn check_public(rules: &BucketRules, acl: &Acl) -> Result<(), S3Error> {
    if acl.is_public() && rules.public_access().block_public_acls {
        return Err(PublicAccessBlock::refusal(
            "BlockPublicAcls",
            "the ACL grants access to AllUsers or AuthenticatedUsers",
        ));
    }
    Ok(())
}

/// Whether a canonical id is an account this server knows.
fn known<'a>(ctx: &'a Ctx<'_>) -> impl Fn(&str) -> bool + 'a {
    move |id| crate::access::known_account(ctx.config, id)
}

/// Whether the request has any header an ACL can be given by. Most requests have none,
/// and this says so in one pass over their headers instead of a lookup per grant.
fn may_carry_acl(req: &crate::request::S3Request) -> bool {
    req.has_header_prefix("x-amz-acl") || req.has_header_prefix("x-amz-grant-")
}

/// Whether the request gives an ACL by header (`x-amz-acl` or an `x-amz-grant-*` that
/// applies: `x-amz-grant-write` only to buckets).
pub fn carries_acl(req: &crate::request::S3Request, for_bucket: bool) -> bool {
    may_carry_acl(req)
        && crate::acl::request::has_acl_headers(&|name: &str| req.header(name), for_bucket)
}

/// The ACL the request's headers ask for.
pub fn requested(ctx: &Ctx<'_>, for_bucket: bool) -> Result<Option<AclRequest>, S3Error> {
    if !may_carry_acl(ctx.req) {
        return Ok(None);
    }
    let header = |name: &str| ctx.req.header(name);
    AclRequest::from_headers(&header, for_bucket, &known(ctx))
}

/// The ACL a new object is stored with (`None`: the bucket owner's, private). Under
/// `BucketOwnerEnforced` the bucket owner owns it and only `bucket-owner-full-control`
/// (or nothing) may be asked for; otherwise the writer's account owns it (the bucket
/// owner under `BucketOwnerPreferred` with `bucket-owner-full-control`), with the
/// grants asked for, unless they are public and Block Public Access refuses them.
pub fn for_new_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    requested: Option<AclRequest>,
) -> Result<Option<Acl>, S3Error> {
    let rules = rules(ctx, bucket)?;
    let bucket_owner = rules.owner();
    let writer = ctx.access.account().unwrap_or(acl::ANONYMOUS_OWNER);
    let owner = match (rules.ownership(), &requested) {
        (ObjectOwnership::BucketOwnerEnforced, None) => return Ok(None),
        (ObjectOwnership::BucketOwnerEnforced, Some(r)) => {
            let acl = r.resolve(bucket_owner, bucket_owner, false);
            return if r.is_bucket_owner_full_control()
                || (matches!(r, AclRequest::Grants(_)) && acl.is_owner_full_control(bucket_owner))
            {
                Ok(None)
            } else {
                Err(acls_disabled(bucket))
            };
        }
        (ObjectOwnership::BucketOwnerPreferred, Some(r)) if r.is_bucket_owner_full_control() => {
            bucket_owner
        }
        _ => writer,
    };
    let acl = match requested {
        Some(r) => r.resolve(owner, bucket_owner, false),
        None => Acl::private(owner),
    };
    check_public(rules, &acl)?;
    Ok((acl != Acl::private(bucket_owner)).then_some(acl))
}

/// The ACL an object write stores, from the request's ACL headers.
pub fn for_write(ctx: &Ctx<'_>, bucket: &str) -> Result<Option<Acl>, S3Error> {
    let requested = requested(ctx, false)?;
    for_new_object(ctx, bucket, requested)
}

/// The ACL a new bucket is created with, owned by the caller's account. An ACL needs
/// ownership other than `BucketOwnerEnforced` (InvalidBucketAclWithObjectOwnership),
/// and a public one is refused while Block Public Access is on
/// (InvalidBucketAclWithBlockPublicAccessError; real messages in §9).
pub fn for_new_bucket(
    requested: Option<&AclRequest>,
    owner: &str,
    ownership: ObjectOwnership,
    public_access: Option<PublicAccessBlock>,
) -> Result<Acl, S3Error> {
    let Some(r) = requested else {
        return Ok(Acl::private(owner));
    };
    let acl = r.resolve(owner, owner, true);
    if ownership == ObjectOwnership::BucketOwnerEnforced && acl != Acl::private(owner) {
        return Err(S3Error::new(S3ErrorCode::InvalidBucketAclWithObjectOwnership).reason(
            "new buckets have Object Ownership BucketOwnerEnforced; send x-amz-object-ownership: ObjectWriter (or BucketOwnerPreferred) with an ACL",
        ));
    }
    if acl.is_public() && public_access.is_some_and(|p| p.block_public_acls) {
        return Err(S3Error::new(S3ErrorCode::InvalidBucketAclWithBlockPublicAccessError)
            .reason("new buckets have Block Public Access on; create the bucket, then DeletePublicAccessBlock, then set the ACL"));
    }
    Ok(acl)
}

/// The ACL a Put*Acl request sets: from its headers or its XML body, not both
/// (UnexpectedContent), and not neither (MissingSecurityHeader naming x-amz-acl).
async fn acl_to_set(
    ctx: &Ctx<'_>,
    body: ByteStream,
    owner: &str,
    bucket_owner: &str,
    for_bucket: bool,
) -> Result<Acl, S3Error> {
    let from_headers = requested(ctx, for_bucket)?;
    let (bytes, _slot) = super::read_xml_document(ctx, body).await?;
    let empty = bytes.iter().all(u8::is_ascii_whitespace);
    match (from_headers, empty) {
        (Some(_), false) => Err(S3Error::new(S3ErrorCode::UnexpectedContent)
            .reason("the ACL comes from the x-amz-acl / x-amz-grant-* headers or from the body, not both")),
        (Some(r), true) => Ok(r.resolve(owner, bucket_owner, for_bucket)),
        (None, false) => acl::xml::parse(&bytes, owner, &known(ctx)),
        (None, true) => Err(S3Error::new(S3ErrorCode::MissingSecurityHeader)
            .extra("MissingHeaderName", "x-amz-acl")
            .reason("send a canned ACL (x-amz-acl), x-amz-grant-* headers or an AccessControlPolicy body")),
    }
}

/// GetBucketAcl: the ACL in force (public grants left out under IgnorePublicAcls, which
/// makes S3 return the effective ACL).
pub async fn get_bucket(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    let rules = rules(ctx, bucket)?;
    // The ACL as stored, public grants included even under IgnorePublicAcls: that
    // setting "doesn't affect the persistence of any existing ACLs" (S3 API reference,
    // PublicAccessBlockConfiguration); it only keeps them out of access decisions.
    Ok(xml_response(acl::xml::write(&rules.acl)))
}

pub async fn put_bucket(
    ctx: &Ctx<'_>,
    bucket: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    let rules = rules(ctx, bucket)?;
    if !rules.acls_enabled() {
        return Err(acls_cannot_be_set(bucket));
    }
    let owner = rules.owner().to_string();
    let acl = acl_to_set(ctx, body, &owner, &owner, true).await?;
    check_public(rules, &acl)?;
    let doc = crate::access::rules::json(&acl)?;
    ctx.storage
        .put_bucket_document(bucket, crate::access::rules::ACL_DOCUMENT, Some(doc))
        .await?;
    ctx.rules.forget(bucket);
    Ok(empty_response(StatusCode::OK))
}

/// Who owns an object (or the object an upload will make): its ACL's owner, else the
/// bucket owner.
pub fn owner_of(attrs: &crate::storage::ObjectAttrs, bucket_owner: &str) -> String {
    attrs
        .stored_acl(bucket_owner)
        .map_or_else(|| bucket_owner.to_string(), |a| a.owner)
}

/// An object's ACL, as stored, or the bucket owner's private one.
fn object_acl(meta: &crate::storage::ObjectMeta, rules: &BucketRules) -> Acl {
    if !rules.acls_enabled() {
        return Acl::private(rules.owner());
    }
    meta.attrs
        .stored_acl(rules.owner())
        .unwrap_or_else(|| Acl::private(rules.owner()))
}

pub async fn get_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    let rules = rules(ctx, bucket)?;
    let on = super::versions::OnMarker::NotFound;
    let (_, meta) = super::versions::head_located(ctx, bucket, key, on).await?;
    let acl = object_acl(&meta, rules);
    let resp = xml_response(acl::xml::write(&acl));
    Ok(super::versions::with_version(ctx, bucket, &meta, resp))
}

pub async fn put_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    let rules = rules(ctx, bucket)?;
    let _key = super::versions::lock_key(ctx, bucket, key).await;
    let on = super::versions::OnMarker::NotAllowed;
    let ((at_bucket, at_key), meta) = super::versions::head_located(ctx, bucket, key, on).await?;
    if !rules.acls_enabled() {
        return Err(acls_cannot_be_set(bucket));
    }
    let owner = object_acl(&meta, rules).owner;
    let bucket_owner = rules.owner().to_string();
    let acl = acl_to_set(ctx, body, &owner, &bucket_owner, false).await?;
    check_public(rules, &acl)?;
    let stored = (acl != Acl::private(&bucket_owner)).then_some(acl);
    let update: AttrsUpdate = std::sync::Arc::new(move |attrs| {
        attrs.acl = stored.clone();
        attrs.extra.remove(crate::storage::LEGACY_CANNED_ACL);
        Ok(())
    });
    ctx.storage
        .update_attrs(&at_bucket, &at_key, update)
        .await?;
    Ok(empty_response(StatusCode::OK))
}
