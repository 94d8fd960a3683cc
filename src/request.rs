//! The request as it came off the wire: method, raw and decoded path, query parameters in
//! wire order, headers, and the request id every response carries.
//!
//! Signatures are computed over what the client sent, so the raw forms are kept beside the
//! decoded ones; nothing here interprets S3 semantics.

use http::{HeaderMap, Method};
use percent_encoding::percent_decode;

use crate::error::{S3Error, S3ErrorCode};

/// A parsed request head.
#[derive(Debug, Clone)]
pub struct S3Request {
    pub method: Method,
    /// The path exactly as sent (percent-encoded).
    pub raw_path: String,
    /// The query string exactly as sent, without `?`.
    pub raw_query: String,
    /// Decoded `(name, value)` pairs in wire order (`+` is a space, as S3 decodes it).
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub request_id: String,
}

impl S3Request {
    pub fn new(
        method: Method,
        raw_path: &str,
        raw_query: Option<&str>,
        headers: HeaderMap,
        request_id: String,
    ) -> Result<Self, S3Error> {
        let raw_query = raw_query.unwrap_or("").to_string();
        let query = parse_query(&raw_query)?;
        Ok(S3Request {
            method,
            raw_path: raw_path.to_string(),
            raw_query,
            query,
            headers,
            request_id,
        })
    }

    /// The first value of query parameter `name` (names are case-sensitive in S3).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has_query(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }

    /// A header's value when it is visible ASCII (every header S3 parses: dates, hashes,
    /// lengths, algorithms); `None` for a value with other bytes.
    /// Takes a [`crate::header_names`] constant where the request path calls it.
    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A header's value as text whatever its bytes, for values S3 stores and returns
    /// (Content-Disposition, metadata): never dropped. See [`header_value_text`].
    pub fn header_text(
        &self,
        name: impl http::header::AsHeaderName,
    ) -> Option<std::borrow::Cow<'_, str>> {
        self.headers
            .get(name)
            .map(|v| header_value_text(v.as_bytes()))
    }

    /// Whether any header's name starts with `prefix` (lower-case): one pass over the
    /// request's few headers, where looking up each of a family's names (every checksum,
    /// every grant) would parse and hash each name.
    pub fn has_header_prefix(&self, prefix: &str) -> bool {
        self.headers.keys().any(|k| k.as_str().starts_with(prefix))
    }

    /// The first of `names` (lower-case, in their order) the request carries, by
    /// comparing with its few header names rather than hashing each of `names`.
    pub fn first_header_of<'n>(&self, names: &[&'n str]) -> Option<&'n str> {
        names
            .iter()
            .find(|n| self.headers.keys().any(|k| k.as_str() == **n))
            .copied()
    }

    /// Total bytes of the header section, for the `RequestHeaderSectionTooLarge` limit.
    pub fn header_bytes(&self) -> usize {
        self.headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum()
    }
}

/// Form encoding as S3's Java side writes it (space as `+`, `/` as `%2F`): the keys of
/// `encoding-type=url` listings (botocore decodes them with `unquote_plus`) and the
/// `<Location>` of a POST upload's response (`…/bucket/prefix%2Fmy+photo.png`, as real
/// S3 bodies in ceph#20330 and s3_direct_upload#189 show).
pub fn form_encode(s: &str) -> String {
    encode_form_style(s, false)
}

/// The encoding of `encoding-type=url` listings: [`form_encode`] with `/` left as it is.
/// Measured against S3 (brekkylab/backlot#178): `a b.txt` → `a+b.txt`, `a+b.txt` →
/// `a%2Bb.txt`, `100%.csv` → `100%25.csv`, `한글/x.txt` → `%ED%95%9C%EA%B8%80/x.txt`, a
/// common prefix `run+books/`; "'/' is not encoded in a real S3 listing" (ceph/s3-tests#478);
/// MinIO's `s3URLEncode` agrees. botocore decodes these with `unquote_plus`.
pub fn listing_encode(s: &str) -> String {
    encode_form_style(s, true)
}

fn encode_form_style(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Header bytes as text: UTF-8 when they are (what the JS and Rust SDKs send), else each
/// byte as its Latin-1 character (what Python's http.client sends for non-ASCII).
pub fn header_value_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// Decodes one percent-encoded component (a path or a query name or value) into UTF-8.
/// A raw `+` is a space in paths and queries alike, as S3 reads URLs (s3cmd#554); `%2B`
/// is a `+`. Invalid escapes or UTF-8 → `InvalidURI`, what S3 answers for a URI it
/// cannot parse.
pub fn decode_component(raw: &str) -> Result<String, S3Error> {
    let bytes = raw.as_bytes();
    // Most components (a presigned URL's algorithm, date, signature) need no decoding.
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Ok(raw.to_owned());
    }
    // percent_decode passes malformed escapes through; S3 refuses them.
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok = bytes.len() >= i + 3
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit();
            if !ok {
                return Err(invalid_uri(format!("malformed percent-escape in {raw:?}")));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    let decoded: std::borrow::Cow<'_, [u8]> = if raw.contains('+') {
        let replaced = raw.replace('+', " ");
        percent_decode(replaced.as_bytes())
            .collect::<Vec<u8>>()
            .into()
    } else {
        percent_decode(bytes).into()
    };
    String::from_utf8(decoded.into_owned())
        .map_err(|_| invalid_uri(format!("{raw:?} does not decode to UTF-8")))
}

fn invalid_uri(reason: String) -> S3Error {
    S3Error::new(S3ErrorCode::InvalidURI).reason(reason)
}

/// Splits a raw query string into decoded pairs, keeping wire order and duplicates.
pub fn parse_query(raw: &str) -> Result<Vec<(String, String)>, S3Error> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            // By byte: `split_once(char)` runs a char searcher, slower on these short
            // strings (callgrind).
            let (k, v) = match pair.bytes().position(|b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, ""),
            };
            Ok((decode_component(k)?, decode_component(v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keeps_order_duplicates_and_decodes_plus_as_space() {
        let q = parse_query("b=2&a=x+y%2Bz&lifecycle&b=1&=&").unwrap();
        assert_eq!(
            q,
            vec![
                ("b".into(), "2".into()),
                ("a".into(), "x y+z".into()),
                ("lifecycle".into(), "".into()),
                ("b".into(), "1".into()),
                ("".into(), "".into()),
            ]
        );
    }

    #[test]
    fn header_families_are_found_by_prefix_and_in_the_order_asked() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-grant-read", "id=1".parse().unwrap());
        headers.insert("x-amz-website-redirect-location", "/x".parse().unwrap());
        headers.insert("x-amz-object-lock-mode", "GOVERNANCE".parse().unwrap());
        let req = S3Request::new(Method::PUT, "/b/k", None, headers, "id".into()).unwrap();
        assert!(req.has_header_prefix("x-amz-grant-"));
        assert!(!req.has_header_prefix("x-amz-checksum-"));
        let names = ["x-amz-object-lock-mode", "x-amz-website-redirect-location"];
        assert_eq!(req.first_header_of(&names), Some("x-amz-object-lock-mode"));
        assert_eq!(req.first_header_of(&names[1..]), Some(names[1]));
        assert_eq!(req.first_header_of(&["x-amz-acl"]), None);
    }

    #[test]
    fn header_text_keeps_non_ascii() {
        assert_eq!(header_value_text("caf\u{e9}".as_bytes()), "caf\u{e9}");
        assert_eq!(header_value_text(b"caf\xe9"), "caf\u{e9}");
    }

    #[test]
    fn bad_escapes_and_bad_utf8_are_invalid_uri() {
        for bad in ["%", "%4", "%zz", "a%ff", "%c3%28"] {
            let e = decode_component(bad).unwrap_err();
            assert_eq!(e.code, S3ErrorCode::InvalidURI, "{bad}");
        }
        assert_eq!(decode_component("a+b%20c%2B").unwrap(), "a b c+");
        assert_eq!(decode_component("%E2%9C%93").unwrap(), "\u{2713}");
    }
}
