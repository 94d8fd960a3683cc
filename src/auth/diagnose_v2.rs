//! Why a SigV2 signature did not match: the same one-change-at-a-time search as
//! [`super::diagnose`] does for SigV4, over the SigV2 string to sign.
//!
//! Each variant is a mistake seen in the wild: a URL presigned for GET sent as PUT (the
//! AWS CLI's `aws s3 presign` makes SigV2 GET URLs), a Content-Type the browser added to a
//! URL presigned without one (aws/aws-sdk-js#557), a Content-MD5 not signed, the `Date`
//! signed although `x-amz-date` was sent, an `x-amz-*` header or a sub-resource
//! (`?versionId=…`, jcberquist/aws-cfml#12) added after signing, the bucket left out of a
//! virtual-hosted resource, another configured key's secret. Only run once a signature
//! has already failed; a few dozen HMAC-SHA1s at most.

use super::diagnose::{CONTENT_TYPES, METHODS};
use super::signing::Signature;
use super::sigv2::{StringToSignV2, bucket_slash_twin, sign_v2};
use crate::addressing::{Address, Style};
use crate::config::Config;
use crate::request::S3Request;

/// What the server signed and what it was given.
pub struct AttemptV2<'a> {
    pub req: &'a S3Request,
    pub addr: &'a Address,
    pub sts: &'a StringToSignV2,
    pub secret: &'a str,
    pub access_key: &'a str,
    pub provided: Signature,
    /// A presigned URL (`Expires` in the date line) rather than an `Authorization` header.
    pub query: bool,
    pub config: &'a Config,
}

impl AttemptV2<'_> {
    fn fits(&self, sts: &StringToSignV2) -> bool {
        self.provided.matches(&sign_v2(self.secret, sts)) || {
            // The trailing-slash twin is accepted too: test it for every variant.
            bucket_slash_twin(self.addr, sts)
                .is_some_and(|twin| self.provided.matches(&sign_v2(self.secret, &twin)))
        }
    }

    fn with(&self, change: impl FnOnce(&mut StringToSignV2)) -> bool {
        let mut v = self.sts.clone();
        change(&mut v);
        v != *self.sts && self.fits(&v)
    }
}

/// The mistake that explains the mismatch, in words, or `None`.
pub fn diagnose(a: &AttemptV2<'_>) -> Option<String> {
    let sts = a.sts;
    let what = if a.query {
        "URL was presigned"
    } else {
        "request was signed"
    };
    for m in METHODS.iter().filter(|m| **m != sts.method) {
        if a.with(|v| v.method = m.to_string()) {
            return Some(format!(
                "the signature is valid for method {m}: this {what} for {m} and sent as {} (a URL presigned for one method works for no other)",
                sts.method
            ));
        }
    }
    for ct in CONTENT_TYPES
        .iter()
        .filter(|ct| ct.as_bytes() != sts.content_type)
    {
        if a.with(|v| v.content_type = ct.as_bytes().to_vec()) {
            let signed = if ct.is_empty() {
                "no Content-Type".to_string()
            } else {
                format!("Content-Type {ct:?}")
            };
            return Some(format!(
                "the signature is valid with {signed}, but the request was sent with Content-Type {:?}: SigV2 signs the Content-Type line, so send exactly the signed value (or sign the one the client sends)",
                String::from_utf8_lossy(&sts.content_type)
            ));
        }
    }
    if !sts.content_md5.is_empty() && a.with(|v| v.content_md5.clear()) {
        return Some(format!(
            "the signature is valid without Content-MD5, but the request was sent with Content-MD5 {:?}: SigV2 signs the Content-MD5 line",
            sts.content_md5
        ));
    }
    if let Some(found) = date_variants(a) {
        return Some(found);
    }
    for (i, line) in sts.amz_headers.iter().enumerate() {
        if a.with(|v| {
            v.amz_headers.remove(i);
        }) {
            let line = String::from_utf8_lossy(line);
            let name = line.split(':').next().unwrap_or_default();
            return Some(format!(
                "the signature is valid without the header {name}: it was added after signing, and SigV2 signs every x-amz-* header"
            ));
        }
    }
    if let Some(found) = resource_variants(a) {
        return Some(found);
    }
    for other in a
        .config
        .credentials
        .iter()
        .filter(|k| &*k.access_key != a.access_key)
    {
        let expected = sign_v2(other.secret_key.expose(), sts);
        if a.provided.matches(&expected) {
            return Some(format!(
                "the signature was made with the secret of access key {}, but the request names {}",
                other.access_key, a.access_key
            ));
        }
    }
    None
}

/// Header auth signs `Date`, or an empty line when `x-amz-date` is sent.
fn date_variants(a: &AttemptV2<'_>) -> Option<String> {
    if a.query {
        return None;
    }
    let date = a.req.header(http::header::DATE).unwrap_or("");
    if a.req.headers.contains_key("x-amz-date")
        && !date.is_empty()
        && a.with(|v| v.date_or_expires = date.to_string())
    {
        return Some(format!(
            "the signature is valid with the Date header ({date:?}) in the string to sign; when x-amz-date is sent, SigV2 signs an empty Date line (x-amz-date is signed among the x-amz-* headers)"
        ));
    }
    None
}

/// Sub-resources added after signing, and the bucket left out of the resource.
fn resource_variants(a: &AttemptV2<'_>) -> Option<String> {
    let sts = a.sts;
    let (path, subs) = sts
        .resource
        .split_once('?')
        .map_or((sts.resource.as_str(), ""), |(p, q)| (p, q));
    let subs: Vec<&str> = subs.split('&').filter(|s| !s.is_empty()).collect();
    for (i, sub) in subs.iter().enumerate() {
        let rest: Vec<&str> = subs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, s)| *s)
            .collect();
        let resource = if rest.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", rest.join("&"))
        };
        if a.with(|v| v.resource = resource) {
            return Some(format!(
                "the signature is valid without the query parameter ?{sub}: it was added to the URL after signing, and SigV2 signs this sub-resource (sign it, or leave it out)"
            ));
        }
    }
    let bucket = a.addr.bucket()?;
    let without = path.strip_prefix(&format!("/{bucket}"))?;
    let without = if without.is_empty() { "/" } else { without };
    let resource = match sts.resource.split_once('?') {
        Some((_, q)) => format!("{without}?{q}"),
        None => without.to_string(),
    };
    if a.with(|v| v.resource = resource.clone()) {
        let style = match a.addr.style {
            Style::VirtualHosted => "virtual-hosted",
            Style::Path => "path-style",
        };
        return Some(format!(
            "the signature is valid for the resource {resource} without the bucket, but SigV2 signs /{bucket} first for {style} requests too ({})",
            sts.resource
        ));
    }
    None
}
