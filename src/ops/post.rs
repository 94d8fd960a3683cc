//! PostObject: a browser form upload (`POST /bucket`, `multipart/form-data`).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html>
//!
//! The form is read with `multer` (a streaming parser) up to the `file` field; the text
//! fields before it are bounded (20 KB, S3's limit), the file streams to the store and is
//! never buffered. Fields after the file are ignored, as S3 ignores them. The signature and
//! policy checks are the auth layer's (`auth::post`); this module only moves bytes.

use futures_util::StreamExt;
use http::header::{CONTENT_TYPE, ETAG, LOCATION};
use http::{Response, StatusCode};

use super::attrs::attrs_from_form;
use super::{Ctx, bucket_of, respond};
use crate::auth::post::{PostForm, PostPolicy};
use crate::auth::{self, AuthKind};
use crate::body::{self, ByteStream, ResponseBody};
use crate::error::{S3Error, S3ErrorCode};
use crate::storage::PutRequest;
use crate::xml::XmlWriter;

/// S3 allows 20 KB of form fields before the file.
pub const MAX_FORM_FIELDS: usize = 20 * 1024;

fn malformed(reason: impl Into<String>) -> S3Error {
    S3Error::new(S3ErrorCode::MalformedPOSTRequest).reason(reason)
}

/// The S3 error inside a multer error, when the body stream itself failed (timeout,
/// cut connection); otherwise the form is malformed.
fn form_error(err: multer::Error) -> S3Error {
    match err {
        multer::Error::StreamReadFailed(inner) => match inner.downcast::<S3Error>() {
            Ok(e) => *e,
            Err(other) => malformed(other.to_string()),
        },
        other => malformed(other.to_string()),
    }
}

/// Reads the text fields up to the `file` field, which is returned unread.
pub(crate) async fn read_form(
    multipart: &mut multer::Multipart<'static>,
) -> Result<(PostForm, multer::Field<'static>), S3Error> {
    let mut form = PostForm::default();
    let mut size = 0usize;
    loop {
        let Some(field) = multipart.next_field().await.map_err(form_error)? else {
            return Err(file_count(0));
        };
        let name = field
            .name()
            .ok_or_else(|| malformed("a form part has no name"))?
            .to_string();
        if name.eq_ignore_ascii_case("file") {
            form.filename = field.file_name().map(str::to_string);
            return Ok((form, field));
        }
        let value = field.text().await.map_err(form_error)?;
        size += name.len() + value.len();
        if size > MAX_FORM_FIELDS {
            return Err(S3Error::new(S3ErrorCode::MaxPostPreDataLengthExceededError)
                .extra("MaxPostPreDataLength", MAX_FORM_FIELDS.to_string()));
        }
        if !name.to_ascii_lowercase().starts_with("x-ignore-") && form.get(&name).is_some() {
            return Err(repeated_field(&name, &value));
        }
        form.fields.push((name, value));
    }
}

/// A field sent twice. No S3 answer is recorded for this (MinIO refuses a repeated field
/// that a condition names; other emulators take the first or the last), so strict-s3
/// refuses every repeat rather than check one value and store another: whatever it
/// accepts, S3 cannot read differently. `x-ignore-*` fields, read by neither, may repeat.
fn repeated_field(name: &str, value: &str) -> S3Error {
    S3Error::invalid_argument(
        format!("POST form field '{}' may appear only once.", name.to_ascii_lowercase()),
        name,
        value,
    )
    .reason(format!(
        "the form has more than one {name} field: a form field is checked against the policy and used as one value, so a repeated one is refused"
    ))
}

/// "POST requires exactly one file upload per request." (S3's IncorrectNumberOfFiles…
/// text, sent as InvalidArgument with the count: itinance/react-native-fs#992).
fn file_count(count: usize) -> S3Error {
    S3Error::invalid_argument(
        "POST requires exactly one file upload per request.",
        "file",
        count.to_string(),
    )
}

/// What follows the file: S3 ignores fields after it, but a second file makes the form
/// wrong ("exactly one file"), so the rest is read (within the same 20 KB as the fields
/// before the file) and a second `file` part fails the upload before it is stored.
async fn rest_of_form(mut multipart: multer::Multipart<'static>) -> Result<(), S3Error> {
    let mut size = 0usize;
    while let Some(mut field) = multipart.next_field().await.map_err(form_error)? {
        if field.name().is_some_and(|n| n.eq_ignore_ascii_case("file")) {
            return Err(file_count(2).reason("the form has a second file part"));
        }
        while let Some(chunk) = field.chunk().await.map_err(form_error)? {
            size += chunk.len();
            if size > MAX_FORM_FIELDS {
                return Err(malformed(format!(
                    "more than {MAX_FORM_FIELDS} bytes of form fields follow the file"
                )));
            }
        }
    }
    Ok(())
}

/// The file part as a body, held to the policy's content-length-range: too large fails as
/// soon as the limit is passed (nothing more is read), too small at the end; then the
/// rest of the form is read, and a second file fails the body, so nothing is stored.
pub(crate) fn file_body(
    field: multer::Field<'static>,
    multipart: multer::Multipart<'static>,
    range: Option<(u64, u64)>,
) -> ByteStream {
    let rest = futures_util::stream::once(rest_of_form(multipart))
        .filter_map(|r| async move { r.err().map(Err) });
    let bytes = field.map(|r| r.map_err(form_error)).chain(rest);
    let counted = body::checked(
        Box::pin(bytes),
        (0u64, range),
        |(n, _), chunk| *n += chunk.len() as u64,
        |(n, range)| match range {
            Some((min, _)) if n < min => Err(too_small(n, min)),
            _ => Ok(()),
        },
    );
    match range {
        None => counted,
        Some((_, max)) => {
            let mut seen = 0u64;
            Box::pin(counted.map(move |r| {
                let chunk = r?;
                seen += chunk.len() as u64;
                if seen > max {
                    return Err(S3Error::with_message(
                        S3ErrorCode::EntityTooLarge,
                        "Your proposed upload exceeds the maximum allowed size",
                    )
                    .extra("ProposedSize", seen.to_string())
                    .extra("MaxSizeAllowed", max.to_string())
                    .reason("the file exceeds the policy's content-length-range (at least this many bytes arrived)"));
                }
                Ok(chunk)
            }))
        }
    }
}

fn too_small(size: u64, min: u64) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::EntityTooSmall,
        "Your proposed upload is smaller than the minimum allowed size",
    )
    .extra("ProposedSize", size.to_string())
    .extra("MinSizeAllowed", min.to_string())
}

pub async fn post_object(
    ctx: &Ctx<'_>,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    let bucket = bucket_of(ctx);
    let boundary = ctx
        .req
        .header("content-type")
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .ok_or_else(|| {
            S3Error::new(S3ErrorCode::PreconditionFailed).extra(
                "Condition",
                "Bucket POST must be of the enclosure-type multipart/form-data",
            )
        })?;
    let mut multipart = multer::Multipart::new(body, boundary);
    let (form, file) = read_form(&mut multipart).await?;

    let attempted = if form.get("x-amz-algorithm").is_some() {
        AuthKind::V4Post
    } else if form.get("awsaccesskeyid").is_some() {
        AuthKind::V2Post
    } else {
        AuthKind::Anonymous
    };
    let claimed = form
        .get("x-amz-credential")
        .map(|c| c.split('/').next().unwrap_or("").to_string())
        .or_else(|| form.get("awsaccesskeyid").map(str::to_string));
    ctx.record_auth(attempted, claimed);
    // The signature first, then the bucket: a bad signature is reported before any lookup.
    let principal = ctx.state.auth.verify_post(&form)?;
    ctx.state.storage.bucket(bucket).await?;
    if principal.kind == AuthKind::Anonymous {
        return Err(auth::error::anonymous().reason("the form carries no policy signature"));
    }
    let policy = PostPolicy::parse(form.get("policy").unwrap_or_default())?;
    let key = form.key()?;
    crate::addressing::check_key(&key, ctx.state.config.limits.max_key_bytes)?;
    let range = policy.check(&form, bucket, &key, ctx.state.clock.now())?;
    let attrs = attrs_from_form(&form, ctx.state.config.limits.max_user_metadata_bytes)?;
    let meta = ctx
        .state
        .storage
        .put_object(
            bucket,
            &key,
            PutRequest::new(attrs, file_body(file, multipart, range)),
        )
        .await?;

    let host = ctx.req.header("host").unwrap_or("localhost");
    let encoded_key = crate::request::form_encode(&key);
    let location = match ctx.addr.style {
        crate::addressing::Style::Path => format!("http://{host}/{bucket}/{encoded_key}"),
        crate::addressing::Style::VirtualHosted => format!("http://{host}/{encoded_key}"),
    };
    let etag = meta.quoted_etag();
    let redirect = form
        .get("success_action_redirect")
        .or_else(|| form.get("redirect"))
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    if let Some(url) = redirect {
        let q = |s: &str| crate::auth::canonical::uri_encode(s);
        let sep = if url.contains('?') { '&' } else { '?' };
        let target = format!(
            "{url}{sep}bucket={}&key={}&etag={}",
            q(bucket),
            q(&key),
            q(&etag)
        );
        return respond(
            Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(LOCATION, target)
                .header(ETAG, etag),
            body::empty(),
        );
    }
    let resp = Response::builder()
        .header(ETAG, &etag)
        .header(LOCATION, &location);
    match form.get("success_action_status") {
        Some("200") => respond(resp.status(StatusCode::OK), body::empty()),
        Some("201") => {
            let mut w = XmlWriter::new();
            w.open("PostResponse");
            w.elem("Location", &location);
            w.elem("Bucket", bucket);
            w.elem("Key", &key);
            w.elem("ETag", &etag);
            w.close("PostResponse");
            respond(
                resp.status(StatusCode::CREATED)
                    .header(CONTENT_TYPE, "application/xml"),
                body::full(w.finish()),
            )
        }
        _ => respond(resp.status(StatusCode::NO_CONTENT), body::empty()),
    }
}

/// What an anonymous reader may see: objects stored with a public canned ACL.
pub fn is_public(meta: &crate::storage::ObjectMeta) -> bool {
    matches!(
        meta.attrs.extra.get("x-amz-acl").map(String::as_str),
        Some("public-read" | "public-read-write")
    )
}
