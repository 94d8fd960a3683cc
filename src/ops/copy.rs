//! CopyObject (`PUT` with `x-amz-copy-source`): the body streams from the source to the
//! new object; metadata is copied or replaced per `x-amz-metadata-directive`.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html>

use http::Response;

use super::attrs::attrs_from_headers;
use super::object::{etag_matches, precondition_failed};
use super::{Ctx, xml_response, xml_time};
use crate::addressing::{check_bucket_name, check_key};
use crate::body::ResponseBody;
use crate::error::{S3Error, S3ErrorCode};
use crate::request::decode_component;
use crate::storage::{ObjectMeta, PutRequest};
use crate::xml::XmlWriter;

/// Parses `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, optionally
/// `?versionId=…` (returned as sent, but never empty: "Version id cannot be the empty
/// string"; the caller checks its form, as CopyObject and UploadPartCopy refuse a bad
/// one differently).
pub(super) type CopySource = (String, String, Option<String>);

pub(super) fn copy_source(raw: &str, max_key: usize) -> Result<CopySource, S3Error> {
    let bad_bucket =
        || S3Error::invalid_argument("Invalid copy source bucket name", "x-amz-copy-source", raw);
    let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
    let version = query.strip_prefix("versionId=").map(str::to_string);
    if version.as_deref() == Some("") {
        return Err(S3Error::invalid_argument(
            "Version id cannot be the empty string",
            "x-amz-copy-source",
            "",
        ));
    }
    let path = path.strip_prefix('/').unwrap_or(path);
    let (bucket, key) = path.split_once('/').ok_or_else(|| {
        S3Error::invalid_argument("Invalid copy source object key", "x-amz-copy-source", raw)
    })?;
    let bucket = decode_component(bucket).map_err(|_| bad_bucket())?;
    check_bucket_name(&bucket).map_err(|_| bad_bucket())?;
    let key = decode_component(key)?;
    if key.is_empty() {
        return Err(S3Error::invalid_argument(
            "Invalid copy source object key",
            "x-amz-copy-source",
            raw,
        ));
    }
    check_key(&key, max_key)?;
    Ok((bucket, key, version))
}

/// `x-amz-copy-source-if-*`: conditions on the source, failing with 412.
pub(super) fn check_source_conditions(ctx: &Ctx<'_>, src: &ObjectMeta) -> Result<(), S3Error> {
    let req = ctx.req;
    let modified = src.last_modified.unix_timestamp();
    let date = |name: &str| {
        req.header(name)
            .and_then(crate::dates::parse_http_date)
            .map(|t| t.unix_timestamp())
    };
    if let Some(list) = req.header("x-amz-copy-source-if-match") {
        if !etag_matches(list, &src.etag) {
            return Err(precondition_failed("x-amz-copy-source-If-Match"));
        }
    } else if date("x-amz-copy-source-if-unmodified-since").is_some_and(|s| modified > s) {
        return Err(precondition_failed("x-amz-copy-source-If-Unmodified-Since"));
    }
    if let Some(list) = req.header("x-amz-copy-source-if-none-match") {
        if etag_matches(list, &src.etag) {
            return Err(precondition_failed("x-amz-copy-source-If-None-Match"));
        }
    } else if date("x-amz-copy-source-if-modified-since").is_some_and(|s| modified <= s) {
        return Err(precondition_failed("x-amz-copy-source-If-Modified-Since"));
    }
    Ok(())
}

pub async fn copy_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    let (bucket, key) = (bucket, key);
    let limits = &ctx.config.limits;
    let raw = ctx
        .req
        .header(crate::header_names::X_AMZ_COPY_SOURCE)
        .unwrap_or_default();
    let (src_bucket, src_key, src_version) = copy_source(raw, limits.max_key_bytes)?;
    // Measured: CopyObject answers a malformed source version id with a bare
    // "Invalid Request" (docs/versioning-evidence.md §10).
    if let Some(v) = src_version.as_deref()
        && !crate::versioning::is_well_formed(v)
    {
        return Err(
            S3Error::with_message(S3ErrorCode::InvalidRequest, "Invalid Request")
                .reason(format!("{v:?} is not a version id")),
        );
    }
    let replace = match ctx.req.header("x-amz-metadata-directive") {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(other) => {
            return Err(S3Error::invalid_argument(
                "Unknown metadata directive.",
                "x-amz-metadata-directive",
                other,
            ));
        }
    };
    let replace_tags = match ctx.req.header("x-amz-tagging-directive") {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(other) => {
            return Err(S3Error::invalid_argument(
                "Unknown tagging directive.",
                "x-amz-tagging-directive",
                other,
            ));
        }
    };
    ctx.storage.bucket(bucket).await?;
    let source = super::versions::open(
        ctx,
        &src_bucket,
        &src_key,
        src_version.as_deref(),
        |_| {
            S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "The source of a copy request may not specifically refer to a delete marker by version id.",
            )
        },
    )
    .await?;
    let source_version = super::versions::read_version_header(ctx, &src_bucket, &source.meta);
    check_source_conditions(ctx, &source.meta)?;
    let changes_class = ctx.req.header("x-amz-storage-class").is_some();
    // Copying an older version onto its own key is how a version is restored.
    let restores = src_version.is_some() && {
        use crate::versioning::history::stamp_of;
        let current = ctx.storage.head_object(bucket, key).await.ok();
        current.map(|c| stamp_of(&c).id) != Some(stamp_of(&source.meta).id)
    };
    if src_bucket == bucket && src_key == key && !replace && !changes_class && !restores {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    if source.meta.size > limits.max_object_size {
        return Err(S3Error::invalid_argument(
            "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120",
            "x-amz-copy-source",
            raw,
        ));
    }
    let mut attrs = if replace {
        attrs_from_headers(ctx.req, limits.max_user_metadata_bytes)?
    } else {
        let mut a = source.meta.attrs.clone();
        if changes_class {
            // Validated the same way as on PUT.
            let checked = attrs_from_headers(ctx.req, limits.max_user_metadata_bytes)?;
            a.extra.remove("x-amz-storage-class");
            if let Some(c) = checked.extra.get("x-amz-storage-class") {
                a.extra.insert("x-amz-storage-class".into(), c.clone());
            }
        }
        a
    };
    // Tags follow their own directive: the source's (COPY, the default) whatever the
    // metadata directive, or the request's `x-amz-tagging` (REPLACE; none without it).
    attrs.tags = if replace_tags {
        match crate::tagging::requested(ctx.req) {
            Some(raw) => crate::tagging::parse_header(raw)?,
            None => Vec::new(),
        }
    } else {
        source.meta.attrs.tags.clone()
    };
    // "Amazon S3 does not copy the ACL from the source object": the copy gets the
    // request's ACL, or the default.
    attrs.extra.remove(crate::storage::LEGACY_CANNED_ACL);
    attrs.acl = super::acl::for_write(ctx, bucket)?;
    // The destination's own conditions (If-Match, If-None-Match), checked with the
    // commit; the source's are the x-amz-copy-source-if-* ones above.
    let check = super::conditions::write_condition(ctx, bucket, key).await?;
    let versioned = super::versions::versioned(ctx, bucket);
    let write = versioned.begin_write(key).await?;
    attrs.version = write.stamp.clone();
    let body = source.body.stream(None);
    let put = PutRequest {
        check,
        ..PutRequest::new(attrs, body)
    };
    let result = ctx.storage.put_object(bucket, key, put).await;
    let version = super::versions::write_version_header(write.stamp.as_ref()).map(str::to_string);
    versioned.finish_write(write, result.is_ok()).await?;
    let meta = result?;
    let mut w = XmlWriter::new();
    w.open_ns("CopyObjectResult");
    w.elem("LastModified", &xml_time(meta.last_modified));
    w.elem("ETag", &meta.quoted_etag());
    w.close("CopyObjectResult");
    let mut resp = xml_response(w.finish());
    let headers = resp.headers_mut();
    for (name, value) in [
        ("x-amz-copy-source-version-id", source_version),
        ("x-amz-version-id", version),
    ] {
        if let Some(v) = value.and_then(|v| http::HeaderValue::from_str(&v).ok()) {
            headers.insert(name, v);
        }
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_forms() {
        assert_eq!(
            copy_source("bkt/a%20b/c", 1024).unwrap(),
            ("bkt".into(), "a b/c".into(), None)
        );
        assert_eq!(
            copy_source("/bkt/k?versionId=null", 1024).unwrap(),
            ("bkt".into(), "k".into(), Some("null".into()))
        );
        assert_eq!(
            copy_source("bkt", 1024).unwrap_err().code,
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            copy_source("bkt/", 1024).unwrap_err().code,
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            copy_source("B_K/k", 1024).unwrap_err().code,
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            copy_source("bkt/k?versionId=", 1024).unwrap_err().code,
            S3ErrorCode::InvalidArgument
        );
    }
}
