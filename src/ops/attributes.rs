//! GetObjectAttributes (`GET /key?attributes`): the attributes `x-amz-object-attributes`
//! names (ETag, Checksum, ObjectParts, StorageClass, ObjectSize), from what the store
//! already keeps for single and multipart objects, without reading the body.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html>
//!
//! As real S3 answers (docs/aws-evidence.md, "GetObjectAttributes"): the ETag unquoted,
//! Last-Modified as a header, a multipart object's composite checksum without its `-N`,
//! ObjectParts only for a multipart object and its `Part` list only when the upload had a
//! COMPOSITE checksum ("if an additional checksum … isn't applied to the object …, the
//! response doesn't return the Part element"); a bad `x-amz-max-parts` or
//! `x-amz-part-number-marker` is ignored, as S3 ignores it.

use http::header::LAST_MODIFIED;
use http::{Response, StatusCode};

use super::{Ctx, http_time};
use crate::body::{self, ResponseBody};
use crate::checksum::ChecksumAlgorithm;
use crate::error::{S3Error, S3ErrorCode};
use crate::storage::ObjectMeta;
use crate::xml::XmlWriter;

/// The attributes, in the order S3 writes them.
const NAMES: [&str; 5] = [
    "ETag",
    "Checksum",
    "ObjectParts",
    "StorageClass",
    "ObjectSize",
];

/// The most parts one answer lists, and the default.
const MAX_PARTS: usize = 1000;

/// Which of [`NAMES`] the header asks for. Empty items are skipped; a name S3 does not
/// have is refused only when no name is valid (what S3 answers, versitygw#1170).
fn requested(ctx: &Ctx<'_>) -> Result<[bool; 5], S3Error> {
    let raw = ctx
        .req
        .header_text("x-amz-object-attributes")
        .unwrap_or_default();
    let items: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty",
        )
        .reason(format!("name one or more of {}", NAMES.join(", "))));
    }
    let mut wanted = [false; 5];
    for item in &items {
        if let Some(i) = NAMES.iter().position(|n| n == item) {
            wanted[i] = true;
        }
    }
    if !wanted.contains(&true) {
        return Err(S3Error::invalid_argument(
            "Invalid attribute name specified.",
            "x-amz-object-attributes",
            items[0],
        )
        .reason(format!(
            "{:?} is none of {} (names are case-sensitive)",
            items[0],
            NAMES.join(", ")
        )));
    }
    Ok(wanted)
}

/// A header's number, or `default` when it is absent or not a number (S3 ignores it).
fn number(ctx: &Ctx<'_>, header: &str, default: usize) -> usize {
    ctx.req
        .header(header)
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(default)
}

/// The object's checksum: its algorithm, its value (a composite one without `-N`) and
/// its type (an object stored by one PUT is FULL_OBJECT).
fn checksum(meta: &ObjectMeta) -> Option<(ChecksumAlgorithm, &str, &str)> {
    let extra = &meta.attrs.extra;
    let (alg, value) = crate::checksum::ALL
        .into_iter()
        .find_map(|a| extra.get(a.header()).map(|v| (a, v.as_str())))?;
    let kind = extra
        .get("x-amz-checksum-type")
        .map_or("FULL_OBJECT", String::as_str);
    let value = match value.rsplit_once('-') {
        Some((v, n)) if kind == "COMPOSITE" && n.bytes().all(|b| b.is_ascii_digit()) => v,
        _ => value,
    };
    Some((alg, value, kind))
}

pub async fn get(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    let wanted = requested(ctx)?;
    let on = super::versions::OnMarker::NotFound;
    let (_, mut meta) = super::versions::head_located(ctx, bucket, key, on).await?;
    meta.key = key.to_string();
    let mut w = XmlWriter::new();
    w.open_ns("GetObjectAttributesResponse");
    if wanted[0] {
        w.elem("ETag", &meta.etag);
    }
    let sum = checksum(&meta);
    if wanted[1]
        && let Some((alg, value, kind)) = sum
    {
        w.open("Checksum");
        w.elem(&format!("Checksum{}", alg.name()), value);
        w.elem("ChecksumType", kind);
        w.close("Checksum");
    }
    if wanted[2] && !meta.parts.is_empty() {
        object_parts(ctx, &mut w, &meta, sum.map(|(alg, _, _)| alg));
    }
    if wanted[3] {
        let class = meta
            .attrs
            .extra
            .get("x-amz-storage-class")
            .map_or("STANDARD", String::as_str);
        w.elem("StorageClass", class);
    }
    if wanted[4] {
        w.elem("ObjectSize", &meta.size.to_string());
    }
    w.close("GetObjectAttributesResponse");
    let xml = w.finish();
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/xml")
        .header(http::header::CONTENT_LENGTH, xml.len())
        .header(LAST_MODIFIED, http_time(meta.last_modified))
        .body(body::full(xml))
        .map(|resp| super::versions::with_version(ctx, bucket, &meta, resp))
        .map_err(S3Error::internal)
}

/// `<ObjectParts>`: the count, and for a COMPOSITE object a page of its parts after
/// `x-amz-part-number-marker`, at most `x-amz-max-parts` (1,000 at most).
fn object_parts(
    ctx: &Ctx<'_>,
    w: &mut XmlWriter,
    meta: &ObjectMeta,
    alg: Option<ChecksumAlgorithm>,
) {
    w.open("ObjectParts");
    w.elem("PartsCount", &meta.parts.len().to_string());
    if let (Some(alg), false) = (alg, meta.part_checksums.is_empty()) {
        let max = number(ctx, "x-amz-max-parts", MAX_PARTS).min(MAX_PARTS);
        let marker = number(ctx, "x-amz-part-number-marker", 0);
        let page: Vec<(usize, (&u64, &String))> = meta
            .parts
            .iter()
            .zip(&meta.part_checksums)
            .enumerate()
            .map(|(i, p)| (i + 1, p))
            .filter(|(n, _)| *n > marker)
            .take(max)
            .collect();
        let last = page.last().map_or(marker, |(n, _)| *n);
        w.elem("PartNumberMarker", &marker.to_string());
        w.elem("NextPartNumberMarker", &last.to_string());
        w.elem("MaxParts", &max.to_string());
        w.elem(
            "IsTruncated",
            if last < meta.parts.len() {
                "true"
            } else {
                "false"
            },
        );
        for (n, (size, sum)) in page {
            w.open("Part");
            w.elem(&format!("Checksum{}", alg.name()), sum);
            w.elem("PartNumber", &n.to_string());
            w.elem("Size", &size.to_string());
            w.close("Part");
        }
    }
    w.close("ObjectParts");
}
