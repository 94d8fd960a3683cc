//! Why a signature did not match: the plausible mistakes, tried one at a time.
//!
//! AWS answers `SignatureDoesNotMatch` and leaves the developer to diff canonical
//! requests. Here, only when a signature has already failed, the server re-signs the
//! request with one thing changed — another method, another Host or port, path-style vs
//! virtual-hosted, a signed header's other value, another configured secret, the path
//! encoded twice, `+` read literally in the query, another payload hash — and names the
//! change that makes the signature valid. The search is bounded (a few hundred HMACs at
//! most, well under a millisecond: `cargo bench --bench verify`).

use super::params::CredentialScope;
use super::signing::Signature;
use super::sigv4::{
    self, CanonicalRequest, EMPTY_SHA256, StringToSign, canonical_query, derive_signing_key,
    uri_encode, uri_encode_path,
};
use crate::config::Config;
use crate::request::S3Request;

/// Everything the server used to compute the signature that did not match.
pub struct Mismatch<'a> {
    pub req: &'a S3Request,
    pub canonical: &'a CanonicalRequest<'a>,
    /// The request's `X-Amz-Date` as signed.
    pub amz_date: &'a str,
    pub scope: &'a CredentialScope<'a>,
    pub key: &'a [u8; 32],
    pub provided: Signature,
    /// The configured base domains (for the path-style ↔ virtual-hosted variants).
    pub domains: &'a [String],
}

pub(super) const METHODS: &[&str] = &["GET", "PUT", "HEAD", "DELETE", "POST"];
const PORTS: &[&str] = &[
    "", "80", "443", "9000", "4566", "8000", "8080", "9090", "3000",
];
pub(super) const CONTENT_TYPES: &[&str] = &[
    "",
    "application/octet-stream",
    "binary/octet-stream",
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "image/png",
    "image/jpeg",
];

impl Mismatch<'_> {
    fn matches(&self, canonical: &CanonicalRequest<'_>, key: &[u8; 32]) -> bool {
        let sts = StringToSign::Request {
            amz_date: self.amz_date,
            scope: self.scope.scope(),
            canonical_request_hash: canonical.sha256(),
        };
        self.provided.matches(&sigv4::sign(key, &sts))
    }

    fn signed(&self, name: &str) -> bool {
        self.canonical
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    fn with_header(&self, name: &str, value: &str) -> CanonicalRequest<'_> {
        let mut c = self.canonical.clone();
        for (n, v) in c.headers.iter_mut() {
            if n.eq_ignore_ascii_case(name) {
                *v = value.as_bytes().to_vec();
            }
        }
        c
    }
}

/// The mistake that explains the mismatch, in words, or `None` when no single change
/// does (the secret, or something outside this list, is then wrong).
///
/// The groups of candidates are tried in this order and the first change that makes the
/// signature valid is the answer, so the order decides which explanation wins.
pub fn diagnose(a: &Mismatch<'_>, config: &Config) -> Option<String> {
    method_variant(a)
        .or_else(|| host_variants(a))
        .or_else(|| content_type_variant(a))
        .or_else(|| path_variants(a))
        .or_else(|| literal_plus(a))
        .or_else(|| added_parameter(a))
        .or_else(|| repeated_parameter(a))
        .or_else(|| payload_variants(a))
        .or_else(|| other_secret(a, config))
}

/// Another HTTP method: a URL presigned for one operation sent as another.
fn method_variant(a: &Mismatch<'_>) -> Option<String> {
    let c = a.canonical;
    for m in METHODS.iter().filter(|m| **m != c.method) {
        let mut v = c.clone();
        v.method = m;
        if a.matches(&v, a.key) {
            return Some(format!(
                "the signature is valid for method {m}: this request was signed for {m} and sent as {} (a URL presigned for one method works for no other)",
                c.method
            ));
        }
    }
    None
}

/// A common Content-Type (or none) signed where another was sent, say a charset added
/// or a default type filled in after signing.
fn content_type_variant(a: &Mismatch<'_>) -> Option<String> {
    if !a.signed("content-type") {
        return None;
    }
    let sent = a.req.header(http::header::CONTENT_TYPE).unwrap_or("");
    for ct in CONTENT_TYPES.iter().filter(|ct| **ct != sent) {
        if a.matches(&a.with_header("content-type", ct), a.key) {
            let signed = if ct.is_empty() {
                "no Content-Type".to_string()
            } else {
                format!("Content-Type {ct:?}")
            };
            return Some(format!(
                "the signature is valid with {signed}, but the request was sent with Content-Type {sent:?}: send exactly the signed value"
            ));
        }
    }
    None
}

/// The path encoded twice (`%2520` for a space) or not re-encoded at all.
fn path_variants(a: &Mismatch<'_>) -> Option<String> {
    let c = a.canonical;
    let twice = uri_encode_path(&c.uri).into_owned();
    for (label, uri) in [
        ("encoded twice", twice),
        ("left as sent", a.req.raw_path.clone()),
    ] {
        if uri != c.uri {
            let mut v = c.clone();
            v.uri = uri.clone();
            if a.matches(&v, a.key) {
                return Some(format!(
                    "the signature is valid for the path {label} ({uri}); S3 signs the path decoded, then encoded once ({})",
                    c.uri
                ));
            }
        }
    }
    None
}

/// A raw `+` in the query signed as a literal plus, where S3 reads it as a space.
fn literal_plus(a: &Mismatch<'_>) -> Option<String> {
    if !a.req.raw_query.contains('+') {
        return None;
    }
    let literal: Vec<(String, String)> = a
        .req
        .raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| crate::request::decode_component(&s.replace('+', "%2B")).ok();
            Some((dec(k)?, dec(v)?))
        })
        .collect();
    let c = a.canonical;
    let mut v = c.clone();
    v.query = canonical_query(&literal, Some("X-Amz-Signature"));
    (v.query != c.query && a.matches(&v, a.key)).then(|| {
        "the signature is valid if `+` in the query is a literal plus; S3 reads a raw `+` as a space: encode a plus as %2B".to_string()
    })
}

/// Another payload hash: `UNSIGNED-PAYLOAD` or the empty body's hash signed, and the
/// other sent in `x-amz-content-sha256`.
fn payload_variants(a: &Mismatch<'_>) -> Option<String> {
    let c = a.canonical;
    for payload in ["UNSIGNED-PAYLOAD", EMPTY_SHA256] {
        if payload != c.payload_hash {
            let mut v = a.with_header("x-amz-content-sha256", payload);
            v.payload_hash = payload;
            if a.matches(&v, a.key) {
                return Some(format!(
                    "the signature is valid with payload hash {payload}; the request says {}",
                    c.payload_hash
                ));
            }
        }
    }
    None
}

/// Another configured secret: the request names one access key but was signed with the
/// secret of another. Each candidate derives a signing key, not just one HMAC.
fn other_secret(a: &Mismatch<'_>, config: &Config) -> Option<String> {
    for other in config
        .credentials
        .iter()
        .filter(|k| &*k.access_key != a.scope.access_key)
    {
        let key = derive_signing_key(
            other.secret_key.expose(),
            a.scope.date,
            a.scope.region,
            a.scope.service,
        );
        if a.matches(a.canonical, &key) {
            return Some(format!(
                "the signature was made with the secret of access key {}, but the request names {}",
                other.access_key, a.scope.access_key
            ));
        }
    }
    None
}

/// Host header variants: localhost ↔ 127.0.0.1, common ports or none, and the other
/// addressing style (bucket in the Host vs in the path).
fn host_variants(a: &Mismatch<'_>) -> Option<String> {
    if !a.signed("host") {
        return None;
    }
    let sent = a.req.header(http::header::HOST).unwrap_or("");
    let (name, port) = sent
        .rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or((sent, ""));
    let mut names = vec![name.to_string()];
    for alt in ["localhost", "127.0.0.1"] {
        if name != alt {
            names.push(alt.to_string());
        }
    }
    let ports = std::iter::once(port).chain(PORTS.iter().copied().filter(|p| *p != port));
    let ports: Vec<&str> = ports.collect();
    for n in &names {
        for p in &ports {
            let host = if p.is_empty() {
                n.clone()
            } else {
                format!("{n}:{p}")
            };
            if host == sent {
                continue;
            }
            if a.matches(&a.with_header("host", &host), a.key) {
                return Some(format!(
                    "the signature is valid for Host {host:?}, but the request arrived with Host {sent:?}: sign the URL with the endpoint the client really uses (a proxy, a Docker port mapping or localhost vs 127.0.0.1 changes it)"
                ));
            }
        }
    }
    addressing_variants(a, name, sent)
}

/// Path-style signed, virtual-hosted sent (or the reverse): the bucket moves between
/// the Host (`name` is the sent Host without its port) and the first path segment.
fn addressing_variants(a: &Mismatch<'_>, name: &str, sent: &str) -> Option<String> {
    let c = a.canonical;
    for domain in a.domains {
        if let Some(bucket) = name
            .strip_suffix(domain.as_str())
            .and_then(|b| b.strip_suffix('.'))
        {
            let host = sent.replacen(&format!("{bucket}."), "", 1);
            let mut v = a.with_header("host", &host);
            v.uri = format!("/{}{}", uri_encode(bucket), c.uri);
            if a.matches(&v, a.key) {
                return Some(format!(
                    "the signature is valid for the path-style URL (Host {host:?}, path {}), but the request was sent virtual-hosted-style (Host {sent:?})",
                    v.uri
                ));
            }
        }
    }
    let mut segments = c.uri.splitn(3, '/').skip(1);
    if let (Some(bucket), rest) = (segments.next(), segments.next()) {
        for domain in a.domains {
            let port = sent
                .rsplit_once(':')
                .map(|(_, p)| format!(":{p}"))
                .unwrap_or_default();
            let host = format!("{bucket}.{domain}{port}");
            let mut v = a.with_header("host", &host);
            v.uri = format!("/{}", rest.unwrap_or(""));
            if a.matches(&v, a.key) {
                return Some(format!(
                    "the signature is valid for the virtual-hosted URL (Host {host:?}), but the request was sent path-style (Host {sent:?})"
                ));
            }
        }
    }
    None
}

/// A query parameter appended to a URL after it was presigned (`&versionId=…`,
/// jcberquist/aws-cfml#12): every parameter of a SigV4 URL is signed, so removing the
/// added one makes the signature valid.
fn added_parameter(a: &Mismatch<'_>) -> Option<String> {
    let mut names: Vec<&str> = a
        .req
        .query
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !k.starts_with("X-Amz-"))
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let kept: Vec<(String, String)> = a
            .req
            .query
            .iter()
            .filter(|(k, _)| k != name)
            .cloned()
            .collect();
        let mut v = a.canonical.clone();
        v.query = canonical_query(&kept, Some("X-Amz-Signature"));
        if a.matches(&v, a.key) {
            let value = a.req.query_param(name).unwrap_or("");
            return Some(format!(
                "the signature is valid without the query parameter {name}={value:?}: it was added to the URL after it was signed; SigV4 signs every query parameter, so sign the URL with it (or leave it out)"
            ));
        }
    }
    None
}

/// A repeated query parameter signed with every value, as generic SigV4 would; S3 keeps
/// only the first value of each (aws-sdk-go#1495).
fn repeated_parameter(a: &Mismatch<'_>) -> Option<String> {
    let q = &a.req.query;
    let repeated: Vec<&str> = q
        .iter()
        .enumerate()
        .filter(|(i, (k, _))| q[..*i].iter().any(|(seen, _)| seen == k))
        .map(|(_, (k, _))| k.as_str())
        .collect();
    if repeated.is_empty() {
        return None;
    }
    let mut pairs: Vec<(String, String)> = q
        .iter()
        .filter(|(k, _)| k != "X-Amz-Signature")
        .map(|(k, v)| (uri_encode(k).into_owned(), uri_encode(v).into_owned()))
        .collect();
    pairs.sort_unstable();
    let mut v = a.canonical.clone();
    v.query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    a.matches(&v, a.key).then(|| {
        format!(
            "the signature is valid with every value of the repeated query parameter {}: S3 signs only the first value of a repeated parameter, so send each parameter once",
            repeated[0]
        )
    })
}
