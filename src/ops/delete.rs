//! DeleteObjects (`POST /bucket?delete`): up to 1000 keys, quiet mode, per-key results.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>
//!
//! The body must carry an integrity check: `Content-MD5` or an `x-amz-checksum-*`
//! header (S3 refuses the request otherwise), verified before anything is deleted.

use http::Response;

use super::object::read_checked_document;
use super::{Ctx, xml_response};
use crate::addressing::check_key;
use crate::body::{ByteStream, ResponseBody};
use crate::error::{S3Error, S3ErrorCode};
use crate::xml::{XmlWriter, malformed, parse_tree_limited};

const MAX_OBJECTS: usize = 1000;

pub async fn delete_objects(
    ctx: &Ctx<'_>,
    bucket: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    ctx.storage.bucket(bucket).await?;
    let (bytes, _slot) = read_checked_document(ctx, body, "DeleteObjects").await?;
    let (keys, quiet) = parse_delete(&bytes)?;

    let versioned = super::versions::versioned(ctx, bucket);
    let mut w = XmlWriter::new();
    w.open_ns("DeleteResult");
    let mut seen = std::collections::HashSet::new();
    for (key, version) in &keys {
        // A key (and version) named twice is deleted and answered once, as S3 does.
        if !seen.insert((key, version)) {
            continue;
        }
        // Each key needs s3:DeleteObject (s3:DeleteObjectVersion with a version); a
        // denied one is its own AccessDenied entry with AWS's plain message
        // (andrewrk/node-s3-client#235). An id S3 could not have made is NoSuchVersion
        // here (measured), where DeleteObject answers InvalidArgument.
        let action = match version {
            Some(_) => "s3:DeleteObjectVersion",
            None => "s3:DeleteObject",
        };
        let result = match version.as_deref() {
            Some(v) if !crate::versioning::is_well_formed(v) => Err(S3Error::with_message(
                S3ErrorCode::NoSuchVersion,
                "The specified version does not exist.",
            )),
            _ => match check_key(key, ctx.config.limits.max_key_bytes) {
                Ok(()) => match ctx
                    .access
                    .check(action, &crate::access::object_arn(bucket, key))
                {
                    Ok(()) => versioned.delete(key, version.as_deref()).await,
                    Err(_) => Err(S3Error::new(S3ErrorCode::AccessDenied)),
                },
                Err(e) => Err(e),
            },
        };
        match result {
            Ok(_) if quiet => {}
            Ok(deleted) => {
                w.open("Deleted");
                w.elem("Key", key);
                if let Some(v) = version {
                    w.elem("VersionId", v);
                }
                if deleted.delete_marker {
                    w.elem("DeleteMarker", "true");
                    if let Some(id) = &deleted.version_id {
                        w.elem("DeleteMarkerVersionId", id);
                    }
                }
                w.close("Deleted");
            }
            Err(e) => {
                w.open("Error");
                w.elem("Key", key);
                if let Some(v) = version {
                    w.elem("VersionId", v);
                }
                w.elem("Code", e.code.as_str());
                w.elem("Message", &e.message);
                w.close("Error");
            }
        }
    }
    w.close("DeleteResult");
    Ok(xml_response(w.finish()))
}

/// The keys (with any version id) and quiet mode of a `Delete` document.
pub(crate) type DeleteRequest = (Vec<(String, Option<String>)>, bool);

/// Parses a DeleteObjects document: 1 to 1000 `<Object>`s with a non-empty `<Key>`.
pub(crate) fn parse_delete(bytes: &[u8]) -> Result<DeleteRequest, S3Error> {
    // <Delete>, <Quiet>, and per object <Object>, <Key>, <VersionId>, <ETag>,
    // <LastModifiedTime>, <Size>: past that, more than 1000 objects are named.
    let doc = parse_tree_limited(bytes, 2 + MAX_OBJECTS * 6)?;
    if doc.name != "Delete" {
        return Err(malformed(format!(
            "expected <Delete>, found <{}>",
            doc.name
        )));
    }
    doc.only(&["Object", "Quiet"])?;
    let quiet = match doc.one("Quiet")?.map(|q| q.text.trim()) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(malformed(format!(
                "<Quiet> must be true or false, not {other:?}"
            )));
        }
    };
    let mut keys = Vec::new();
    for o in doc.all("Object") {
        o.only(&["Key", "VersionId", "ETag", "LastModifiedTime", "Size"])?;
        let key = o
            .one("Key")?
            .map(|k| k.text.clone())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| malformed("an <Object> has no <Key>"))?;
        let version = o.one("VersionId")?.map(|v| v.text.trim().to_string());
        keys.push((key, version));
    }
    if keys.is_empty() || keys.len() > MAX_OBJECTS {
        return Err(malformed(format!(
            "<Delete> must name 1 to {MAX_OBJECTS} objects, not {}",
            keys.len()
        )));
    }
    Ok((keys, quiet))
}
