//! Keys and signatures: SigV4 key derivation with a cache, HMAC helpers, and a
//! [`Signature`] type that can only be compared in constant time.
//!
//! Key derivation: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html>
//! `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.

use std::collections::HashMap;
use std::fmt;
use std::sync::RwLock;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 of a value's `Display` form, fed to the MAC as it is formatted: the
/// string to sign is never built as a `String` on the success path.
pub fn hmac_sha256_display(key: &[u8], value: &dyn fmt::Display) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    fmt::write(&mut MacWriter(&mut mac), format_args!("{value}")).expect("MAC writes never fail");
    mac.finalize().into_bytes().into()
}

/// SHA-256 of a value's `Display` form, without building the string.
pub fn sha256_display(value: &dyn fmt::Display) -> [u8; 32] {
    let mut hasher = Sha256::new();
    fmt::write(&mut DigestWriter(&mut hasher), format_args!("{value}"))
        .expect("digest writes never fail");
    hasher.finalize().into()
}

struct MacWriter<'a>(&'a mut HmacSha256);

impl fmt::Write for MacWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

struct DigestWriter<'a>(&'a mut Sha256);

impl fmt::Write for DigestWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

/// Derives the SigV4 signing key for one day, region and service.
pub fn derive_signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut k_secret = Vec::with_capacity(4 + secret.len());
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret.as_bytes());
    let k_date = hmac_sha256(&k_secret, date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// Derived keys by `access-key/date/region/service`. Four HMACs per request are saved;
/// the key is a slice of the credential the client sent, so a hit allocates nothing.
/// Bounded: when full it is emptied (entries are cheap to rebuild, and a day's traffic
/// uses a handful of scopes).
#[derive(Default)]
pub struct SigningKeyCache {
    keys: RwLock<HashMap<String, [u8; 32]>>,
}

const CACHE_CAPACITY: usize = 1024;

impl SigningKeyCache {
    /// `scope_key` must identify (access key, date, region, service): the credential up to
    /// its terminator.
    pub fn get(
        &self,
        scope_key: &str,
        secret: &str,
        date: &str,
        region: &str,
        service: &str,
    ) -> [u8; 32] {
        if let Some(k) = self
            .keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(scope_key)
        {
            return *k;
        }
        let key = derive_signing_key(secret, date, region, service);
        let mut map = self.keys.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CACHE_CAPACITY {
            map.clear();
        }
        map.insert(scope_key.to_string(), key);
        key
    }

    pub fn len(&self) -> usize {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A signature as raw bytes (32 for SigV4, 20 for SigV2). No `PartialEq`: the only
/// comparison is [`Signature::matches`], in constant time.
#[derive(Clone, Copy)]
pub struct Signature {
    bytes: [u8; 32],
    len: usize,
}

impl Signature {
    pub fn from_bytes(b: &[u8]) -> Option<Signature> {
        if b.len() > 32 {
            return None;
        }
        let mut bytes = [0u8; 32];
        bytes[..b.len()].copy_from_slice(b);
        Some(Signature {
            bytes,
            len: b.len(),
        })
    }

    /// Parses a SigV2 signature as sent (base64). Anything else is `None`: it cannot match.
    pub fn from_base64(s: &str) -> Option<Signature> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
        Signature::from_bytes(&bytes)
    }

    /// Parses 64 lowercase hex digits (SigV4). Anything else is `None`: it cannot match.
    pub fn from_hex(s: &str) -> Option<Signature> {
        if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s, &mut bytes).ok()?;
        Some(Signature { bytes, len: 32 })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Constant-time comparison, so response timing says nothing about how much of a
    /// forged signature was right.
    pub fn matches(&self, other: &Signature) -> bool {
        self.len == other.len && bool::from(self.as_bytes().ct_eq(other.as_bytes()))
    }
}

impl From<[u8; 32]> for Signature {
    fn from(bytes: [u8; 32]) -> Self {
        Signature { bytes, len: 32 }
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, self.as_bytes())
    }
}

/// Lower-case hex of at most 32 bytes (a hash, a signature) in one `write_str`.
///
/// Why not `{b:02x}` per byte: that is 32 trips through `fmt`'s padding code, and the
/// string to sign of every request and every aws-chunked chunk carries a hash written
/// this way (it was 13 % of the instructions of a presigned GET under callgrind).
pub(crate) fn write_hex(f: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    let mut buf = [0u8; 64];
    let bytes = &bytes[..bytes.len().min(32)];
    let out = &mut buf[..bytes.len() * 2];
    hex::encode_to_slice(bytes, out).map_err(|_| fmt::Error)?;
    // hex digits are ASCII.
    f.write_str(std::str::from_utf8(out).map_err(|_| fmt::Error)?)
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_documented_signing_key() {
        // AWS SigV4 docs example: secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
        // 20120215/us-east-1/iam.
        let k = derive_signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(k),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn cache_returns_the_same_key_and_stays_bounded() {
        let c = SigningKeyCache::default();
        let a = c.get(
            "AK/20130524/us-east-1/s3",
            "s",
            "20130524",
            "us-east-1",
            "s3",
        );
        let b = c.get(
            "AK/20130524/us-east-1/s3",
            "s",
            "20130524",
            "us-east-1",
            "s3",
        );
        assert_eq!(a, b);
        assert_eq!(c.len(), 1);
        for i in 0..(CACHE_CAPACITY + 5) {
            c.get(&format!("k{i}"), "s", "20130524", "us-east-1", "s3");
        }
        assert!(c.len() <= CACHE_CAPACITY);
    }

    #[test]
    fn signatures_compare_by_value_and_length() {
        let a = Signature::from_hex(&"ab".repeat(32)).unwrap();
        let b = Signature::from_hex(&"ab".repeat(32)).unwrap();
        let c = Signature::from_hex(&"ac".repeat(32)).unwrap();
        assert!(a.matches(&b));
        assert!(!a.matches(&c));
        assert!(Signature::from_hex("abc").is_none());
        assert!(Signature::from_hex(&"AB".repeat(32)).is_none());
        let short = Signature::from_bytes(&[0xab; 20]).unwrap();
        assert!(!a.matches(&short));
        assert_eq!(a.to_string(), "ab".repeat(32));
    }

    #[test]
    fn display_hashing_equals_hashing_the_string() {
        let s = "line1\nline2";
        assert_eq!(
            sha256_display(&s),
            <[u8; 32]>::from(Sha256::digest(s.as_bytes()))
        );
        assert_eq!(
            hmac_sha256_display(b"k", &s),
            hmac_sha256(b"k", s.as_bytes())
        );
    }
}
