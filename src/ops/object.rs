//! Object operations: PutObject, GetObject, HeadObject, DeleteObject, with the headers S3
//! stores and returns, conditional requests, ranges and response overrides.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_ENCODING, CONTENT_LANGUAGE,
    CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, EXPIRES, LAST_MODIFIED,
};
use http::{Response, StatusCode, response::Builder};

use super::attrs::attrs_from_headers;
pub use super::conditions::{etag_matches, precondition_failed};
use super::{Ctx, http_time};
use crate::body::{self, ByteStream, ResponseBody};
use crate::checksum::TrailingAttrs;
use crate::checksum::{self, ChecksumAlgorithm};
use crate::error::{S3Error, S3ErrorCode};
use crate::request::S3Request;
use crate::storage::{ByteRange, ObjectAttrs, ObjectMeta, PutRequest};

/// What S3 answers for an object stored without a Content-Type.
pub const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// The declared body length, enforcing S3's rules: a length is required (`aws-chunked`
/// bodies declare theirs in `x-amz-decoded-content-length`), plain chunked transfer is
/// not implemented by S3, and 5 GiB is the most one PUT may carry.
pub fn declared_length(ctx: &Ctx<'_>, max: u64) -> Result<u64, S3Error> {
    let req = ctx.req;
    // The decoded length counts only for aws-chunked bodies (whose decoder enforces it);
    // for any other body the Content-Length hyper enforces is the size.
    let decoded = match ctx.auth.payload {
        crate::auth::PayloadCheck::Streaming(..) => {
            req.header(crate::header_names::X_AMZ_DECODED_CONTENT_LENGTH)
        }
        _ => None,
    };
    let len = match decoded.or_else(|| req.header(http::header::CONTENT_LENGTH)) {
        Some(v) => v.parse::<u64>().map_err(|_| {
            S3Error::invalid_argument("", "Content-Length", v).reason("not a non-negative integer")
        })?,
        None if req
            .header("transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) =>
        {
            return Err(S3Error::new(S3ErrorCode::NotImplemented)
                .extra("Header", "Transfer-Encoding")
                .reason("S3 does not accept Transfer-Encoding: chunked uploads; send Content-Length (or aws-chunked with x-amz-decoded-content-length)"));
        }
        None => return Err(S3Error::new(S3ErrorCode::MissingContentLength)),
    };
    if len > max {
        return Err(S3Error::new(S3ErrorCode::EntityTooLarge)
            .extra("ProposedSize", len.to_string())
            .extra("MaxSizeAllowed", max.to_string()));
    }
    Ok(len)
}

/// `Content-MD5`: base64 of 16 bytes, else `InvalidDigest`.
pub fn content_md5(req: &S3Request) -> Result<Option<[u8; 16]>, S3Error> {
    let Some(v) = req.header("content-md5") else {
        return Ok(None);
    };
    BASE64
        .decode(v.trim())
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
        .map(Some)
        .ok_or_else(|| {
            S3Error::new(S3ErrorCode::InvalidDigest)
                .extra("Content-MD5", v)
                .reason("Content-MD5 must be the base64 of the body's 16-byte MD5")
        })
}

/// The single `x-amz-checksum-*` header of a request, validated.
pub fn declared_checksum(req: &S3Request) -> Result<Option<(ChecksumAlgorithm, String)>, S3Error> {
    if !req.has_header_prefix("x-amz-checksum-") {
        return Ok(None);
    }
    let mut found = checksum::ALL
        .into_iter()
        .filter_map(|a| req.header(a.header()).map(|v| (a, v.trim().to_string())));
    let first = found.next();
    if found.next().is_some() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        ));
    }
    if let Some((alg, value)) = &first {
        alg.check_value(value)?;
        if let Some(sdk) = req.header(crate::header_names::X_AMZ_SDK_CHECKSUM_ALGORITHM)
            && ChecksumAlgorithm::from_name(sdk) != Some(*alg)
        {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Value for x-amz-sdk-checksum-algorithm header is invalid.".to_string(),
            )
            .reason(format!(
                "x-amz-sdk-checksum-algorithm is {sdk} but the checksum header is {}",
                alg.header()
            )));
        }
    }
    Ok(first)
}

/// Reads an XML request document that S3 requires an integrity check for (DeleteObjects,
/// PutBucketCors, PutBucketTagging): `Content-MD5` or an `x-amz-checksum-*` header must
/// be present and match, else nothing is done. The message is S3's since it took
/// checksums in place of Content-MD5 (raw replies to PutBucketTagging and
/// PutObjectLockConfiguration, 2025: versitygw#1521, #1301; docs/aws-evidence.md).
pub async fn read_checked_document<'a>(
    ctx: &'a Ctx<'_>,
    body: ByteStream,
    operation: &str,
) -> Result<(bytes::Bytes, tokio::sync::SemaphorePermit<'a>), S3Error> {
    if content_md5(ctx.req)?.is_none() && declared_checksum(ctx.req)?.is_none() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Missing required header for this request: Content-MD5 OR x-amz-checksum-*",
        )
        .reason(format!(
            "{operation} requires Content-MD5 or an x-amz-checksum-* header"
        )));
    }
    read_verified_document(ctx, body).await
}

/// Reads an XML request document and checks it against its `Content-MD5` and
/// `x-amz-checksum-*` headers when they are sent (BadDigest, or the checksum's own
/// mismatch error, otherwise).
pub async fn read_verified_document<'a>(
    ctx: &'a Ctx<'_>,
    body: ByteStream,
) -> Result<(bytes::Bytes, tokio::sync::SemaphorePermit<'a>), S3Error> {
    let md5 = content_md5(ctx.req)?;
    let checksum = declared_checksum(ctx.req)?;
    let (bytes, permit) = super::read_xml_document(ctx, body).await?;
    if let Some(expected) = md5 {
        use md5::Digest;
        let got: [u8; 16] = md5::Md5::digest(&bytes).into();
        if got != expected {
            return Err(S3Error::new(S3ErrorCode::BadDigest)
                .reason("Content-MD5 does not match the XML body"));
        }
    }
    if let Some((alg, declared)) = checksum {
        let mut h = alg.hasher();
        h.update(&bytes);
        let computed = h.finish();
        if computed != declared {
            return Err(alg.mismatch(&declared, &computed));
        }
    }
    Ok((bytes, permit))
}

/// Holds a PUT or UploadPart body to its integrity promises and returns it with what
/// its end will add to the stored properties:
/// - an `x-amz-checksum-*` header is verified as the bytes pass (and stored);
/// - a checksum trailer is verified by the aws-chunked decoder (and stored);
/// - a checksum in the query string (presigned URLs from the JS SDK v3 carry the CRC32
///   of an empty body there) is *not* verified, as AWS does not, unless
///   `--strict-query-checksums` asks for what R2, Garage and SeaweedFS do;
/// - `required` (a multipart upload's algorithm) is computed when the client sent none.
pub fn checked_put_body(
    ctx: &Ctx<'_>,
    body: ByteStream,
    attrs: &mut ObjectAttrs,
    required: Option<ChecksumAlgorithm>,
) -> Result<(ByteStream, Option<TrailingAttrs>), S3Error> {
    let trailing = ctx.auth.trailing_attrs();
    let trailer_alg = ctx.auth.trailer_checksum();
    let declared = match declared_checksum(ctx.req)? {
        Some(d) => Some(d),
        None => query_checksum(ctx)?,
    };
    let sent = declared.as_ref().map(|(a, _)| *a).or(trailer_alg);
    let mut body = body;
    if let Some((alg, value)) = declared {
        attrs.extra.insert(alg.header().to_string(), value.clone());
        body = checksum::checked_body(body, alg, value);
    }
    match (required, sent, trailing) {
        (Some(alg), None, _) => {
            let record = TrailingAttrs::default();
            body = checksum::recorded_body(body, alg, record.clone());
            Ok((body, Some(record)))
        }
        (_, _, trailing) => Ok((body, trailing)),
    }
}

/// The checksum algorithm a request carries, by the name of its header, its trailer or
/// its presigned query parameter (the value of the last is not verified by default, but
/// its type is what S3 compares with the upload's: botocore#3216 is a presigned part).
pub fn sent_checksum_algorithm(ctx: &Ctx<'_>) -> Result<Option<ChecksumAlgorithm>, S3Error> {
    if let Some((alg, _)) = declared_checksum(ctx.req)? {
        return Ok(Some(alg));
    }
    if let Some(alg) = ctx.auth.trailer_checksum() {
        return Ok(Some(alg));
    }
    Ok(checksum::ALL
        .into_iter()
        .find(|a| ctx.req.has_query(a.header())))
}

/// `x-amz-checksum-*` in the query string of a presigned PUT. The JS SDK v3 (since
/// 3.729.0) signs the CRC32 of an *empty* body there. Users observed AWS storing bodies
/// that do not match such a query checksum, with "Additional checksums: Off"
/// (aws-sdk-go-v2#2610, aws-sdk-js-v3#4448, aws/aws-sdk#480), so by default it is not
/// verified. SeaweedFS, R2 and Garage verify it (seaweedfs#10216 claims S3 does too, but
/// without a capture); strict mode does what they do.
fn query_checksum(ctx: &Ctx<'_>) -> Result<Option<(ChecksumAlgorithm, String)>, S3Error> {
    let found = checksum::ALL
        .into_iter()
        .find_map(|a| ctx.req.query_param(a.header()).map(|v| (a, v.to_string())));
    let Some((alg, value)) = found else {
        return Ok(None);
    };
    if ctx.config.strict_query_checksums {
        alg.check_value(&value)?;
        return Ok(Some((alg, value)));
    }
    tracing::info!(
        target: "strict_s3::request",
        "{} {}={} in the query is not verified (AWS S3 accepts the upload; R2, Garage and SeaweedFS would answer BadDigest; --strict-query-checksums verifies it)",
        ctx.req.request_id,
        alg.header(),
        crate::escape::for_log(&value),
    );
    Ok(None)
}

pub async fn put_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    let limits = &ctx.config.limits;
    declared_length(ctx, limits.max_object_size)?;
    let mut attrs = attrs_from_headers(ctx.req, limits.max_user_metadata_bytes)?;
    attrs.acl = super::acl::for_write(ctx, bucket)?;
    let content_md5 = content_md5(ctx.req)?;
    let check = super::conditions::write_condition(ctx, bucket, key).await?;
    let (body, trailing) = checked_put_body(ctx, body, &mut attrs, None)?;
    let versioned = super::versions::versioned(ctx, bucket);
    let write = versioned.begin_write(key).await?;
    attrs.version = write.stamp.clone();
    let req = PutRequest {
        attrs,
        body,
        content_md5,
        check,
        trailing,
        restore: None,
    };
    let result = ctx.storage.put_object(bucket, key, req).await;
    let mut resp = object_response().status(StatusCode::OK);
    if let Some(id) = super::versions::write_version_header(write.stamp.as_ref()) {
        resp = resp.header(crate::header_names::X_AMZ_VERSION_ID, id);
    }
    versioned.finish_write(write, result.is_ok()).await?;
    let meta = result?;
    integrity_headers(resp.header(ETAG, meta.quoted_etag()), &meta.attrs)
        .body(body::empty())
        .map_err(S3Error::internal)
}

/// A response builder with room for an object's headers and the four every response
/// gets afterwards (request ids, server, date): a `HeaderMap` that fills up is
/// reallocated and rehashed, which perf showed on every GET and PUT.
fn object_response() -> Builder {
    let mut resp = Response::builder();
    if let Some(headers) = resp.headers_mut() {
        headers.reserve(12);
    }
    resp
}

/// The checksum and encryption headers a write echoes back.
pub fn integrity_headers(mut resp: Builder, attrs: &ObjectAttrs) -> Builder {
    for (name, value) in &attrs.extra {
        if name.starts_with("x-amz-checksum-") || name == "x-amz-server-side-encryption" {
            resp = resp.header(name.as_str(), value.as_str());
        }
    }
    resp
}

/// If-Match / If-Unmodified-Since → 412; If-None-Match / If-Modified-Since → 304, in
/// RFC 9110's order (an If-Match that holds overrides If-Unmodified-Since, and so on),
/// which is the order S3 documents for GetObject.
pub(crate) fn check_read_conditions(
    req: &S3Request,
    meta: &ObjectMeta,
) -> Result<Option<Response<ResponseBody>>, S3Error> {
    let modified = meta.last_modified.unix_timestamp();
    let date = |name: &str| {
        req.header(name)
            .and_then(crate::dates::parse_http_date)
            .map(|t| t.unix_timestamp())
    };
    match req.header(http::header::IF_MATCH) {
        Some(list) if !etag_matches(list, &meta.etag) => {
            return Err(precondition_failed("If-Match")
                .reason(format!("If-Match {list} but the ETag is \"{}\"", meta.etag)));
        }
        Some(_) => {}
        None => {
            if let Some(since) = date("if-unmodified-since")
                && modified > since
            {
                return Err(precondition_failed("If-Unmodified-Since")
                    .reason("the object was modified after If-Unmodified-Since"));
            }
        }
    }
    let not_modified = match req.header(http::header::IF_NONE_MATCH) {
        Some(list) => etag_matches(list, &meta.etag),
        None => date("if-modified-since").is_some_and(|since| modified <= since),
    };
    if not_modified {
        let resp = Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(ETAG, meta.quoted_etag())
            .header(LAST_MODIFIED, http_time(meta.last_modified))
            .body(body::empty())
            .map_err(S3Error::internal)?;
        return Ok(Some(resp));
    }
    Ok(None)
}

/// `response-*` overrides become response headers: a value that cannot be one (a control
/// character) is refused up front instead of failing the response. The message is ours:
/// no AWS capture of this case exists.
fn check_overrides(req: &S3Request) -> Result<(), S3Error> {
    for (name, value) in req.query.iter().filter(|(k, _)| k.starts_with("response-")) {
        if http::HeaderValue::from_str(value).is_err() {
            return Err(S3Error::invalid_argument(
                format!("The value of {name} is not a valid HTTP header value."),
                name,
                value.as_str(),
            ));
        }
    }
    Ok(())
}

/// The response headers of an object, with presigned-GET overrides (`response-*`), which
/// HeadObject accepts too (they are in its API model).
/// A ranged response carries no checksum: the stored one covers the whole object, and
/// clients that validate would reject the part (S3 omits it too).
fn object_headers(mut resp: Builder, req: &S3Request, meta: &ObjectMeta, ranged: bool) -> Builder {
    let a = &meta.attrs;
    let over = |param: &str| req.query_param(param);
    let pairs = [
        (
            CONTENT_TYPE,
            over("response-content-type")
                .or(a.content_type.as_deref())
                .or(Some(DEFAULT_CONTENT_TYPE)),
        ),
        (
            CONTENT_ENCODING,
            over("response-content-encoding").or(a.content_encoding.as_deref()),
        ),
        (
            CONTENT_DISPOSITION,
            over("response-content-disposition").or(a.content_disposition.as_deref()),
        ),
        (
            CACHE_CONTROL,
            over("response-cache-control").or(a.cache_control.as_deref()),
        ),
        (
            CONTENT_LANGUAGE,
            over("response-content-language").or(a.content_language.as_deref()),
        ),
        (EXPIRES, over("response-expires").or(a.expires.as_deref())),
    ];
    for (name, value) in pairs {
        if let Some(v) = value {
            resp = append(resp, name, v);
        }
    }
    for (k, v) in &a.user_metadata {
        resp = resp.header(
            format!("x-amz-meta-{k}"),
            super::attrs::metadata_header_value(v).as_ref(),
        );
    }
    let checksum_mode = !ranged
        && req
            .header(crate::header_names::X_AMZ_CHECKSUM_MODE)
            .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"));
    for (k, v) in &a.extra {
        if (!k.starts_with("x-amz-checksum-") || checksum_mode)
            && k != crate::storage::LEGACY_CANNED_ACL
        {
            resp = resp.header(k.as_str(), v.as_str());
        }
    }
    resp = append(resp, ETAG, &meta.quoted_etag());
    if let Some(h) = resp.headers_mut() {
        h.append(
            LAST_MODIFIED,
            crate::dates::http_date_value(meta.last_modified),
        );
        h.append(ACCEPT_RANGES, http::HeaderValue::from_static("bytes"));
    }
    resp
}

/// `resp.header(name, value)` without moving the builder through a closure per header
/// (callgrind: a fifth of the cost of a GET's headers); a value that is no header value
/// still fails the builder, as `header` does.
fn append(mut resp: Builder, name: http::HeaderName, value: &str) -> Builder {
    if let (Ok(v), Some(h)) = (http::HeaderValue::from_str(value), resp.headers_mut()) {
        h.append(name, v);
        return resp;
    }
    resp.header(name, value)
}

pub async fn get_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    head: bool,
) -> Result<Response<ResponseBody>, S3Error> {
    let (bucket, key) = (bucket, key);
    check_overrides(ctx.req)?;
    let version = ctx.req.query_param("versionId");
    let object = match super::versions::open(ctx, bucket, key, version, |stamp| {
        super::versions::read_of_marker(ctx, stamp)
    })
    .await
    {
        Ok(o) => o,
        Err(e) if e.code == S3ErrorCode::NoSuchKey => {
            return Err(normalization_hint(ctx, bucket, key, e).await);
        }
        Err(e) => return Err(e),
    };
    if let Some(not_modified) = check_read_conditions(ctx.req, &object.meta)? {
        return Ok(not_modified);
    }
    let size = object.meta.size;
    let range = match (
        ctx.req.query_param("partNumber"),
        ctx.req.header(http::header::RANGE),
    ) {
        (Some(_), Some(_)) => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Cannot specify both Range header and partNumber query parameter",
            ));
        }
        (Some(n), None) => Some(part_range(&object.meta, n)?),
        (None, Some(r)) => ByteRange::parse(r).map(|r| r.resolve(size)).transpose()?,
        (None, None) => None,
    };
    let mut resp = object_headers(object_response(), ctx.req, &object.meta, range.is_some());
    if let Some(id) = super::versions::read_version_header(ctx, bucket, &object.meta) {
        resp = resp.header(crate::header_names::X_AMZ_VERSION_ID, id);
    }
    // "The number of tags, if any, on the object, when you have the relevant permission
    // to read object tags" (GetObject's API reference): absent without tags, and for a
    // caller that may not call GetObjectTagging.
    let tags = object.meta.attrs.tags.len();
    if tags > 0
        && ctx.access.allows(
            "s3:GetObjectTagging",
            &crate::access::object_arn(bucket, key),
        )
    {
        resp = resp.header(crate::header_names::X_AMZ_TAGGING_COUNT, tags);
    }
    let len = match range {
        Some((a, b)) => {
            resp = resp
                .status(StatusCode::PARTIAL_CONTENT)
                .header(CONTENT_RANGE, format!("bytes {a}-{b}/{size}"));
            b - a + 1
        }
        None => {
            resp = resp.status(StatusCode::OK);
            size
        }
    };
    resp = resp.header(CONTENT_LENGTH, len);
    if ctx.req.has_query("partNumber") && !object.meta.parts.is_empty() {
        resp = resp.header(
            crate::header_names::X_AMZ_MP_PARTS_COUNT,
            object.meta.parts.len(),
        );
    }
    let body = if head {
        body::empty()
    } else {
        body::streaming(object.body.stream(range))
    };
    resp.body(body).map_err(S3Error::internal)
}

/// S3 compares keys byte for byte, so `café` typed on Linux (NFC) is not `café` uploaded
/// from a Mac (NFD) and the presigned GET gets 404 (aws/aws-sdk-js#2373). When the other
/// normalization form of the key exists, the reason says so; the answer stays S3's 404.
async fn normalization_hint(ctx: &Ctx<'_>, bucket: &str, key: &str, err: S3Error) -> S3Error {
    use unicode_normalization::UnicodeNormalization;
    if key.is_ascii() {
        return err;
    }
    let forms = [
        ("NFC", key.nfc().collect::<String>()),
        ("NFD", key.nfd().collect()),
    ];
    for (form, other) in forms {
        if other != key && ctx.storage.head_object(bucket, &other).await.is_ok() {
            let mine = if form == "NFC" { "NFD" } else { "NFC" };
            return err.reason(format!(
                "no object has this key, but one whose key differs only in Unicode normalization does: the stored key is in {form} ({}), the request asks for {mine} ({}). S3 compares keys byte for byte: normalize the key the same way when uploading and when signing",
                crate::auth::sigv4::uri_encode_path(&other),
                crate::auth::sigv4::uri_encode_path(key),
            ));
        }
    }
    err
}

/// The byte span of part `n` of a multipart object; an object that was not uploaded in
/// parts has exactly one part, itself.
fn part_range(meta: &ObjectMeta, raw: &str) -> Result<(u64, u64), S3Error> {
    let n = crate::storage::multipart::parse_part_number(raw)? as usize;
    let sizes: &[u64] = if meta.parts.is_empty() {
        std::slice::from_ref(&meta.size)
    } else {
        &meta.parts
    };
    if n > sizes.len() || sizes[n - 1] == 0 {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidPartNumber,
            "The requested partnumber is not satisfiable",
        )
        .extra("PartNumberRequested", raw)
        .extra("ActualPartCount", sizes.len().to_string()));
    }
    let start: u64 = sizes[..n - 1].iter().sum();
    Ok((start, start + sizes[n - 1] - 1))
}

pub async fn delete_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    let deleted = super::versions::versioned(ctx, bucket)
        .delete(key, ctx.req.query_param("versionId"))
        .await?;
    let mut resp = Response::builder().status(StatusCode::NO_CONTENT);
    if deleted.delete_marker {
        resp = resp.header("x-amz-delete-marker", "true");
    }
    if let Some(id) = &deleted.version_id {
        resp = resp.header(crate::header_names::X_AMZ_VERSION_ID, id.as_str());
    }
    resp.body(body::empty()).map_err(S3Error::internal)
}
