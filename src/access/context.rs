//! The request's condition keys, as AWS sets them (docs/permissions-evidence.md §4).

use std::net::SocketAddr;

use time::OffsetDateTime;

use crate::auth::{AuthKind, Authenticated};
use crate::identity::Identity;
use crate::policy::Context;
use crate::request::S3Request;

/// The request's condition keys (docs/permissions-evidence.md §4), present only when
/// the request carries them, as AWS sets them. Only the keys the caller's policy reads
/// (`keys`, lower case) are computed.
pub(super) fn context(
    who: &Authenticated,
    req: &S3Request,
    now: OffsetDateTime,
    peer: Option<SocketAddr>,
    keys: &[String],
) -> Context {
    let mut c = Context::default();
    let mut put = |key: &str, value: &dyn Fn() -> Option<String>| {
        if keys.iter().any(|k| k.eq_ignore_ascii_case(key))
            && let Some(v) = value()
        {
            c.set(key, v);
        }
    };
    let header = |name: &'static str| move || req.header(name).map(str::to_string);
    let param = |name: &'static str| move || req.query_param(name).map(str::to_string);
    put("aws:CurrentTime", &|| Some(crate::dates::iso(now)));
    put("aws:EpochTime", &|| Some(now.unix_timestamp().to_string()));
    put("aws:SecureTransport", &|| Some("false".into()));
    put("aws:SourceIp", &|| peer.map(|p| p.ip().to_string()));
    put("aws:UserAgent", &header("user-agent"));
    put("aws:Referer", &header("referer"));
    put("s3:x-amz-acl", &header("x-amz-acl"));
    put("s3:x-amz-copy-source", &header("x-amz-copy-source"));
    put(
        "s3:x-amz-metadata-directive",
        &header("x-amz-metadata-directive"),
    );
    put("s3:prefix", &param("prefix"));
    put("s3:delimiter", &param("delimiter"));
    // "always present in the request when you perform the ListBucket operation".
    put("s3:max-keys", &|| {
        Some(req.query_param("max-keys").unwrap_or("1000").to_string())
    });
    let identity = who.identity.as_deref();
    put("aws:PrincipalArn", &|| {
        identity.map(Identity::principal_arn)
    });
    put("aws:PrincipalType", &|| {
        identity.map(|i| i.principal_type().to_string())
    });
    // "only available in requests that are signed using temporary security credentials".
    put("aws:TokenIssueTime", &|| {
        who.token_issued_at.map(crate::dates::iso)
    });
    put("aws:PrincipalAccount", &|| {
        identity.map(|i| i.account().id.clone())
    });
    put("aws:userid", &|| identity.map(Identity::userid));
    put("aws:username", &|| {
        identity.and_then(Identity::username).map(str::to_string)
    });
    let (auth_type, version) = match who.kind {
        AuthKind::V4Header => (Some("REST-HEADER"), Some("AWS4-HMAC-SHA256")),
        AuthKind::V4Query => (Some("REST-QUERY-STRING"), Some("AWS4-HMAC-SHA256")),
        AuthKind::V4Post => (Some("POST"), Some("AWS4-HMAC-SHA256")),
        AuthKind::V2Header => (Some("REST-HEADER"), Some("AWS")),
        AuthKind::V2Query => (Some("REST-QUERY-STRING"), Some("AWS")),
        AuthKind::V2Post => (Some("POST"), Some("AWS")),
        AuthKind::Anonymous => (None, None),
    };
    put("s3:authType", &|| auth_type.map(str::to_string));
    put("s3:signatureversion", &|| version.map(str::to_string));
    // Presigned URLs and POST forms, in milliseconds; SigV2 "always set to 0".
    put("s3:signatureAge", &|| match (who.kind, who.signed_at) {
        (AuthKind::V4Query | AuthKind::V4Post, Some(at)) => {
            Some((now - at).whole_milliseconds().max(0).to_string())
        }
        (AuthKind::V2Query | AuthKind::V2Post, _) => Some("0".into()),
        _ => None,
    });
    // Header-signed SigV4 only ("does not support x-amz-content-sha256 as a query
    // string parameter").
    put("s3:x-amz-content-sha256", &|| {
        (who.kind == AuthKind::V4Header)
            .then(|| {
                req.header(crate::header_names::X_AMZ_CONTENT_SHA256)
                    .map(str::to_string)
            })
            .flatten()
    });
    request_tags(&mut c, req, keys);
    c
}

/// The lower-case prefix of `s3:ExistingObjectTag/<key>`.
pub const EXISTING_TAG: &str = "s3:existingobjecttag/";

/// `s3:ExistingObjectTag/<key>`: the value of the tag `<key>` of the object acted on,
/// for each such key a policy reads (absent when the object has no such tag).
pub(super) fn existing_tags(c: &mut Context, tags: &[crate::tagging::Tag], keys: &[String]) {
    for key in keys.iter().filter(|k| k.starts_with(EXISTING_TAG)) {
        if let Some((_, v)) = tags
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&key[EXISTING_TAG.len()..]))
        {
            c.set(key, v.clone());
        }
    }
}

const REQUEST_TAG: &str = "s3:requestobjecttag/";
const REQUEST_TAG_KEYS: &str = "s3:requestobjecttagkeys";

/// Whether a policy reads `s3:RequestObjectTag/<key>` or `s3:RequestObjectTagKeys`.
pub(super) fn reads_request_tags(keys: &[String]) -> bool {
    keys.iter()
        .any(|k| k.starts_with(REQUEST_TAG) || k == REQUEST_TAG_KEYS)
}

/// `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys` (multivalued) from the
/// `x-amz-tagging` header of a write (`k1=v1&k2=v2`, URL-encoded as a query string).
/// The tags of a PutObjectTagging body and of a POST form's `tagging` field are known
/// only once the operation has read them; it sets them with [`set_request_tags`].
fn request_tags(c: &mut Context, req: &S3Request, keys: &[String]) {
    if !reads_request_tags(keys) {
        return;
    }
    let Some(header) = crate::tagging::requested(req) else {
        return;
    };
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    let tags: Vec<(String, String)> = header
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    set_request_tags(c, &tags, keys);
}

/// Sets the request-tag keys a policy reads from `tags` (and clears those it does not
/// have: a tag absent from the request is an absent key, whatever was set before).
pub(super) fn set_request_tags(c: &mut Context, tags: &[crate::tagging::Tag], keys: &[String]) {
    for key in keys.iter().filter(|k| k.starts_with(REQUEST_TAG)) {
        // The policy's key is lower case (condition keys are case-insensitive); so is the
        // tag key matched here.
        match tags
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&key[REQUEST_TAG.len()..]))
        {
            Some((_, v)) => c.set(key, v.clone()),
            None => c.remove(key),
        }
    }
    if keys.iter().any(|k| k == REQUEST_TAG_KEYS) {
        c.set_all(
            REQUEST_TAG_KEYS,
            tags.iter().map(|(k, _)| k.clone()).collect(),
        );
    }
}
