//! The SigV4 canonical request and string to sign, as pure values with `Display`.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>:
//! ```text
//! Method \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//! ```
//! For S3 the URI is encoded once (no path normalisation: `//` and `..` stay), query
//! parameters are sorted by encoded name then value, header values are trimmed with inner
//! runs of spaces folded. No I/O and no clock here, so tests can check each stage alone.

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
pub fn uri_encode(s: &str) -> String {
    utf8_percent_encode(s, STRICT).to_string()
}

/// AWS's `UriEncode` of a path, keeping `/`.
pub fn uri_encode_path(s: &str) -> String {
    utf8_percent_encode(s, PATH).to_string()
}

/// The canonical URI of a raw request path: decoded (a raw `+` is a space, as S3 reads
/// it), then encoded once the AWS way, so a client that sent `$` raw and one that sent
/// `%24` sign the same thing.
pub fn canonical_uri(raw_path: &str) -> String {
    match decode_component(raw_path) {
        Ok(decoded) => uri_encode_path(&decoded),
        // Addressing has already refused undecodable paths; keep the raw form otherwise.
        Err(_) => raw_path.to_string(),
    }
}

/// The canonical query string: every parameter except `skip`, encoded, sorted by name and
/// then value, `name=value` joined by `&` (a parameter without `=` gets an empty value).
pub fn canonical_query(query: &[(String, String)], skip: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| Some(k.as_str()) != skip)
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
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
/// runs of spaces folded to one. An absent header is the empty string.
pub fn canonical_header_value(req: &S3Request, name: &str) -> String {
    let mut out = String::new();
    for (i, v) in req.headers.get_all(name).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let text = String::from_utf8_lossy(v.as_bytes());
        let mut last_space = false;
        for c in text.trim().chars() {
            if c == ' ' || c == '\t' {
                if !last_space {
                    out.push(' ');
                }
                last_space = true;
            } else {
                out.push(c);
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
    /// `(name, canonical value)` for each signed header, in SignedHeaders order.
    pub headers: Vec<(&'a str, String)>,
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
}

impl fmt::Display for CanonicalRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}\n{}\n", self.method, self.uri, self.query)?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}:{value}")?;
        }
        write!(f, "\n{}\n{}", self.signed_headers, self.payload_hash)
    }
}

/// `AWS4-HMAC-SHA256 \n date \n scope \n hex(sha256(canonical request))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringToSign<'a> {
    pub amz_date: &'a str,
    pub scope: &'a str,
    pub canonical_request_hash: [u8; 32],
}

impl fmt::Display for StringToSign<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AWS4-HMAC-SHA256\n{}\n{}\n", self.amz_date, self.scope)?;
        for b in self.canonical_request_hash {
            write!(f, "{b:02x}")?;
        }
        Ok(())
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
    fn query_is_sorted_by_name_then_value_and_skips_the_signature() {
        let q =
            crate::request::parse_query("prefix=J&max-keys=2&b=2&b=1&X-Amz-Signature=x&lifecycle")
                .unwrap();
        assert_eq!(
            canonical_query(&q, Some("X-Amz-Signature")),
            "b=1&b=2&lifecycle=&max-keys=2&prefix=J"
        );
    }
}
