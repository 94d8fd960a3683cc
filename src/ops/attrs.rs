//! Request headers and POST form fields → the [`ObjectAttrs`] an object is stored with.
//!
//! PutObject, CopyObject (with `REPLACE`), CreateMultipartUpload and POST uploads all set
//! the same stored properties, so the translation and its checks live here, apart from
//! any one operation: S3's vocabularies (storage classes), the user metadata
//! size limit, server-side encryption, the headers strict-s3 refuses as not implemented,
//! and the removal of `aws-chunked` from Content-Encoding.

use crate::error::{S3Error, S3ErrorCode};
use crate::request::S3Request;
use crate::storage::ObjectAttrs;

const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
];

/// Headers that ask for features strict-s3 does not implement; refused with
/// `NotImplemented` naming the header rather than silently ignored.
const UNSUPPORTED_HEADERS: &[&str] = &[
    "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold",
    "x-amz-website-redirect-location",
    "x-amz-server-side-encryption-customer-algorithm",
];

pub(super) fn not_implemented_header(name: &str) -> S3Error {
    S3Error::new(S3ErrorCode::NotImplemented)
        .extra("Header", name)
        .reason(format!(
            "strict-s3 does not implement the {name} header yet"
        ))
}

/// The stored properties a PUT (or a COPY with `REPLACE`) sets, from its headers.
pub fn attrs_from_headers(req: &S3Request, max_metadata: usize) -> Result<ObjectAttrs, S3Error> {
    if let Some(h) = req.first_header_of(UNSUPPORTED_HEADERS) {
        return Err(not_implemented_header(h));
    }
    let pairs = req.headers.iter().map(|(name, value)| {
        let text = if name.as_str().starts_with("x-amz-meta-") {
            metadata_text(value.as_bytes())
        } else {
            crate::request::header_value_text(value.as_bytes())
        };
        (name.as_str(), text)
    });
    let mut attrs = attrs_from_pairs(pairs, max_metadata)?;
    if let Some(raw) = crate::tagging::requested(req) {
        attrs.tags = crate::tagging::parse_header(raw)?;
    }
    Ok(attrs)
}

/// An `x-amz-meta-*` header value as S3 stores it: each byte is one ISO-8859-1
/// character. The user guide's own example shows it: `ÄMÄZÕÑ S3` sent as UTF-8 comes
/// back as `=?UTF-8?B?w4PChE3Dg8KEWsODwpXDg8KRIFMz?=`, the UTF-8 of those bytes read as
/// Latin-1 (docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html). So the
/// Latin-1 bytes Python's http.client sends round-trip, and UTF-8 bytes come back as AWS
/// returns them. See [`metadata_header_value`] for the way back.
fn metadata_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) if s.is_ascii() => std::borrow::Cow::Borrowed(s),
        _ => std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// A stored metadata value as S3 returns it in a header: as it is when US-ASCII, else
/// "first character-encoded using UTF-8 and then encoded into US-ASCII" as an RFC 2047
/// encoded word, `=?UTF-8?B?…?=` (the user guide above).
pub fn metadata_header_value(value: &str) -> std::borrow::Cow<'_, str> {
    use base64::Engine;
    if value.is_ascii() {
        return std::borrow::Cow::Borrowed(value);
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
    std::borrow::Cow::Owned(format!("=?UTF-8?B?{b64}?="))
}

/// The stored properties a POST form sets: the same fields as PUT's headers, with the
/// canned ACL in a field named `acl`. Field names are case-insensitive.
pub fn attrs_from_form(
    form: &crate::auth::post::PostForm,
    max_metadata: usize,
) -> Result<ObjectAttrs, S3Error> {
    let lowered: Vec<(String, &str)> = form
        .fields
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.as_str()))
        .collect();
    let pairs = lowered
        .iter()
        .map(|(n, v)| (n.as_str(), std::borrow::Cow::Borrowed(*v)));
    let mut attrs = attrs_from_pairs(pairs, max_metadata)?;
    // The form's `tagging` field is a whole `<Tagging>` document ("the tag-set for the
    // object … in XML", the POST Object reference), not the header's query form.
    if let Some((_, doc)) = lowered.iter().find(|(n, _)| n == "tagging") {
        attrs.tags = crate::tagging::parse_document(doc.as_bytes(), crate::tagging::Owner::Object)?;
    }
    Ok(attrs)
}

/// Builds the stored properties from `(lowercase name, value)` pairs, enforcing S3's
/// limits and vocabularies (metadata size, storage classes, SSE). The ACL is the
/// operation's to decide (`super::acl::for_new_object`), under the bucket's ownership.
fn attrs_from_pairs<'a>(
    pairs: impl Iterator<Item = (&'a str, std::borrow::Cow<'a, str>)>,
    max_metadata: usize,
) -> Result<ObjectAttrs, S3Error> {
    let mut attrs = ObjectAttrs::default();
    let mut size = 0;
    let (mut class, mut sse) = (None, None);
    // Content-Encoding may come as several header lines (`gzip`, then `aws-chunked`).
    let mut encodings: Vec<String> = Vec::new();
    for (name, value) in pairs {
        // Owned only for the headers kept (not for every header of the request).
        let value = || value.into_owned();
        match name {
            "content-type" => attrs.content_type = Some(value()),
            "content-encoding" => encodings.push(value()),
            "content-disposition" => attrs.content_disposition = Some(value()),
            "cache-control" => attrs.cache_control = Some(value()),
            "content-language" => attrs.content_language = Some(value()),
            "expires" => attrs.expires = Some(value()),
            "x-amz-storage-class" => class = Some(value()),
            "x-amz-server-side-encryption" => sse = Some(value()),
            n => {
                if let Some(meta) = n.strip_prefix("x-amz-meta-") {
                    size += add_user_metadata(&mut attrs, meta, value());
                }
            }
        }
    }
    if !encodings.is_empty() {
        attrs.content_encoding = strip_aws_chunked(&encodings.join(","));
    }
    // The checks run after every pair is read, in this order, so that a request with
    // several faults gets the same error whatever its header order.
    check_metadata_size(size, max_metadata)?;
    if let Some(class) = class {
        set_storage_class(&mut attrs, class)?;
    }
    if let Some(sse) = sse {
        set_server_side_encryption(&mut attrs, sse)?;
    }
    Ok(attrs)
}

/// Stores one `x-amz-meta-<meta>` value; a name sent more than once keeps every value,
/// comma-joined, as repeated header lines combine. Returns the bytes it counts towards
/// S3's metadata limit (name without the prefix, plus value).
fn add_user_metadata(attrs: &mut ObjectAttrs, meta: &str, value: String) -> usize {
    let counted = meta.len() + value.len();
    attrs
        .user_metadata
        .entry(meta.to_string())
        .and_modify(|v| {
            v.push(',');
            v.push_str(&value);
        })
        .or_insert(value);
    counted
}

/// `MetadataTooLarge` when the user metadata adds up to more than the configured limit
/// (S3's is 2 KB).
fn check_metadata_size(size: usize, max_metadata: usize) -> Result<(), S3Error> {
    if size > max_metadata {
        return Err(S3Error::new(S3ErrorCode::MetadataTooLarge)
            .extra("Size", size.to_string())
            .extra("MaxSizeAllowed", max_metadata.to_string())
            .reason(format!(
                "x-amz-meta-* names and values add up to {size} bytes; S3 allows {max_metadata}"
            )));
    }
    Ok(())
}

/// `x-amz-storage-class`, one of S3's names. `STANDARD` is the default and is not
/// stored, so an object put with it looks like one put without.
fn set_storage_class(attrs: &mut ObjectAttrs, class: String) -> Result<(), S3Error> {
    if !STORAGE_CLASSES.contains(&class.as_str()) {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidStorageClass,
            "The storage class you specified is not valid",
        )
        .extra("StorageClassRequested", class));
    }
    if class != "STANDARD" {
        attrs.extra.insert("x-amz-storage-class".into(), class);
    }
    Ok(())
}

/// `x-amz-server-side-encryption`: only S3-managed keys (`AES256`); KMS and the rest are
/// refused as not implemented rather than stored and ignored.
fn set_server_side_encryption(attrs: &mut ObjectAttrs, sse: String) -> Result<(), S3Error> {
    if sse != "AES256" {
        return Err(
            not_implemented_header("x-amz-server-side-encryption").reason(format!(
                "only AES256 (S3-managed keys) is accepted, not {sse:?}"
            )),
        );
    }
    attrs
        .extra
        .insert("x-amz-server-side-encryption".into(), sse);
    Ok(())
}

/// `aws-chunked` is transport framing, not the object's encoding: S3 removes it.
fn strip_aws_chunked(v: &str) -> Option<String> {
    let rest: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!rest.is_empty()).then(|| rest.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The user guide's example, byte for byte, and the Latin-1 round trip.
    #[test]
    fn metadata_values_as_s3_stores_and_returns_them() {
        let sent = "ÄMÄZÕÑ S3".as_bytes();
        assert_eq!(
            metadata_header_value(&metadata_text(sent)),
            "=?UTF-8?B?w4PChE3Dg8KEWsODwpXDg8KRIFMz?="
        );
        assert_eq!(metadata_text(b"caf\xe9"), "caf\u{e9}");
        assert_eq!(metadata_header_value("caf\u{e9}"), "=?UTF-8?B?Y2Fmw6k=?=");
        assert_eq!(metadata_header_value("plain ascii"), "plain ascii");
    }

    #[test]
    fn aws_chunked_is_removed_from_content_encoding() {
        assert_eq!(strip_aws_chunked("aws-chunked"), None);
        assert_eq!(strip_aws_chunked("aws-chunked,gzip"), Some("gzip".into()));
        assert_eq!(strip_aws_chunked("gzip"), Some("gzip".into()));
    }
}
