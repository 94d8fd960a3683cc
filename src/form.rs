//! A browser POST upload's `multipart/form-data` body, read in two steps: the head (the
//! text fields before the `file` part), which authentication needs to check the form's
//! signature, then the file itself, streamed by the operation and never buffered.
//!
//! The form is read with `multer` (a streaming parser). The fields before the file are
//! bounded (20 KB, S3's limit); fields after it are ignored, as S3 ignores them, except
//! that a second file is refused.

use futures_util::StreamExt;

use crate::auth::post::PostForm;
use crate::body::{self, ByteStream};
use crate::error::{S3Error, S3ErrorCode};
use crate::request::S3Request;

/// A form whose head has been read: its fields, and the file part not yet read.
pub struct FormUpload {
    pub form: PostForm,
    file: multer::Field<'static>,
    rest: multer::Multipart<'static>,
}

impl FormUpload {
    /// Reads the head of the form `body` carries. A body that is not
    /// `multipart/form-data` is S3's 412 (its "Bucket POST must be of the enclosure-type
    /// multipart/form-data" condition).
    pub async fn read(req: &S3Request, body: ByteStream) -> Result<FormUpload, S3Error> {
        let boundary = req
            .header(http::header::CONTENT_TYPE)
            .and_then(|ct| multer::parse_boundary(ct).ok())
            .ok_or_else(|| {
                S3Error::new(S3ErrorCode::PreconditionFailed).extra(
                    "Condition",
                    "Bucket POST must be of the enclosure-type multipart/form-data",
                )
            })?;
        Self::read_with_boundary(body, boundary).await
    }

    /// Reads the head of a form whose boundary is known.
    pub async fn read_with_boundary(
        body: ByteStream,
        boundary: impl Into<String>,
    ) -> Result<FormUpload, S3Error> {
        let mut rest = multer::Multipart::new(body, boundary);
        let (form, file) = read_fields(&mut rest).await?;
        Ok(FormUpload { form, file, rest })
    }

    /// The fields, and the file as a body held to the policy's `content-length-range`
    /// (`(min, max)`).
    pub fn into_parts(self, range: Option<(u64, u64)>) -> (PostForm, ByteStream) {
        (self.form, file_body(self.file, self.rest, range))
    }
}

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
async fn read_fields(
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
fn file_body(
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
