//! SigV4, in one place: the canonical request ([`CanonicalRequest`]), the four strings
//! to sign ([`StringToSign`]: a request, an aws-chunked chunk, its trailer, a POST
//! policy) as typed values, and [`sign`], the one function that turns a string to sign
//! into a signature. The server's checks, the mismatch diagnosis, `presign` and
//! `explain` all sign through it, so what one produces the others verify.
//!
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html>;
//! chunks and trailers: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>;
//! POST: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-post-example.html>.

mod canonical;

use std::fmt;

pub use canonical::{
    CanonicalRequest, canonical_query, canonical_uri, uri_encode, uri_encode_path,
};

pub use super::signing::derive_signing_key;
use super::signing::{Signature, hmac_sha256_display};

/// SHA-256 of nothing, the hash every chunk's string to sign carries in place of headers.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// What a SigV4 signature is computed over.
#[derive(Debug, Clone, Copy)]
pub enum StringToSign<'a> {
    /// `AWS4-HMAC-SHA256 \n date \n scope \n hex(sha256(canonical request))`.
    Request {
        amz_date: &'a str,
        scope: &'a str,
        canonical_request_hash: [u8; 32],
    },
    /// `AWS4-HMAC-SHA256-PAYLOAD \n date \n scope \n previous signature \n
    /// hex(sha256("")) \n hex(sha256(chunk data))`.
    Chunk {
        amz_date: &'a str,
        scope: &'a str,
        previous: Signature,
        chunk_hash: [u8; 32],
    },
    /// `AWS4-HMAC-SHA256-TRAILER \n date \n scope \n previous signature \n
    /// hex(sha256(trailing headers))`.
    Trailer {
        amz_date: &'a str,
        scope: &'a str,
        previous: Signature,
        trailer_hash: [u8; 32],
    },
    /// A POST form signs its base64 policy text exactly as sent.
    Policy(&'a str),
}

/// The signature of `sts` under a derived signing key. The string to sign is fed to the
/// MAC as it is formatted: on the success path it is never built as a `String`.
pub fn sign(signing_key: &[u8; 32], sts: &StringToSign<'_>) -> Signature {
    Signature::from(hmac_sha256_display(signing_key, sts))
}

fn hex(f: &mut fmt::Formatter<'_>, bytes: &[u8; 32]) -> fmt::Result {
    super::signing::write_hex(f, bytes)
}

impl fmt::Display for StringToSign<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StringToSign::Request {
                amz_date,
                scope,
                canonical_request_hash,
            } => {
                write!(f, "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n")?;
                hex(f, canonical_request_hash)
            }
            StringToSign::Chunk {
                amz_date,
                scope,
                previous,
                chunk_hash,
            } => {
                write!(
                    f,
                    "AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY_SHA256}\n"
                )?;
                hex(f, chunk_hash)
            }
            StringToSign::Trailer {
                amz_date,
                scope,
                previous,
                trailer_hash,
            } => {
                write!(
                    f,
                    "AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n"
                )?;
                hex(f, trailer_hash)
            }
            StringToSign::Policy(policy) => f.write_str(policy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AWS streaming example (sigv4-streaming.html): the seed signature, then the
    /// first 64 KiB chunk of 'a's.
    #[test]
    fn chunk_string_to_sign_matches_the_documented_example() {
        use sha2::{Digest, Sha256};
        let key = derive_signing_key(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "20130524",
            "us-east-1",
            "s3",
        );
        let seed =
            Signature::from_hex("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
                .unwrap();
        let sts = StringToSign::Chunk {
            amz_date: "20130524T000000Z",
            scope: "20130524/us-east-1/s3/aws4_request",
            previous: seed,
            chunk_hash: Sha256::digest(vec![b'a'; 65536]).into(),
        };
        assert_eq!(
            sign(&key, &sts).to_string(),
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
        );
        assert!(
            sts.to_string()
                .starts_with("AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n")
        );
        assert_eq!(StringToSign::Policy("eyJ9").to_string(), "eyJ9");
    }
}
