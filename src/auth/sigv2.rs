//! Signature Version 2, in one place: the string to sign as a value
//! ([`StringToSignV2`]), and [`sign_v2`], the one function that signs it (HMAC-SHA1,
//! base64). The server's checks ([`super::v2`]), the mismatch diagnosis and the POST
//! form check all sign through it.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html>:
//! ```text
//! StringToSign = Verb \n Content-MD5 \n Content-Type \n Date-or-Expires \n
//!                CanonicalizedAmzHeaders CanonicalizedResource
//! ```

use std::fmt;

use super::signing::Signature;
use crate::addressing::{Address, Style};
use crate::request::S3Request;

/// The SigV2 string to sign, as a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringToSignV2 {
    pub method: String,
    pub content_md5: String,
    /// The bytes received (a signature is verified over them, never a decoding).
    pub content_type: Vec<u8>,
    /// The `Date` header (empty when `x-amz-date` is sent) or, for query auth, `Expires`.
    pub date_or_expires: String,
    /// `name:value` lines of the `x-amz-*` headers, sorted, as bytes received.
    pub amz_headers: Vec<Vec<u8>>,
    pub resource: String,
}

impl StringToSignV2 {
    pub fn from_request(req: &S3Request, addr: &Address, date_or_expires: String) -> Self {
        let header = |n: &str| req.header_text(n).unwrap_or_default().trim().to_string();
        let content_type = req
            .headers
            .get("content-type")
            .map_or(Vec::new(), |v| v.as_bytes().trim_ascii().to_vec());
        StringToSignV2 {
            method: req.method.as_str().to_string(),
            content_md5: header("content-md5"),
            content_type,
            date_or_expires,
            amz_headers: amz_headers(req),
            resource: canonical_resource(req, addr),
        }
    }
}

impl StringToSignV2 {
    /// The exact bytes signed.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        for part in [
            self.method.as_bytes(),
            b"\n",
            self.content_md5.as_bytes(),
            b"\n",
        ] {
            out.extend_from_slice(part);
        }
        out.extend_from_slice(&self.content_type);
        out.push(b'\n');
        out.extend_from_slice(self.date_or_expires.as_bytes());
        out.push(b'\n');
        for line in &self.amz_headers {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        out.extend_from_slice(self.resource.as_bytes());
        out
    }
}

/// As text; a header value that is not UTF-8 shows U+FFFD (signing uses the bytes).
impl fmt::Display for StringToSignV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

/// `x-amz-*` headers, lowercase, sorted, repeated values joined with `,`. In a presigned
/// URL the `x-amz-*` query parameters count as headers (how botocore's HmacV1QueryAuth
/// signs a session token, and how the SigV2 page describes query authentication); a
/// name also sent as a header is signed once, from the header (botocore signs its
/// request headers and copies them into the query, and clients then send both).
fn amz_headers(req: &S3Request) -> Vec<Vec<u8>> {
    let query_auth = req.has_query("AWSAccessKeyId");
    let mut pairs: Vec<(String, &[u8])> = req
        .headers
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("x-amz-"))
        .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().trim_ascii()))
        .collect();
    if query_auth {
        let from_query: Vec<(String, &[u8])> = req
            .query
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.as_bytes().trim_ascii()))
            .filter(|(k, _)| k.starts_with("x-amz-") && !req.headers.contains_key(k.as_str()))
            .collect();
        pairs.extend(from_query);
    }
    // Stable: repeated values keep their order.
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut last: Option<&str> = None;
    for (name, value) in &pairs {
        if last == Some(name.as_str()) {
            let line = lines.last_mut().expect("a line for the previous name");
            line.push(b',');
            line.extend_from_slice(value);
        } else {
            let mut line = format!("{name}:").into_bytes();
            line.extend_from_slice(value);
            lines.push(line);
            last = Some(name);
        }
    }
    lines
}

/// `/bucket/key` as sent (the bucket prefixed for virtual-hosted requests), then the
/// signed sub-resources, sorted, with unencoded values.
fn canonical_resource(req: &S3Request, addr: &Address) -> String {
    let mut out = String::new();
    if addr.style == Style::VirtualHosted
        && let Some(b) = addr.bucket()
    {
        out.push('/');
        out.push_str(b);
    }
    out.push_str(&req.raw_path);
    let mut subs: Vec<&(String, String)> = req
        .query
        .iter()
        .filter(|(k, _)| crate::subresources::signed_by_v2(k))
        .collect();
    subs.sort_by(|a, b| a.0.cmp(&b.0));
    // "…its value if it has one": an empty value is none, so `?uploads=` (what the Go SDK
    // sends) signs as `?uploads`, as rclone's and botocore's SigV2 signers and MinIO's
    // verifier write it.
    for (i, (k, v)) in subs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if !v.is_empty() {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// HMAC-SHA1 of the string to sign.
pub fn sign_v2(secret: &str, sts: &StringToSignV2) -> Signature {
    hmac_sha1(secret, &sts.to_bytes())
}

/// A SigV2 POST form signs its base64 policy text exactly as sent.
pub fn sign_policy_v2(secret: &str, policy: &str) -> Signature {
    hmac_sha1(secret, policy.as_bytes())
}

fn hmac_sha1(secret: &str, data: &[u8]) -> Signature {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(data);
    Signature::from_bytes(&mac.finalize().into_bytes()).expect("20 bytes")
}

/// For a path-style request to a bucket itself (`/bucket` or `/bucket/`), the string to
/// sign with the other spelling of its resource.
pub(super) fn bucket_slash_twin(addr: &Address, sts: &StringToSignV2) -> Option<StringToSignV2> {
    if addr.style != Style::Path || !matches!(addr.target, crate::addressing::Target::Bucket(_)) {
        return None;
    }
    let (path, subs) = sts
        .resource
        .split_once('?')
        .map_or((sts.resource.as_str(), None), |(p, q)| (p, Some(q)));
    let toggled = match path.strip_suffix('/') {
        Some(bare) => bare.to_string(),
        None => format!("{path}/"),
    };
    let resource = match subs {
        Some(q) => format!("{toggled}?{q}"),
        None => toggled,
    };
    Some(StringToSignV2 {
        resource,
        ..sts.clone()
    })
}
