//! ListObjectVersions (`GET /bucket?versions`): every version of every key under the
//! prefix, keys in order and each key's versions newest first, delete markers among
//! them, paged by `key-marker` / `version-id-marker` (docs/versioning-evidence.md §8).
//! A bucket never versioned lists its objects as `null` versions.
//!
//! The page is built from the bucket's objects and its history under the prefix, read
//! whole: fine for the buckets of a test suite, linear in the prefix's versions.

use http::Response;

use super::list::{UrlEncoding, url_encoding};
use super::{Ctx, xml_response, xml_time};
use crate::body::ResponseBody;
use crate::error::S3Error;
use crate::storage::ObjectMeta;
use crate::versioning::history::{key_of, list_all, stamp_of};
use crate::versioning::{History, is_well_formed};
use crate::xml::XmlWriter;

const MAX_KEYS: usize = 1000;

struct Params<'a> {
    prefix: &'a str,
    delimiter: Option<&'a str>,
    key_marker: &'a str,
    version_marker: Option<&'a str>,
    max: usize,
    enc: UrlEncoding,
}

/// Checked in S3's order: max-keys, the version marker's key marker, its value, the
/// encoding.
fn params<'a>(ctx: &'a Ctx<'_>) -> Result<Params<'a>, S3Error> {
    let req = ctx.req;
    let max = match req.query_param("max-keys").filter(|v| !v.is_empty()) {
        None => MAX_KEYS,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if n < 0 => {
                return Err(S3Error::with_message(
                    crate::error::S3ErrorCode::InvalidArgument,
                    "max-keys cannot be negative",
                )
                .extra("ArgumentName", "max-keys"));
            }
            Ok(n) if n <= i64::from(i32::MAX) => (n as usize).min(MAX_KEYS),
            _ => {
                return Err(S3Error::invalid_argument(
                    "Provided max-keys not an integer or within integer range",
                    "max-keys",
                    raw,
                ));
            }
        },
    };
    let key_marker = req.query_param("key-marker").unwrap_or("");
    for (name, value) in [
        ("prefix", req.query_param("prefix")),
        ("key-marker", Some(key_marker)),
    ] {
        if let Some(v) = value.filter(|v| v.contains('\0')) {
            return Err(S3Error::invalid_argument(
                "Value must be a sequence of Unicode characters and cannot include Null.",
                name,
                v,
            ));
        }
    }
    let version_marker = req.query_param("version-id-marker");
    if let Some(v) = version_marker {
        if key_marker.is_empty() {
            return Err(S3Error::invalid_argument(
                "A version-id marker cannot be specified without a key marker.",
                "version-id-marker",
                v,
            ));
        }
        if v.is_empty() {
            return Err(S3Error::invalid_argument(
                "A version-id marker cannot be empty.",
                "version-id-marker",
                v,
            ));
        }
        if !is_well_formed(v) {
            return Err(S3Error::invalid_argument(
                "Invalid version id specified",
                "version-id-marker",
                v,
            ));
        }
    }
    Ok(Params {
        prefix: req.query_param("prefix").unwrap_or(""),
        delimiter: req.query_param("delimiter").filter(|d| !d.is_empty()),
        key_marker,
        version_marker,
        max,
        enc: url_encoding(req)?,
    })
}

/// One line of the listing.
enum Row {
    Version {
        meta: Box<ObjectMeta>,
        key: String,
        latest: bool,
    },
    Prefix(String),
}

impl Row {
    fn key(&self) -> &str {
        match self {
            Row::Version { key, .. } | Row::Prefix(key) => key,
        }
    }
}

/// Every version under the prefix, in listing order.
async fn versions(
    ctx: &Ctx<'_>,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<(String, ObjectMeta, bool)>, S3Error> {
    let current = list_all(ctx.storage, bucket, prefix).await?;
    let history = if super::versions::status(ctx, bucket).is_some() {
        History::new(ctx.storage, bucket)
            .entries_under(prefix)
            .await?
    } else {
        Vec::new()
    };
    // Merge: both are in key order; a key's current version comes first, then its
    // history (newest first), without a copy of the current one.
    let mut by_key: std::collections::BTreeMap<Vec<u8>, (Option<ObjectMeta>, Vec<ObjectMeta>)> =
        Default::default();
    for c in current {
        let key = c.key.as_bytes().to_vec();
        by_key.entry(key).or_default().0 = Some(c);
    }
    for h in history {
        let key = key_of(&h.key).as_bytes().to_vec();
        by_key.entry(key).or_default().1.push(h);
    }
    let mut out = Vec::new();
    for (key, (cur, hist)) in by_key {
        let key = String::from_utf8_lossy(&key).into_owned();
        let current_id = cur.as_ref().map(|c| stamp_of(c).id);
        let mut first = true;
        for m in cur.into_iter().chain(
            hist.into_iter()
                .filter(|h| Some(&stamp_of(h).id) != current_id.as_ref()),
        ) {
            out.push((key.clone(), m, first));
            first = false;
        }
    }
    Ok(out)
}

pub async fn list(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    let p = params(ctx)?;
    let bucket_owner = super::acl::rules(ctx, bucket)?.owner().to_string();
    let all = versions(ctx, bucket, p.prefix).await?;
    // Skip to the markers: past key-marker, or within it past the version marker.
    let mut past_version = false;
    let mut rows: Vec<Row> = Vec::new();
    let mut truncated = false;
    for (key, meta, latest) in all {
        if !p.key_marker.is_empty() {
            let skip = match p.version_marker {
                None => key.as_str() <= p.key_marker,
                Some(_) if key.as_str() < p.key_marker => true,
                Some(v) if key.as_str() == p.key_marker => {
                    if past_version {
                        false
                    } else {
                        past_version = stamp_of(&meta).id == v;
                        true
                    }
                }
                Some(_) => false,
            };
            if skip {
                continue;
            }
        }
        let row = match p.delimiter.and_then(|d| {
            key.get(p.prefix.len()..)?
                .find(d)
                .map(|i| key[..p.prefix.len() + i + d.len()].to_string())
        }) {
            Some(common) => {
                if rows
                    .last()
                    .is_some_and(|r| matches!(r, Row::Prefix(c) if *c == common))
                {
                    continue;
                }
                if !p.key_marker.is_empty() && common.as_str() <= p.key_marker {
                    continue;
                }
                Row::Prefix(common)
            }
            None => Row::Version {
                meta: Box::new(meta),
                key,
                latest,
            },
        };
        if rows.len() == p.max {
            // `max-keys=0` answers no entries and is not truncated (measured).
            truncated = p.max > 0;
            break;
        }
        rows.push(row);
    }
    let mut w = XmlWriter::new();
    w.open_ns("ListVersionsResult");
    w.elem("Name", bucket);
    w.elem("Prefix", &p.enc.apply(p.prefix));
    w.elem("KeyMarker", &p.enc.apply(p.key_marker));
    w.elem("VersionIdMarker", p.version_marker.unwrap_or(""));
    if truncated && let Some(last) = rows.last() {
        w.elem("NextKeyMarker", &p.enc.apply(last.key()));
        if let Row::Version { meta, .. } = last {
            w.elem("NextVersionIdMarker", &stamp_of(meta).id);
        }
    }
    w.elem("MaxKeys", &p.max.to_string());
    if let Some(d) = p.delimiter {
        w.elem("Delimiter", &p.enc.apply(d));
    }
    if p.enc.on {
        w.elem("EncodingType", "url");
    }
    w.elem("IsTruncated", if truncated { "true" } else { "false" });
    for row in &rows {
        if let Row::Version { meta, key, latest } = row {
            write_version(&mut w, meta, key, *latest, &p.enc, &bucket_owner);
        }
    }
    for row in &rows {
        if let Row::Prefix(common) = row {
            w.open("CommonPrefixes");
            w.elem("Prefix", &p.enc.apply(common));
            w.close("CommonPrefixes");
        }
    }
    w.close("ListVersionsResult");
    Ok(xml_response(w.finish()))
}

fn write_version(
    w: &mut XmlWriter,
    meta: &ObjectMeta,
    key: &str,
    latest: bool,
    enc: &UrlEncoding,
    bucket_owner: &str,
) {
    let stamp = stamp_of(meta);
    let element = if stamp.delete_marker {
        "DeleteMarker"
    } else {
        "Version"
    };
    w.open(element);
    w.elem("Key", &enc.apply(key));
    w.elem("VersionId", &stamp.id);
    w.elem("IsLatest", if latest { "true" } else { "false" });
    w.elem("LastModified", &xml_time(meta.last_modified));
    if !stamp.delete_marker {
        w.elem("ETag", &meta.quoted_etag());
        if let Some(alg) = crate::checksum::ALL
            .into_iter()
            .find(|a| meta.attrs.extra.contains_key(a.header()))
        {
            w.elem("ChecksumAlgorithm", alg.name());
            w.elem(
                "ChecksumType",
                meta.attrs
                    .extra
                    .get("x-amz-checksum-type")
                    .map_or("FULL_OBJECT", String::as_str),
            );
        }
        w.elem("Size", &meta.size.to_string());
    }
    super::bucket::owner(w, "Owner", &super::acl::owner_of(&meta.attrs, bucket_owner));
    if !stamp.delete_marker {
        w.elem(
            "StorageClass",
            meta.attrs
                .extra
                .get("x-amz-storage-class")
                .map_or("STANDARD", String::as_str),
        );
    }
    w.close(element);
}
