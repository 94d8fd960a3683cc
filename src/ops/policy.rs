//! PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy (`?policy`) and
//! GetBucketPolicyStatus (`?policyStatus`). The policy is checked once, when it is set
//! (S3's MalformedPolicy texts: docs/permissions-evidence.md §6), stored as a bucket
//! document exactly as sent (GetBucketPolicy returns it), and the cached rules are
//! forgotten, so the next request is evaluated against it. A public policy is refused
//! while the bucket's BlockPublicPolicy is on.

use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Response, StatusCode};

use super::{Ctx, empty_response, xml_response};
use crate::access::known_principal;
use crate::access::rules::POLICY_DOCUMENT;
use crate::body::{self, ByteStream, ResponseBody};
use crate::error::{S3Error, S3ErrorCode};
use crate::policy::Policy;
use crate::xml::XmlWriter;

/// "Bucket policies are limited to 20 KB in size" (the S3 user guide).
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

fn malformed(message: impl Into<String>) -> S3Error {
    S3Error::with_message(S3ErrorCode::MalformedPolicy, message.into())
}

fn no_policy(bucket: &str) -> S3Error {
    S3Error::new(S3ErrorCode::NoSuchBucketPolicy).extra("BucketName", bucket)
}

/// Get/Put/DeleteBucketPolicy by an identity with the permission but of another
/// account than the bucket's: 405 (the API reference; §1.11).
fn owner_only(ctx: &Ctx<'_>, bucket: &str) -> Result<(), S3Error> {
    let rules = super::acl::rules(ctx, bucket)?;
    if ctx.access.account() != Some(rules.owner()) {
        return Err(S3Error::new(S3ErrorCode::MethodNotAllowed)
            .extra("Method", ctx.req.method.as_str())
            .extra("ResourceType", "BUCKET")
            .reason("only the bucket owner's account may read, set or delete its policy"));
    }
    Ok(())
}

pub async fn put(
    ctx: &Ctx<'_>,
    bucket: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    owner_only(ctx, bucket)?;
    // No AWS body is recorded for an oversized policy; MinIO and another emulator
    // answer with this text (docs/permissions-evidence.md §2, "Size").
    let too_large = || {
        malformed("Policy exceeds the maximum allowed document size.").reason(format!(
            "a bucket policy may be at most {MAX_POLICY_BYTES} bytes"
        ))
    };
    let bytes = body::collect_limited(body, MAX_POLICY_BYTES, too_large).await?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        malformed("This policy contains invalid Json").reason("the policy is not UTF-8")
    })?;
    let known = |name: &str| known_principal(ctx.config, name);
    let policy = Policy::parse_bucket(text, bucket, &known).map_err(|e| {
        // AWS's message is the first clause; ours may say more, in the reason.
        let message = e.0.split(" (").next().unwrap_or(&e.0).to_string();
        malformed(message).reason(e.0)
    })?;
    if policy.is_public()
        && super::acl::rules(ctx, bucket)?
            .public_access()
            .block_public_policy
    {
        return Err(crate::controls::PublicAccessBlock::refusal(
            "BlockPublicPolicy",
            "the policy is public (a statement allows everyone without a condition that fixes who)",
        ));
    }
    ctx.storage
        .put_bucket_document(bucket, POLICY_DOCUMENT, Some(bytes.clone()))
        .await?;
    ctx.rules.forget(bucket);
    Ok(empty_response(StatusCode::NO_CONTENT))
}

pub async fn get(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    owner_only(ctx, bucket)?;
    let doc = ctx
        .storage
        .bucket_document(bucket, POLICY_DOCUMENT)
        .await?
        .ok_or_else(|| no_policy(bucket))?;
    super::respond(
        Response::builder()
            .status(StatusCode::OK)
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_LENGTH, doc.len()),
        body::full(doc),
    )
}

pub async fn delete(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    owner_only(ctx, bucket)?;
    ctx.storage
        .put_bucket_document(bucket, POLICY_DOCUMENT, None)
        .await?;
    ctx.rules.forget(bucket);
    Ok(empty_response(StatusCode::NO_CONTENT))
}

/// `<PolicyStatus><IsPublic>…</IsPublic></PolicyStatus>`: public when a statement allows
/// everyone without a condition that fixes who (the S3 "meaning of public").
pub async fn status(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    ctx.storage.bucket(bucket).await?;
    let policy = super::acl::rules(ctx, bucket)?
        .policy
        .clone()
        .ok_or_else(|| no_policy(bucket))?;
    let mut w = XmlWriter::new();
    w.open_ns("PolicyStatus");
    w.elem(
        "IsPublic",
        if policy.is_public() { "true" } else { "false" },
    );
    w.close("PolicyStatus");
    Ok(xml_response(w.finish()))
}
