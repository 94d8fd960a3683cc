//! The aws-chunked decoder against AWS's worked example and hostile framing.

use super::*;
use crate::auth::signing::{derive_signing_key, hmac_sha256};
use crate::auth::sigv4::EMPTY_SHA256;

const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const SIGS: [&str; 3] = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
];

fn spec(signed: bool, trailer: bool) -> StreamingSpec {
    StreamingSpec {
        signed,
        trailer,
        signing_key: derive_signing_key(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "20130524",
            "us-east-1",
            "s3",
        ),
        amz_date: "20130524T000000Z".into(),
        scope: "20130524/us-east-1/s3/aws4_request".into(),
        seed_signature: Signature::from_hex(SEED).unwrap(),
    }
}

/// The documented example: 66560 bytes of 'a' as chunks of 65536, 1024 and 0.
fn documented_body(sigs: [&str; 3]) -> Vec<u8> {
    let mut b = Vec::new();
    for (size, sig) in [(65536usize, sigs[0]), (1024, sigs[1]), (0, sigs[2])] {
        b.extend_from_slice(format!("{size:x};chunk-signature={sig}\r\n").as_bytes());
        b.extend(std::iter::repeat_n(b'a', size));
        b.extend_from_slice(b"\r\n");
    }
    b
}

async fn run(
    body: Vec<u8>,
    piece: usize,
    spec: StreamingSpec,
    limits: DecodeLimits,
) -> Result<Vec<u8>, S3Error> {
    let chunks = body.chunks(piece).map(Bytes::copy_from_slice).collect();
    let mut s = decode(crate::body::from_chunks(chunks), spec, limits);
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c?);
    }
    Ok(out)
}

#[tokio::test]
async fn decodes_and_verifies_the_documented_example_in_any_split() {
    for piece in [1, 7, 8192, 100_000] {
        let out = run(
            documented_body(SIGS),
            piece,
            spec(true, false),
            DecodeLimits {
                decoded_length: Some(66560),
                trailer_checksum: None,
                trailing: Default::default(),
            },
        )
        .await
        .unwrap();
        assert_eq!(out.len(), 66560);
        assert!(out.iter().all(|b| *b == b'a'));
    }
}

#[tokio::test]
async fn rejects_tampering_truncation_and_length_mismatch() {
    let mut bad = SIGS;
    bad[1] = SIGS[0];
    let e = run(
        documented_body(bad),
        4096,
        spec(true, false),
        DecodeLimits::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, S3ErrorCode::SignatureDoesNotMatch);

    let mut body = documented_body(SIGS);
    body[60_000] = b'b';
    let e = run(body, 4096, spec(true, false), DecodeLimits::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, S3ErrorCode::SignatureDoesNotMatch);

    let body = documented_body(SIGS);
    let e = run(
        body[..40_000].to_vec(),
        4096,
        spec(true, false),
        DecodeLimits::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, S3ErrorCode::IncompleteBody);

    let e = run(
        documented_body(SIGS),
        4096,
        spec(true, false),
        DecodeLimits {
            decoded_length: Some(66561),
            trailer_checksum: None,
            trailing: Default::default(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, S3ErrorCode::IncompleteBody);

    let e = run(
        b"zz\r\n".to_vec(),
        4096,
        spec(false, true),
        DecodeLimits::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, S3ErrorCode::IncompleteBody);
}

/// Signs chunks the documented way, to build bodies the worked example does not cover.
fn signed_chunks(sizes: &[usize]) -> Vec<u8> {
    let sp = spec(true, false);
    let mut prev = SEED.to_string();
    let mut body = Vec::new();
    for &size in sizes {
        let data = vec![b'z'; size];
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{prev}\n{EMPTY_SHA256}\n{}",
            sp.amz_date,
            sp.scope,
            hex::encode(Sha256::digest(&data))
        );
        let sig = hex::encode(hmac_sha256(&sp.signing_key, sts.as_bytes()));
        body.extend_from_slice(format!("{size:x};chunk-signature={sig}\r\n").as_bytes());
        body.extend_from_slice(&data);
        body.extend_from_slice(b"\r\n");
        prev = sig;
    }
    body
}

#[tokio::test]
async fn only_the_last_signed_chunk_may_be_under_8_kib() {
    // 8192 then 100 then the final 0: fine.
    let ok = signed_chunks(&[8192, 100, 0]);
    assert_eq!(
        run(ok, 1000, spec(true, false), DecodeLimits::default())
            .await
            .unwrap()
            .len(),
        8292
    );
    // 100 then 8192: the small chunk was not the last.
    let bad = signed_chunks(&[100, 8192, 0]);
    let e = run(bad, 1000, spec(true, false), DecodeLimits::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, S3ErrorCode::InvalidChunkSizeError);
    assert_eq!(
        e.extra,
        vec![
            ("Chunk", "1".to_string()),
            ("BadChunkSize", "100".to_string())
        ]
    );
}

#[tokio::test]
async fn unsigned_trailer_with_checksum() {
    let mut h = ChecksumAlgorithm::Crc32.hasher();
    h.update(b"hello world");
    let crc = h.finish();
    let body = format!("b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n");
    let limits = DecodeLimits {
        decoded_length: Some(11),
        trailer_checksum: Some(ChecksumAlgorithm::Crc32),
        trailing: Default::default(),
    };
    let out = run(body.into_bytes(), 3, spec(false, true), limits.clone())
        .await
        .unwrap();
    assert_eq!(out, b"hello world");
    let mut attrs = crate::storage::ObjectAttrs::default();
    attrs.extra.extend(limits.trailing.take());
    assert_eq!(
        attrs.extra.get("x-amz-checksum-crc32"),
        Some(&crc),
        "the verified trailer is recorded"
    );

    let bad = "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
    let e = run(
        bad.as_bytes().to_vec(),
        3,
        spec(false, true),
        limits.clone(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, S3ErrorCode::BadDigest);

    let missing = "b\r\nhello world\r\n0\r\n\r\n";
    let e = run(missing.as_bytes().to_vec(), 3, spec(false, true), limits)
        .await
        .unwrap_err();
    assert_eq!(e.code, S3ErrorCode::MalformedTrailerError);
}
