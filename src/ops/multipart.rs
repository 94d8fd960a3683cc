//! Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
//! CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html>
//!
//! Validation of a completion (order, ETags, sizes, checksums) lives in one place,
//! `storage::multipart::plan`, which both stores call under their commit lock.

use http::header::ETAG;
use http::{Response, StatusCode};

use super::attrs::attrs_from_headers;
use super::copy::{check_source_conditions, copy_source};
use super::object::{
    checked_put_body, content_md5, declared_length, integrity_headers, sent_checksum_algorithm,
};
use super::{Ctx, empty_response, xml_response, xml_time};
use crate::body::{self, ByteStream, ResponseBody};
use crate::checksum::{self, ChecksumAlgorithm};
use crate::error::{S3Error, S3ErrorCode};
use crate::storage::multipart::{self, ChecksumType, parse_part_number};
use crate::storage::{ByteRange, CompletePart, Part, PutRequest, Upload, UploadChecksum};
use crate::xml::{XmlWriter, malformed, parse_tree_limited};

fn upload_id<'a>(ctx: &'a Ctx<'_>) -> &'a str {
    ctx.req.query_param("uploadId").unwrap_or_default()
}

/// `x-amz-checksum-algorithm` and `x-amz-checksum-type` of CreateMultipartUpload.
/// CRC64NVME supports only full-object checksums, SHA only composite ones.
fn upload_checksum(ctx: &Ctx<'_>) -> Result<Option<UploadChecksum>, S3Error> {
    let Some(name) = ctx.req.header("x-amz-checksum-algorithm") else {
        if ctx.req.headers.contains_key("x-amz-checksum-type") {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
            ));
        }
        return Ok(None);
    };
    let algorithm = ChecksumAlgorithm::from_name(name).ok_or_else(|| {
        S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
        )
    })?;
    let crc = !matches!(
        algorithm,
        ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256
    );
    let kind = match ctx.req.header("x-amz-checksum-type") {
        None if algorithm == ChecksumAlgorithm::Crc64Nvme => ChecksumType::FullObject,
        None => ChecksumType::Composite,
        Some("COMPOSITE") if algorithm != ChecksumAlgorithm::Crc64Nvme => ChecksumType::Composite,
        Some("FULL_OBJECT") if crc => ChecksumType::FullObject,
        Some(other) => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                format!(
                    "The {} checksum type cannot be used with the {} checksum algorithm.",
                    other.to_ascii_lowercase(),
                    algorithm.name().to_ascii_lowercase()
                ),
            ));
        }
    };
    Ok(Some(UploadChecksum { algorithm, kind }))
}

fn checksum_headers(
    mut resp: http::response::Builder,
    c: Option<UploadChecksum>,
) -> http::response::Builder {
    if let Some(c) = c {
        resp = resp
            .header("x-amz-checksum-algorithm", c.algorithm.name())
            .header("x-amz-checksum-type", c.kind.as_str());
    }
    resp
}

pub async fn create(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    let mut attrs = attrs_from_headers(ctx.req, ctx.config.limits.max_user_metadata_bytes)?;
    attrs.acl = super::acl::for_write(ctx, bucket)?;
    let options = crate::storage::UploadOptions {
        checksum: upload_checksum(ctx)?,
        initiator: initiator(ctx),
        key_existed: super::conditions::key_exists(ctx, bucket, key).await?,
    };
    let upload = ctx
        .storage
        .create_upload(bucket, key, attrs, options)
        .await?;
    let mut w = XmlWriter::new();
    w.open_ns("InitiateMultipartUploadResult");
    w.elem("Bucket", bucket);
    w.elem("Key", key);
    w.elem("UploadId", &upload.upload_id);
    w.close("InitiateMultipartUploadResult");
    let mut resp = checksum_headers(Response::builder(), upload.checksum);
    if let Some(sse) = upload.attrs.extra.get("x-amz-server-side-encryption") {
        resp = resp.header("x-amz-server-side-encryption", sse.as_str());
    }
    resp.header(http::header::CONTENT_TYPE, "application/xml")
        .body(body::full(w.finish()))
        .map_err(S3Error::internal)
}

/// The upload named by the query (validating the part number first, as S3 does).
async fn target_upload(ctx: &Ctx<'_>, bucket: &str, key: &str) -> Result<(u32, Upload), S3Error> {
    let number = parse_part_number(ctx.req.query_param("partNumber").unwrap_or_default())?;
    let (upload, _) = ctx.storage.upload(bucket, key, upload_id(ctx)).await?;
    Ok((number, upload))
}

pub async fn upload_part(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    let limits = &ctx.config.limits;
    declared_length(ctx, limits.max_object_size)?;
    let (number, upload) = target_upload(ctx, bucket, key).await?;
    multipart::check_part_checksum_type(upload.checksum, sent_checksum_algorithm(ctx)?)?;
    let content_md5 = content_md5(ctx.req)?;
    let mut attrs = Default::default();
    let required = upload.checksum.map(|c| c.algorithm);
    let (body, trailing) = checked_put_body(ctx, body, &mut attrs, required)?;
    let req = PutRequest {
        attrs,
        body,
        content_md5,
        check: None,
        trailing,
        restore: None,
    };
    let part = ctx
        .storage
        .put_part(bucket, key, upload_id(ctx), number, req)
        .await?;
    let mut resp = Response::builder()
        .status(StatusCode::OK)
        .header(ETAG, format!("\"{}\"", part.etag));
    if let (Some(c), Some(v)) = (upload.checksum, &part.checksum) {
        resp = resp.header(c.algorithm.header(), v.as_str());
    }
    resp.body(body::empty()).map_err(S3Error::internal)
}

/// `x-amz-copy-source-range: bytes=first-last`, both required, within the source.
pub(crate) fn copy_range(raw: &str, size: u64) -> Result<(u64, u64), S3Error> {
    let bad = || {
        S3Error::invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            raw,
        )
    };
    match ByteRange::parse(raw) {
        Some(ByteRange::FromTo(a, b)) if b < size => Ok((a, b)),
        // Real S3 bodies (fsspec/s3fs#321, versity/versitygw#610): 400, not 416.
        Some(ByteRange::FromTo(..)) => Err(S3Error::invalid_argument(
            format!("Range specified is not valid for source object of size: {size}"),
            "x-amz-copy-source-range",
            raw,
        )),
        _ => Err(bad()),
    }
}

pub async fn upload_part_copy(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    let limits = &ctx.config.limits;
    let raw = ctx
        .req
        .header(crate::header_names::X_AMZ_COPY_SOURCE)
        .unwrap_or_default();
    let (src_bucket, src_key, src_version) = copy_source(raw, limits.max_key_bytes)?;
    if let Some(v) = src_version.as_deref()
        && !crate::versioning::is_well_formed(v)
    {
        return Err(crate::versioning::changes::invalid_version_id(
            "x-amz-copy-source",
            v,
        ));
    }
    let (number, upload) = target_upload(ctx, bucket, key).await?;
    let source = super::versions::open(ctx, &src_bucket, &src_key, src_version.as_deref(), |_| {
        S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The source of a copy request may not specifically refer to a delete marker by version id.",
        )
    })
    .await?;
    check_source_conditions(ctx, &source.meta)?;
    let range = ctx
        .req
        .header("x-amz-copy-source-range")
        .map(|r| copy_range(r, source.meta.size))
        .transpose()?;
    let mut req = PutRequest::new(Default::default(), source.body.stream(range));
    if let Some(c) = upload.checksum {
        let record = crate::checksum::TrailingAttrs::default();
        req.body = checksum::recorded_body(req.body, c.algorithm, record.clone());
        req.trailing = Some(record);
    }
    let part = ctx
        .storage
        .put_part(bucket, key, upload_id(ctx), number, req)
        .await?;
    let mut w = XmlWriter::new();
    w.open_ns("CopyPartResult");
    w.elem("LastModified", &xml_time(part.last_modified));
    w.elem("ETag", &format!("\"{}\"", part.etag));
    if let (Some(c), Some(v)) = (upload.checksum, &part.checksum) {
        w.elem(checksum_element(c.algorithm), v);
    }
    w.close("CopyPartResult");
    Ok(xml_response(w.finish()))
}

/// `ChecksumCRC32` and friends, as the XML documents name them.
fn checksum_element(alg: ChecksumAlgorithm) -> &'static str {
    match alg {
        ChecksumAlgorithm::Crc32 => "ChecksumCRC32",
        ChecksumAlgorithm::Crc32c => "ChecksumCRC32C",
        ChecksumAlgorithm::Crc64Nvme => "ChecksumCRC64NVME",
        ChecksumAlgorithm::Sha1 => "ChecksumSHA1",
        ChecksumAlgorithm::Sha256 => "ChecksumSHA256",
    }
}

/// Parses `<CompleteMultipartUpload><Part><PartNumber/><ETag/>[<ChecksumX/>]</Part>…`.
pub(crate) fn parse_complete(bytes: &[u8]) -> Result<Vec<CompletePart>, S3Error> {
    // The root, and per part <Part>, <PartNumber>, <ETag> and one checksum: S3's 10,000
    // parts and a few elements to spare.
    let doc = parse_tree_limited(bytes, 1 + 10_000 * 4 + 16)?;
    if doc.name != "CompleteMultipartUpload" {
        return Err(malformed(format!(
            "expected <CompleteMultipartUpload>, found <{}>",
            doc.name
        )));
    }
    doc.only(&["Part"])?;
    let checksum_names = crate::checksum::ALL.map(checksum_element);
    let mut allowed = vec!["PartNumber", "ETag"];
    allowed.extend(checksum_names);
    doc.all("Part")
        .map(|p| {
            p.only(&allowed)?;
            let number = p
                .one("PartNumber")?
                .ok_or_else(|| malformed("a <Part> has no <PartNumber>"))?
                .text
                .trim()
                .to_string();
            let number = parse_part_number(&number)?;
            let etag = p
                .one("ETag")?
                .ok_or_else(|| malformed("a <Part> has no <ETag>"))?
                .text
                .clone();
            let mut checksum = None;
            for alg in crate::checksum::ALL {
                if let Some(c) = p.one(checksum_element(alg))? {
                    checksum = Some((alg, c.text.trim().to_string()));
                }
            }
            Ok(CompletePart {
                number,
                etag,
                checksum,
            })
        })
        .collect()
}

pub async fn complete(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    let (bytes, slot) = super::read_xml_document(ctx, body).await?;
    let parts = parse_complete(&bytes)?;
    drop((bytes, slot));
    let id = upload_id(ctx);
    let check = super::conditions::completion_condition(ctx, bucket, key, id).await?;
    let completions = &ctx.completions;
    let versioned = super::versions::versioned(ctx, bucket);
    let write = versioned.begin_write(key).await?;
    let result = ctx
        .storage
        .complete_upload(bucket, key, id, &parts, check, write.stamp.clone())
        .await;
    let version = result
        .is_ok()
        .then(|| super::versions::write_version_header(write.stamp.as_ref()).map(str::to_string))
        .flatten();
    versioned.finish_write(write, result.is_ok()).await?;
    let meta = match result {
        Ok(meta) => {
            completions.remember(super::completions::Completed {
                bucket: bucket.to_string(),
                key: key.to_string(),
                upload_id: id.to_string(),
                parts,
                meta: meta.clone(),
            });
            meta
        }
        Err(e) if e.code == S3ErrorCode::NoSuchUpload => {
            match completions.replay(bucket, key, id, &parts) {
                Some(meta) => meta,
                None => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    let host = ctx.req.header(http::header::HOST).unwrap_or("localhost");
    let mut w = XmlWriter::new();
    w.open_ns("CompleteMultipartUploadResult");
    w.elem(
        "Location",
        &format!(
            "http://{host}/{bucket}/{}",
            crate::auth::sigv4::uri_encode_path(key)
        ),
    );
    w.elem("Bucket", bucket);
    w.elem("Key", key);
    w.elem("ETag", &meta.quoted_etag());
    for alg in crate::checksum::ALL {
        if let Some(v) = meta.attrs.extra.get(alg.header()) {
            w.elem(checksum_element(alg), v);
        }
    }
    if let Some(t) = meta.attrs.extra.get("x-amz-checksum-type") {
        w.elem("ChecksumType", t);
    }
    w.close("CompleteMultipartUploadResult");
    let mut resp = integrity_headers(Response::builder(), &meta.attrs);
    if let Some(id) = version.or_else(|| {
        // A replayed completion answers with the version it made.
        meta.attrs
            .version
            .as_ref()
            .map(|v| v.id.clone())
            .filter(|id| id != crate::versioning::NULL)
    }) {
        resp = resp.header(crate::header_names::X_AMZ_VERSION_ID, id);
    }
    resp.header(http::header::CONTENT_TYPE, "application/xml")
        .body(body::full(w.finish()))
        .map_err(S3Error::internal)
}

pub async fn abort(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    ctx.storage
        .abort_upload(bucket, key, upload_id(ctx))
        .await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

/// A non-negative integer query parameter with S3's default and 1000 cap.
pub(super) fn page_size(ctx: &Ctx<'_>, name: &str) -> Result<usize, S3Error> {
    match ctx.req.query_param(name) {
        None => Ok(1000),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=i64::from(i32::MAX)).contains(n))
            .map(|n| (n as usize).min(1000))
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    format!("Provided {name} not an integer or within integer range"),
                    name,
                    raw,
                )
            }),
    }
}

/// An IAM user who starts an upload is recorded as its initiator, by ARN and name.
fn initiator(ctx: &Ctx<'_>) -> Option<crate::storage::Initiator> {
    let who = ctx.auth.identity.as_deref()?;
    let name = who.username()?;
    Some(crate::storage::Initiator {
        id: who.arn(),
        display_name: name.to_string(),
    })
}

/// The upload's Initiator and Owner: the Owner is the account the completed object will
/// belong to; the Initiator is the same unless an IAM user started the upload, when it
/// is that user's ARN and name.
pub(super) fn owners(w: &mut XmlWriter, upload: &Upload, bucket_owner: &str) {
    let owner = super::acl::owner_of(&upload.attrs, bucket_owner);
    match &upload.initiator {
        Some(i) => {
            w.open("Initiator");
            w.elem("ID", &i.id);
            w.elem("DisplayName", &i.display_name);
            w.close("Initiator");
        }
        None => super::bucket::owner(w, "Initiator", &owner),
    }
    super::bucket::owner(w, "Owner", &owner);
}

pub async fn list_parts(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    let max = page_size(ctx, "max-parts")?;
    let marker = match ctx.req.query_param("part-number-marker") {
        None => 0,
        Some(raw) => raw.parse::<u32>().map_err(|_| {
            S3Error::invalid_argument(
                "Provided part-number-marker not an integer or within integer range",
                "part-number-marker",
                raw,
            )
        })?,
    };
    let (upload, parts) = ctx.storage.upload(bucket, key, upload_id(ctx)).await?;
    let after: Vec<&Part> = parts.iter().filter(|p| p.number > marker).collect();
    let page = &after[..after.len().min(max)];
    let truncated = after.len() > page.len();
    let mut w = XmlWriter::new();
    w.open_ns("ListPartsResult");
    w.elem("Bucket", bucket);
    w.elem("Key", key);
    w.elem("UploadId", &upload.upload_id);
    w.elem("PartNumberMarker", &marker.to_string());
    if let Some(last) = page.last() {
        w.elem("NextPartNumberMarker", &last.number.to_string());
    }
    w.elem("MaxParts", &max.to_string());
    w.elem("IsTruncated", if truncated { "true" } else { "false" });
    owners(&mut w, &upload, super::acl::rules(ctx, bucket)?.owner());
    w.elem(
        "StorageClass",
        upload
            .attrs
            .extra
            .get("x-amz-storage-class")
            .map_or("STANDARD", String::as_str),
    );
    if let Some(c) = upload.checksum {
        w.elem("ChecksumAlgorithm", c.algorithm.name());
        w.elem("ChecksumType", c.kind.as_str());
    }
    for p in page {
        w.open("Part");
        w.elem("PartNumber", &p.number.to_string());
        w.elem("LastModified", &xml_time(p.last_modified));
        w.elem("ETag", &format!("\"{}\"", p.etag));
        w.elem("Size", &p.size.to_string());
        if let (Some(c), Some(v)) = (upload.checksum, &p.checksum) {
            w.elem(checksum_element(c.algorithm), v);
        }
        w.close("Part");
    }
    w.close("ListPartsResult");
    Ok(xml_response(w.finish()))
}

#[cfg(test)]
mod tests;
