//! The SigV4 canonical request, as a pure value with `Display` and a byte form.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>:
//! ```text
//! Method \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//! ```
//! For S3 the URI is encoded once (no path normalisation: `//` and `..` stay), query
//! parameters are sorted by encoded name then value, header values are trimmed with inner
//! runs of spaces folded. No I/O and no clock here, so tests can check each stage alone.

use std::borrow::Cow;
use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::request::{S3Request, decode_component};

/// RFC 3986 unreserved characters stay; everything else is `%XX` (uppercase hex).
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// Paths keep their `/` separators.
const PATH: &AsciiSet = &STRICT.remove(b'/');

/// AWS's `UriEncode` of a query name or value.
///
/// Borrowed when nothing needs encoding (most names and values), and never through
/// `fmt`: this runs on every parameter of every signed request.
pub fn uri_encode(s: &str) -> Cow<'_, str> {
    utf8_percent_encode(s, STRICT).into()
}

/// AWS's `UriEncode` of a path, keeping `/`.
pub fn uri_encode_path(s: &str) -> Cow<'_, str> {
    utf8_percent_encode(s, PATH).into()
}

/// The canonical URI of a raw request path: decoded (a raw `+` is a space, as S3 reads
/// it), then encoded once the AWS way, so a client that sent `$` raw and one that sent
/// `%24` sign the same thing.
pub fn canonical_uri(raw_path: &str) -> String {
    match decode_component(raw_path) {
        Ok(decoded) => uri_encode_path(&decoded).into_owned(),
        // Addressing has already refused undecodable paths; keep the raw form otherwise.
        Err(_) => raw_path.to_string(),
    }
}

/// The canonical query string: every parameter except `skip`, encoded, sorted by name,
/// `name=value` joined by `&` (a parameter without `=` gets an empty value).
///
/// A repeated parameter counts once, with its first value: S3 departs from generic SigV4
/// here. Its own CanonicalRequest for `?b=1&a=2&a=1` reads `a=2&b=1` (a real
/// SignatureDoesNotMatch body in aws-sdk-go#1495), and a client that signed both
/// `versions` of `?versions&versions=` got SignatureDoesNotMatch (JuliaCloud/AWS.jl#699).
pub fn canonical_query(query: &[(String, String)], skip: Option<&str>) -> String {
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(query.len());
    for (i, (k, v)) in query.iter().enumerate() {
        if Some(k.as_str()) != skip && !query[..i].iter().any(|(seen, _)| seen == k) {
            pairs.push((uri_encode(k), uri_encode(v)));
        }
    }
    pairs.sort_unstable();
    let mut out = String::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// A header's canonical value: all its values joined by `,`, each trimmed, with inner
/// runs of spaces folded to one. An absent header is the empty string. Built over the
/// bytes received, never a lossy decoding of them: a signature over `caf\u{FFFD}` must
/// not verify a request that carries `caf\xFF`. (S3 itself computes over the bytes:
/// SDKs that sign the UTF-8 of a non-ASCII metadata value but send other bytes get
/// SignatureDoesNotMatch, aws/aws-sdk-js#820, aws/aws-sdk-net#1587.)
pub fn canonical_header_value(req: &S3Request, name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, v) in req.headers.get_all(name).iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let mut last_space = false;
        for &b in v.as_bytes().trim_ascii() {
            if b == b' ' || b == b'\t' {
                if !last_space {
                    out.push(b' ');
                }
                last_space = true;
            } else {
                out.push(b);
                last_space = false;
            }
        }
    }
    out
}

/// The canonical request of SigV4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalRequest<'a> {
    pub method: &'a str,
    pub uri: String,
    pub query: String,
    /// `(name, canonical value bytes)` for each signed header, in SignedHeaders order.
    pub headers: Vec<(&'a str, Vec<u8>)>,
    pub signed_headers: &'a str,
    pub payload_hash: &'a str,
}

impl<'a> CanonicalRequest<'a> {
    /// Builds it from the request; `skip_query` is `X-Amz-Signature` for presigned URLs.
    pub fn from_request(
        req: &'a S3Request,
        signed_headers: &'a str,
        payload_hash: &'a str,
        skip_query: Option<&str>,
    ) -> CanonicalRequest<'a> {
        CanonicalRequest {
            method: req.method.as_str(),
            uri: canonical_uri(&req.raw_path),
            query: canonical_query(&req.query, skip_query),
            headers: signed_headers
                .split(';')
                .map(|name| (name, canonical_header_value(req, name)))
                .collect(),
            signed_headers,
            payload_hash,
        }
    }

    /// Feeds the exact bytes that are hashed and signed to `sink`, piece by piece.
    pub fn write_bytes(&self, sink: &mut impl FnMut(&[u8])) {
        for part in [self.method, "\n", &self.uri, "\n", &self.query, "\n"] {
            sink(part.as_bytes());
        }
        for (name, value) in &self.headers {
            sink(name.as_bytes());
            sink(b":");
            sink(value);
            sink(b"\n");
        }
        for part in ["\n", self.signed_headers, "\n", self.payload_hash] {
            sink(part.as_bytes());
        }
    }

    /// The bytes themselves (for `CanonicalRequestBytes` in an error).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_bytes(&mut |b| out.extend_from_slice(b));
        out
    }

    /// SHA-256 of the canonical request's bytes, the third line of the string to sign.
    pub fn sha256(&self) -> [u8; 32] {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        self.write_bytes(&mut |b| hasher.update(b));
        hasher.finalize().into()
    }
}

/// The canonical request as text; a header value that is not UTF-8 shows its bytes with
/// U+FFFD (the hash is over [`CanonicalRequest::write_bytes`], never over this).
impl fmt::Display for CanonicalRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}\n{}\n", self.method, self.uri, self.query)?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}:{}", String::from_utf8_lossy(value))?;
        }
        write!(f, "\n{}\n{}", self.signed_headers, self.payload_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_aws_uri_encode() {
        assert_eq!(uri_encode("a b+c/d~e_f-g.h*"), "a%20b%2Bc%2Fd~e_f-g.h%2A");
        assert_eq!(uri_encode("\u{e9}"), "%C3%A9");
        assert_eq!(canonical_uri("/test$file.text"), "/test%24file.text");
        assert_eq!(canonical_uri("/test%24file.text"), "/test%24file.text");
        assert_eq!(canonical_uri("/a//b/../c"), "/a//b/../c");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/a+b%2Bc"), "/a%20b%2Bc");
    }

    #[test]
    fn query_is_sorted_by_name_and_skips_the_signature() {
        let q = crate::request::parse_query("prefix=J&max-keys=2&b=2&X-Amz-Signature=x&lifecycle")
            .unwrap();
        assert_eq!(
            canonical_query(&q, Some("X-Amz-Signature")),
            "b=2&lifecycle=&max-keys=2&prefix=J"
        );
    }

    /// S3's own canonical request for `?b=1&a=2&a=1` (aws-sdk-go#1495).
    #[test]
    fn a_repeated_parameter_counts_once_with_its_first_value() {
        let q = crate::request::parse_query("b=1&a=2&a=1").unwrap();
        assert_eq!(canonical_query(&q, None), "a=2&b=1");
        let q = crate::request::parse_query("versions&versions=&prefix=p").unwrap();
        assert_eq!(canonical_query(&q, None), "prefix=p&versions=");
    }
}
