//! Versioning's operations: Put/GetBucketVersioning, and the `Versioned` view of a bucket
//! the object operations write, delete and read through (`crate::versioning`). The
//! listing of versions is `versions_list.rs`.

use http::{Response, StatusCode};

use super::{Ctx, empty_response, xml_response};
use crate::body::{ByteStream, ResponseBody};
use crate::error::{S3Error, S3ErrorCode};
use crate::versioning::{self, History, Status, Versioned};
use crate::xml::{XmlWriter, malformed, parse_tree_limited};

/// The bucket's versioning status, from its cached rules.
pub fn status(ctx: &Ctx<'_>, bucket: &str) -> Option<Status> {
    ctx.access.rules(bucket).and_then(|r| r.versioning)
}

/// The bucket's keys as versioning sees them.
pub fn versioned<'a>(ctx: &'a Ctx<'_>, bucket: &'a str) -> Versioned<'a> {
    Versioned {
        storage: ctx.storage,
        locks: ctx.key_locks,
        clock: ctx.clock,
        bucket,
        status: status(ctx, bucket),
    }
}

/// What the stored document says: the status, and `MfaDelete` once it was ever sent.
struct Configuration {
    status: Status,
    mfa_delete: Option<&'static str>,
}

impl Configuration {
    fn parse(doc: &[u8]) -> Option<Configuration> {
        let text = String::from_utf8_lossy(doc);
        let mut lines = text.lines();
        let status = Status::parse(lines.next()?)?;
        let mfa_delete = match lines.next() {
            Some("MfaDelete=Disabled") => Some("Disabled"),
            _ => None,
        };
        Some(Configuration { status, mfa_delete })
    }

    fn document(&self) -> String {
        match self.mfa_delete {
            Some(m) => format!("{}\nMfaDelete={m}", self.status.as_str()),
            None => self.status.as_str().to_string(),
        }
    }
}

/// PutBucketVersioning, as real S3 checks it (docs/versioning-evidence.md §1): Content-MD5
/// optional but checked; an empty body, an unknown status (`Disabled`: a versioned bucket
/// never goes back), an element S3's schema lacks are refused; `MfaDelete=Enabled` needs
/// the `x-amz-mfa` header, which strict-s3 cannot verify.
pub async fn put_bucket(
    ctx: &Ctx<'_>,
    bucket: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    let info = ctx.storage.bucket(bucket).await?;
    let (bytes, _slot) = super::object::read_verified_document(ctx, body).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(S3Error::new(S3ErrorCode::MissingRequestBodyError));
    }
    let doc = parse_tree_limited(&bytes, 16)?;
    if doc.name != "VersioningConfiguration" {
        // Measured: a document with another root is accepted and changes nothing.
        return Ok(empty_response(StatusCode::OK));
    }
    doc.only(&["Status", "MfaDelete"])?;
    let status_text = doc
        .one("Status")?
        .map(|e| e.text.clone())
        .unwrap_or_default();
    if status_text.is_empty() {
        return Err(
            S3Error::new(S3ErrorCode::IllegalVersioningConfigurationException)
                .reason("<Status> must be Enabled or Suspended"),
        );
    }
    let status = Status::parse(&status_text).ok_or_else(|| {
        malformed(format!(
            "<Status> is {status_text:?}; S3 takes Enabled or Suspended (a versioned bucket cannot return to unversioned)"
        ))
    })?;
    let mfa = doc
        .one("MfaDelete")?
        .map(|e| e.text.clone())
        .unwrap_or_default();
    let mfa_delete = match mfa.as_str() {
        "" => None,
        "Disabled" => Some("Disabled"),
        "Enabled" => {
            if ctx.req.headers.contains_key("x-amz-mfa") {
                return Err(super::attrs::not_implemented_header("x-amz-mfa")
                    .reason("strict-s3 has no MFA devices to check an MFA code against"));
            }
            return Err(S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "Mfa Authentication must be used for this request",
            )
            .reason("MfaDelete=Enabled needs the x-amz-mfa header (serial and code)"));
        }
        other => {
            return Err(malformed(format!(
                "<MfaDelete> is {other:?}; S3 takes Enabled or Disabled"
            )));
        }
    };
    let previous = ctx
        .storage
        .bucket_document(bucket, versioning::DOCUMENT)
        .await?
        .and_then(|d| Configuration::parse(&d));
    let first = previous.is_none();
    let config = Configuration {
        status,
        mfa_delete: mfa_delete.or(previous.and_then(|p| p.mfa_delete)),
    };
    // The history bucket first: a status without it would make writes fail. A bucket
    // versioned for the first time starts with an empty history, whatever a deleted
    // bucket of the same name left (a kill between its two deletes).
    let history = History::new(ctx.storage, bucket);
    history.create(&info.region).await?;
    if first {
        for stale in history.entries_under("").await? {
            history.remove(&stale).await?;
        }
    }
    ctx.storage
        .put_bucket_document(bucket, versioning::DOCUMENT, Some(config.document().into()))
        .await?;
    ctx.rules.forget(bucket);
    Ok(empty_response(StatusCode::OK))
}

/// GetBucketVersioning: an empty configuration for a bucket never versioned (sent, as
/// S3 sends it, without a Content-Type).
pub async fn get_bucket(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    ctx.storage.bucket(bucket).await?;
    let config = ctx
        .storage
        .bucket_document(bucket, versioning::DOCUMENT)
        .await?
        .and_then(|d| Configuration::parse(&d));
    let mut w = XmlWriter::new();
    w.open_ns("VersioningConfiguration");
    let Some(config) = config else {
        w.close("VersioningConfiguration");
        let mut resp = xml_response(w.finish());
        resp.headers_mut().remove(http::header::CONTENT_TYPE);
        return Ok(resp);
    };
    w.elem("Status", config.status.as_str());
    if let Some(m) = config.mfa_delete {
        w.elem("MfaDelete", m);
    }
    w.close("VersioningConfiguration");
    Ok(xml_response(w.finish()))
}

/// Opens the object a read names: the current version, or `version` (`versionId`). A
/// current version that is a delete marker is 404 NoSuchKey with the marker's headers;
/// a version that is one is `on_marker`'s error.
pub async fn open(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    on_marker: impl FnOnce(&crate::storage::VersionStamp) -> S3Error,
) -> Result<crate::storage::OpenObject, S3Error> {
    let v = versioned(ctx, bucket);
    let Some(id) = version else {
        return match ctx.storage.open_object(bucket, key).await {
            Err(e) if e.code == S3ErrorCode::NoSuchKey => match v.current_marker(key).await? {
                Some(marker) => Err(marker_headers(e, &marker.id)
                    .reason("the key's current version is a delete marker")),
                // Settled (or never versioned): the key as it is now.
                None if v.status.is_some() => ctx.storage.open_object(bucket, key).await,
                None => Err(e),
            },
            other => other,
        };
    };
    match v.find(key, id).await? {
        versioning::Found::Current => match ctx.storage.open_object(bucket, key).await {
            Err(e) if e.code == S3ErrorCode::NoSuchKey => {
                Err(crate::versioning::changes::no_such_version(key, id))
            }
            // Replaced between the lookup and the open: that version is history now.
            Ok(o)
                if v.status.is_some() && crate::versioning::history::stamp_of(&o.meta).id != id =>
            {
                Box::pin(open(ctx, bucket, key, version, on_marker)).await
            }
            other => other,
        },
        versioning::Found::History {
            store_bucket,
            store_key,
        } => {
            let mut object = ctx.storage.open_object(&store_bucket, &store_key).await?;
            object.meta.key = key.to_string();
            Ok(object)
        }
        versioning::Found::Marker(stamp) => Err(on_marker(&stamp)),
    }
}

/// `x-amz-delete-marker: true` and the marker's `x-amz-version-id` on an error.
pub fn marker_headers(e: S3Error, id: &str) -> S3Error {
    e.header("x-amz-delete-marker", "true")
        .header("x-amz-version-id", id)
}

/// GET or HEAD of a version that is a delete marker: 405, "Allow: DELETE".
pub fn read_of_marker(ctx: &Ctx<'_>, stamp: &crate::storage::VersionStamp) -> S3Error {
    marker_headers(
        S3Error::new(S3ErrorCode::MethodNotAllowed)
            .extra("Method", ctx.req.method.as_str())
            .extra("ResourceType", "DeleteMarker")
            .header("allow", "DELETE"),
        &stamp.id,
    )
    .reason("this version is a delete marker: it has no body or metadata to read")
}

/// The `x-amz-version-id` a read answers with, in a bucket whose versioning was ever
/// enabled (`null` for the null version); none in a bucket never versioned.
pub fn read_version_header(
    ctx: &Ctx<'_>,
    bucket: &str,
    meta: &crate::storage::ObjectMeta,
) -> Option<String> {
    status(ctx, bucket)?;
    Some(
        meta.attrs
            .version
            .as_ref()
            .map_or_else(|| versioning::NULL.to_string(), |v| v.id.clone()),
    )
}

/// The `x-amz-version-id` a write answers with: the new version's id in a bucket with
/// versioning enabled (a suspended bucket's `null` is not sent).
pub fn write_version_header(stamp: Option<&crate::storage::VersionStamp>) -> Option<&str> {
    stamp
        .map(|s| s.id.as_str())
        .filter(|id| *id != versioning::NULL)
}

/// Where the version a sub-resource request names (`?tagging`, `?acl`, `?attributes`
/// with or without `versionId`) is kept: `(store bucket, store key)`. A delete marker
/// has no sub-resources: 405, as S3 answers.
pub async fn locate(ctx: &Ctx<'_>, bucket: &str, key: &str) -> Result<(String, String), S3Error> {
    let here = || (bucket.to_string(), key.to_string());
    let Some(id) = ctx.req.query_param("versionId") else {
        return Ok(here());
    };
    match versioned(ctx, bucket).find(key, id).await? {
        versioning::Found::Current => {
            if status(ctx, bucket).is_none() && ctx.storage.head_object(bucket, key).await.is_err()
            {
                return Err(crate::versioning::changes::no_such_version(key, id));
            }
            Ok(here())
        }
        versioning::Found::History {
            store_bucket,
            store_key,
        } => Ok((store_bucket, store_key)),
        versioning::Found::Marker(stamp) => Err(read_of_marker(ctx, &stamp)),
    }
}

/// Adds the `x-amz-version-id` of the version a sub-resource request acted on (in a
/// bucket whose versioning was ever enabled; S3 sends it on `?acl`, `?tagging` and
/// `?attributes` answers there).
pub fn with_version(
    ctx: &Ctx<'_>,
    bucket: &str,
    meta: &crate::storage::ObjectMeta,
    mut resp: Response<ResponseBody>,
) -> Response<ResponseBody> {
    if let Some(v) =
        read_version_header(ctx, bucket, meta).and_then(|id| http::HeaderValue::from_str(&id).ok())
    {
        resp.headers_mut().insert("x-amz-version-id", v);
    }
    resp
}

/// The key's lock, in a versioned bucket, for a sub-resource change (`?tagging`, `?acl`):
/// so it lands on the version it found, not one a concurrent write is moving.
pub async fn lock_key<'a>(
    ctx: &'a Ctx<'_>,
    bucket: &str,
    key: &str,
) -> Option<crate::versioning::locks::KeyGuard<'a>> {
    status(ctx, bucket)?;
    Some(ctx.key_locks.lock(bucket, key).await)
}

/// How a sub-resource request answers a key whose current version is a delete marker.
#[derive(Clone, Copy)]
pub enum OnMarker {
    /// 404 NoSuchKey with the marker's headers (GetObjectAcl, GetObjectAttributes).
    NotFound,
    /// 405 MethodNotAllowed, ResourceType DeleteMarker (the tagging operations,
    /// PutObjectAcl).
    NotAllowed,
}

/// A sub-resource request's NoSuchKey, answered as S3 answers it when the key's current
/// version is a delete marker.
pub async fn missing(ctx: &Ctx<'_>, bucket: &str, key: &str, e: S3Error, on: OnMarker) -> S3Error {
    if e.code != S3ErrorCode::NoSuchKey || ctx.req.query_param("versionId").is_some() {
        return e;
    }
    match versioned(ctx, bucket).newest_marker(key).await {
        Ok(Some(marker)) => match on {
            OnMarker::NotFound => {
                marker_headers(e, &marker.id).reason("the key's current version is a delete marker")
            }
            OnMarker::NotAllowed => read_of_marker(ctx, &marker),
        },
        _ => e,
    }
}

/// The version a sub-resource request (`?acl`, `?tagging`, `?attributes`) reads: where it
/// is kept and its metadata, or S3's answer for a missing one (`on`: for a key whose
/// current version is a delete marker).
pub async fn head_located(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    on: OnMarker,
) -> Result<((String, String), crate::storage::ObjectMeta), S3Error> {
    let (at_bucket, at_key) = locate(ctx, bucket, key).await?;
    match ctx.storage.head_object(&at_bucket, &at_key).await {
        Ok(meta) => Ok(((at_bucket, at_key), meta)),
        Err(e) => Err(missing(ctx, bucket, key, e, on).await),
    }
}
