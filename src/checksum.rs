//! Flexible checksums (`x-amz-checksum-*`): CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256,
//! computed as bytes pass and compared with what the client declared.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>.
//! Values on the wire are base64 of the big-endian digest. A mismatch is `BadDigest`
//! with "The CRC32 you specified did not match the calculated checksum." (real body in
//! aws-sdk-rust#1240).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use crc_fast::{CrcAlgorithm, Digest as CrcDigest};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::{S3Error, S3ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

pub const ALL: [ChecksumAlgorithm; 5] = [
    ChecksumAlgorithm::Crc32,
    ChecksumAlgorithm::Crc32c,
    ChecksumAlgorithm::Crc64Nvme,
    ChecksumAlgorithm::Sha1,
    ChecksumAlgorithm::Sha256,
];

impl ChecksumAlgorithm {
    /// `CRC32`, as in `x-amz-sdk-checksum-algorithm` and error messages.
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// `x-amz-checksum-crc32`.
    pub fn header(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    pub fn from_header(name: &str) -> Option<Self> {
        ALL.into_iter()
            .find(|a| a.header().eq_ignore_ascii_case(name))
    }

    pub fn from_name(name: &str) -> Option<Self> {
        ALL.into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Crc64Nvme => 8,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }

    pub fn hasher(self) -> ChecksumHasher {
        match self {
            ChecksumAlgorithm::Crc32 => {
                ChecksumHasher::Crc(self, CrcDigest::new(CrcAlgorithm::Crc32IsoHdlc))
            }
            ChecksumAlgorithm::Crc32c => {
                ChecksumHasher::Crc(self, CrcDigest::new(CrcAlgorithm::Crc32Iscsi))
            }
            ChecksumAlgorithm::Crc64Nvme => {
                ChecksumHasher::Crc(self, CrcDigest::new(CrcAlgorithm::Crc64Nvme))
            }
            ChecksumAlgorithm::Sha1 => ChecksumHasher::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => ChecksumHasher::Sha256(Sha256::new()),
        }
    }

    /// A declared value must be base64 of the right length, else `InvalidRequest` as S3
    /// answers for a malformed checksum header ("Value for x-amz-checksum-crc32 header is
    /// invalid.", or "… trailing header …" for a trailer: versitygw#1173's captures).
    pub fn check_value(self, value: &str) -> Result<(), S3Error> {
        self.check_value_in(value, "header")
    }

    pub fn check_trailer_value(self, value: &str) -> Result<(), S3Error> {
        self.check_value_in(value, "trailing header")
    }

    fn check_value_in(self, value: &str, place: &str) -> Result<(), S3Error> {
        match BASE64.decode(value) {
            Ok(b) if b.len() == self.digest_len() => Ok(()),
            _ => Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                format!("Value for {} {place} is invalid.", self.header()),
            )
            .reason(format!(
                "{value:?} is not the base64 of a {}-byte {} value",
                self.digest_len(),
                self.name()
            ))),
        }
    }

    /// `BadDigest` for a value that does not match the bytes received.
    pub fn mismatch(self, declared: &str, computed: &str) -> S3Error {
        S3Error::with_message(
            S3ErrorCode::BadDigest,
            format!(
                "The {} you specified did not match the calculated checksum.",
                self.name()
            ),
        )
        .reason(format!(
            "{} declared {declared}, the body received hashes to {computed}",
            self.header()
        ))
    }
}

/// A composite checksum: the algorithm applied to the concatenated binary checksums of
/// the parts (the caller appends `-N`). `None` if a value is not base64.
pub fn composite<'a>(
    alg: ChecksumAlgorithm,
    parts: impl Iterator<Item = &'a str>,
) -> Option<String> {
    let mut h = alg.hasher();
    for v in parts {
        h.update(&BASE64.decode(v).ok()?);
    }
    Some(h.finish())
}

/// A full-object CRC combined from the parts' CRCs and lengths, without rereading the
/// bytes. Only the CRC algorithms can be combined; `None` otherwise.
pub fn combine_full(alg: ChecksumAlgorithm, parts: &[(String, u64)]) -> Option<String> {
    let crc = match alg {
        ChecksumAlgorithm::Crc32 => CrcAlgorithm::Crc32IsoHdlc,
        ChecksumAlgorithm::Crc32c => CrcAlgorithm::Crc32Iscsi,
        ChecksumAlgorithm::Crc64Nvme => CrcAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => return None,
    };
    let mut acc: Option<u64> = None;
    for (value, len) in parts {
        let bytes = BASE64.decode(value).ok()?;
        let v = bytes.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b));
        acc = Some(match acc {
            None => v,
            Some(a) => crc_fast::checksum_combine(crc, a, v, *len),
        });
    }
    let v = acc?;
    Some(if alg == ChecksumAlgorithm::Crc64Nvme {
        BASE64.encode(v.to_be_bytes())
    } else {
        BASE64.encode((v as u32).to_be_bytes())
    })
}

/// Checks the body against a declared `x-amz-checksum-*` value as it streams.
pub fn checked_body(
    body: crate::body::ByteStream,
    alg: ChecksumAlgorithm,
    declared: String,
) -> crate::body::ByteStream {
    crate::body::checked(
        body,
        (alg, alg.hasher(), declared),
        |(_, h, _), chunk| h.update(chunk),
        |(alg, h, declared)| {
            let computed = h.finish();
            if computed == declared {
                Ok(())
            } else {
                Err(alg.mismatch(&declared, &computed))
            }
        },
    )
}

/// Computes a checksum the client did not send (a multipart upload's algorithm) as the
/// body streams, recording it for the store once the body has ended.
pub fn recorded_body(
    body: crate::body::ByteStream,
    alg: ChecksumAlgorithm,
    record: TrailingAttrs,
) -> crate::body::ByteStream {
    crate::body::checked(
        body,
        (alg, alg.hasher(), record),
        |(_, h, _), chunk| h.update(chunk),
        |(alg, h, record)| {
            record.record(alg.header(), &h.finish());
            Ok(())
        },
    )
}

/// A running checksum.
pub enum ChecksumHasher {
    Crc(ChecksumAlgorithm, CrcDigest),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl ChecksumHasher {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            ChecksumHasher::Crc(_, d) => d.update(data),
            ChecksumHasher::Sha1(h) => h.update(data),
            ChecksumHasher::Sha256(h) => h.update(data),
        }
    }

    /// The base64 value as S3 prints it.
    pub fn finish(self) -> String {
        match self {
            ChecksumHasher::Crc(ChecksumAlgorithm::Crc64Nvme, d) => {
                BASE64.encode(d.finalize().to_be_bytes())
            }
            ChecksumHasher::Crc(_, d) => BASE64.encode((d.finalize() as u32).to_be_bytes()),
            ChecksumHasher::Sha1(h) => BASE64.encode(h.finalize()),
            ChecksumHasher::Sha256(h) => BASE64.encode(h.finalize()),
        }
    }
}

/// Properties known only once the whole body has been read: a checksum sent as an
/// aws-chunked trailer. The body's decoder records them just before its stream ends
/// successfully; the store applies them after the last byte, before the object becomes
/// visible, so they are stored and returned like any header-declared property.
#[derive(Clone, Debug, Default)]
pub struct TrailingAttrs(std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>);

impl TrailingAttrs {
    pub fn record(&self, name: &str, value: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((name.to_string(), value.to_string()));
    }

    /// Takes what was recorded (the store adds it to the object's attributes).
    pub fn take(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(a: ChecksumAlgorithm, data: &[u8]) -> String {
        let mut h = a.hasher();
        h.update(data);
        h.finish()
    }

    #[test]
    fn known_values() {
        // Values the AWS SDKs compute for "Hello world" / the empty body.
        assert_eq!(of(ChecksumAlgorithm::Crc32, b""), "AAAAAA==");
        assert_eq!(
            of(ChecksumAlgorithm::Crc32, b"123456789"),
            BASE64.encode(0xCBF43926u32.to_be_bytes())
        );
        assert_eq!(
            of(ChecksumAlgorithm::Crc32c, b"123456789"),
            BASE64.encode(0xE3069283u32.to_be_bytes())
        );
        assert_eq!(
            of(ChecksumAlgorithm::Crc64Nvme, b"123456789"),
            BASE64.encode(0xAE8B14860A799888u64.to_be_bytes())
        );
        assert_eq!(
            of(ChecksumAlgorithm::Sha1, b"abc"),
            "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="
        );
        assert_eq!(
            of(ChecksumAlgorithm::Sha256, b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn checks_declared_values() {
        assert!(ChecksumAlgorithm::Crc32.check_value("AAAAAA==").is_ok());
        assert_eq!(
            ChecksumAlgorithm::Crc32
                .check_value("nope")
                .unwrap_err()
                .code,
            S3ErrorCode::InvalidRequest
        );
        assert_eq!(
            ChecksumAlgorithm::from_header("X-Amz-Checksum-CRC32C"),
            Some(ChecksumAlgorithm::Crc32c)
        );
        let e = ChecksumAlgorithm::Crc32.mismatch("a", "b");
        assert_eq!(e.code, S3ErrorCode::BadDigest);
        assert_eq!(
            e.message,
            "The CRC32 you specified did not match the calculated checksum."
        );
    }
}
