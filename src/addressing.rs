//! Which bucket and key a request addresses: path-style (`/bucket/key`) or
//! virtual-hosted-style (`bucket.localhost:9000/key`), and S3's naming rules for both.
//!
//! Bucket rules: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>.
//! Key rules: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html>
//! (any UTF-8, at most 1024 bytes).

use crate::error::{S3Error, S3ErrorCode};
use crate::request::{S3Request, decode_component};

/// How the bucket was named in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Path,
    VirtualHosted,
}

/// What the request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The service: ListBuckets.
    Root,
    Bucket(String),
    Object {
        bucket: String,
        key: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub style: Style,
    pub target: Target,
    /// The region of the bucket the request names, when that bucket exists: the
    /// service looks it up after addressing, and authentication checks the credential
    /// scope against it.
    pub region: Option<String>,
}

impl Address {
    pub fn bucket(&self) -> Option<&str> {
        match &self.target {
            Target::Root => None,
            Target::Bucket(b) | Target::Object { bucket: b, .. } => Some(b),
        }
    }

    pub fn key(&self) -> Option<&str> {
        match &self.target {
            Target::Object { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// The host name without its port, lowercased.
pub fn host_without_port(host: &str) -> String {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        // IPv6 literal: [::1]:9000
        rest.split(']').next().unwrap_or(rest)
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host, |(h, _)| h)
    };
    name.to_ascii_lowercase()
}

/// Resolves the request's target. `domains` are the base names under which
/// `<bucket>.<domain>` means virtual-hosted addressing.
pub fn resolve(
    req: &S3Request,
    domains: &[String],
    max_key_bytes: usize,
) -> Result<Address, S3Error> {
    let host = req
        .header(http::header::HOST)
        .map(host_without_port)
        .unwrap_or_default();
    let virtual_bucket = domains.iter().find_map(|d| {
        host.strip_suffix(d.as_str())
            .and_then(|rest| rest.strip_suffix('.'))
            .filter(|b| !b.is_empty())
            .map(str::to_string)
    });
    let path = req.raw_path.strip_prefix('/').unwrap_or(&req.raw_path);
    let (style, bucket, raw_key) = match virtual_bucket {
        Some(bucket) => (Style::VirtualHosted, Some(bucket), path),
        None if path.is_empty() => (Style::Path, None, ""),
        None => {
            let (b, k) = path.split_once('/').unwrap_or((path, ""));
            (Style::Path, Some(decode_component(b)?), k)
        }
    };
    let target = match bucket {
        None => Target::Root,
        Some(bucket) => {
            check_bucket_name(&bucket)?;
            // S3 reads a literal `+` in the path as a space (s3cmd#554: `/hello+world.html`
            // serves `hello world.html`; its CanonicalRequest shows `%20`). `%2B` is a `+`.
            let key = decode_component(raw_key)?;
            if key.is_empty() {
                Target::Bucket(bucket)
            } else {
                check_key(&key, max_key_bytes)?;
                Target::Object { bucket, key }
            }
        }
    };
    Ok(Address {
        style,
        target,
        region: None,
    })
}

/// `KeyTooLongError` past the limit (1024 bytes on S3).
pub fn check_key(key: &str, max_key_bytes: usize) -> Result<(), S3Error> {
    if key.len() > max_key_bytes {
        return Err(S3Error::new(S3ErrorCode::KeyTooLongError)
            .extra("Size", key.len().to_string())
            .extra("MaxSizeAllowed", max_key_bytes.to_string())
            .reason(format!(
                "the key is {} bytes of UTF-8; S3 allows at most {max_key_bytes}",
                key.len()
            )));
    }
    Ok(())
}

/// S3's general-purpose bucket naming rules; the reason names the rule that failed.
pub fn check_bucket_name(name: &str) -> Result<(), S3Error> {
    let fail = |why: &str| {
        Err(S3Error::new(S3ErrorCode::InvalidBucketName)
            .extra("BucketName", name)
            .reason(format!("bucket name {name:?} {why}")))
    };
    let bytes = name.as_bytes();
    if !(3..=63).contains(&bytes.len()) {
        return fail("must be between 3 and 63 characters long");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
    {
        return fail("may contain only lowercase letters, digits, dots and hyphens");
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return fail("must begin and end with a letter or digit");
    }
    if name.contains("..") {
        return fail("must not contain two adjacent periods");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return fail("must not be formatted as an IP address");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return fail(&format!("must not start with {prefix:?}"));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return fail(&format!("must not end with {suffix:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue, Method};

    fn req(host: &str, path: &str) -> S3Request {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_str(host).unwrap());
        S3Request::new(Method::GET, path, None, h, "r".into()).unwrap()
    }

    fn addr(host: &str, path: &str) -> Result<Address, S3Error> {
        resolve(&req(host, path), &["localhost".to_string()], 1024)
    }

    #[test]
    fn path_style_and_virtual_hosted_style() {
        assert_eq!(addr("127.0.0.1:9000", "/").unwrap().target, Target::Root);
        assert_eq!(
            addr("127.0.0.1:9000", "/bkt").unwrap().target,
            Target::Bucket("bkt".into())
        );
        assert_eq!(
            addr("127.0.0.1:9000", "/bkt/").unwrap().target,
            Target::Bucket("bkt".into())
        );
        assert_eq!(
            addr("127.0.0.1:9000", "/bkt/a/b%20c//d/").unwrap().target,
            Target::Object {
                bucket: "bkt".into(),
                key: "a/b c//d/".into()
            }
        );
        let v = addr("my.bkt.localhost:9000", "/x%2By+z").unwrap();
        assert_eq!(v.style, Style::VirtualHosted);
        assert_eq!(
            v.target,
            Target::Object {
                bucket: "my.bkt".into(),
                key: "x+y z".into()
            }
        );
        assert_eq!(addr("localhost:9000", "/bkt").unwrap().style, Style::Path);
        assert_eq!(addr("[::1]:9000", "/bkt").unwrap().style, Style::Path);
    }

    #[test]
    fn bucket_rules_and_key_length() {
        for bad in [
            "ab",
            "Abc",
            "a_b",
            "-ab",
            "ab-",
            "a..b",
            "192.168.1.1",
            "xn--ab",
            "ab-s3alias",
            "_strict",
        ] {
            assert_eq!(
                check_bucket_name(bad).unwrap_err().code,
                S3ErrorCode::InvalidBucketName,
                "{bad}"
            );
        }
        for good in ["abc", "a.b-c", "123", &"a".repeat(63)] {
            assert!(check_bucket_name(good).is_ok(), "{good}");
        }
        let long = format!("/bkt/{}", "k".repeat(1025));
        assert_eq!(
            addr("h", &long).unwrap_err().code,
            S3ErrorCode::KeyTooLongError
        );
        assert!(addr("h", &format!("/bkt/{}", "k".repeat(1024))).is_ok());
    }
}
