//! Property tests over the parts where one wrong case is a security bug: the key-to-path
//! mapping, the aws-chunked decoder, and SigV4 verification end to end. Bounded (a few
//! hundred cases each) so they run with the normal suite; `fuzz/run.sh` goes further.

mod common;

use std::path::{Component, Path};

use bytes::Bytes;
use hmac::{KeyInit, Mac};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use sha2::{Digest, Sha256};
use strict_s3::auth::chunked::DecodeLimits;
use strict_s3::error::S3ErrorCode;
use strict_s3::fuzzing::{decode_chunked, example_streaming_spec};
use strict_s3::storage::keymap::ObjectName;

use common::*;

/// `n` cases, and no failure files written into the source tree.
fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(n)
    }
}

// ---------------------------------------------------------------------------------------
// (a) The key mapping

/// Keys built from the pieces that break naive mappings: separators, dot segments, NUL,
/// non-ASCII, percent signs, long segments.
fn hostile_key() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("/".to_string()),
        Just("..".to_string()),
        Just(".".to_string()),
        Just("\0".to_string()),
        Just("\\".to_string()),
        Just("%2F".to_string()),
        Just("é".to_string()),
        "[a-z]{1,3}",
        "x{250,300}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}

/// Distinct keys never share a file, and every key's file is exactly `<fanout>/<file>`
/// under the objects directory: no key can reach another object's file or leave the
/// data directory, whatever it contains.
#[test]
fn key_mapping_is_injective_and_stays_inside_the_data_dir() {
    let mut runner = TestRunner::new(cases(256));
    let keys = prop::collection::hash_set(hostile_key(), 1..16);
    runner
        .run(&keys, |keys| {
            let root = Path::new("/srv/data/buckets/bkt/objects");
            let mut seen = std::collections::HashMap::new();
            for key in &keys {
                let name = ObjectName::of_key(key);
                let path = root.join(name.relative_path());
                let rel = path.strip_prefix(root).expect("under the root");
                let parts: Vec<Component<'_>> = rel.components().collect();
                prop_assert_eq!(parts.len(), 2, "{:?} → {:?}", key, path);
                prop_assert!(parts.iter().all(|c| matches!(c, Component::Normal(_))));
                prop_assert!(ObjectName::is_fanout_name(&name.fanout));
                prop_assert!(ObjectName::is_object_file_name(&name.file));
                if let Some(other) = seen.insert(path.clone(), key) {
                    return Err(TestCaseError::fail(format!(
                        "{other:?} and {key:?} share {path:?}"
                    )));
                }
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// (b) aws-chunked

const DATE: &str = "20130524T000000Z";
const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";
const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// An independent signer, from AWS's sigv4-streaming page: the signing key from the
/// secret, then each chunk signed over the previous signature and its data's SHA-256.
/// Returns the stream and where its signed parts are: `(span, is_signature)`.
fn signed_stream(body: &[u8], chunk: usize) -> (Vec<u8>, Vec<(std::ops::Range<usize>, bool)>) {
    let mut key = hmac(format!("AWS4{SK}").as_bytes(), b"20130524");
    for part in ["us-east-1", "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let mut prev = SEED.to_string();
    let (mut out, mut spans) = (Vec::new(), Vec::new());
    let mut chunks: Vec<&[u8]> = body.chunks(chunk).collect();
    chunks.push(&[]);
    for data in chunks {
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{DATE}\n{SCOPE}\n{prev}\n{EMPTY_SHA256}\n{}",
            hex::encode(Sha256::digest(data))
        );
        prev = hex::encode(hmac(&key, sts.as_bytes()));
        out.extend_from_slice(format!("{:x};chunk-signature=", data.len()).as_bytes());
        // The signature's 64 hex digits and the payload: the signed parts to tamper with.
        spans.push((out.len()..out.len() + 64, true));
        out.extend_from_slice(prev.as_bytes());
        out.extend_from_slice(b"\r\n");
        spans.push((out.len()..out.len() + data.len(), false));
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    (out, spans)
}

/// A body of `len` bytes from `seed` (cheaper than a strategy per byte).
fn body_of(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// `stream` cut at `cuts` (positions taken modulo its length).
fn pieces(stream: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    at.push(0);
    at.push(stream.len());
    at.sort_unstable();
    at.windows(2)
        .map(|w| Bytes::copy_from_slice(&stream[w[0]..w[1]]))
        .collect()
}

fn limits(len: usize) -> DecodeLimits {
    DecodeLimits {
        decoded_length: Some(len as u64),
        ..Default::default()
    }
}

/// However the network cuts a valid signed stream (mid-header, mid-signature, mid-CRLF,
/// empty pieces), the decoder yields exactly the body that was signed.
#[test]
fn any_split_of_a_signed_aws_chunked_stream_decodes_to_the_body() {
    let mut runner = TestRunner::new(cases(256));
    let input = (
        any::<u64>(),
        0usize..30_000,
        8192usize..12_000,
        prop::collection::vec(any::<usize>(), 0..12),
    );
    runner
        .run(&input, |(seed, len, chunk, cuts)| {
            let body = body_of(seed, len);
            let (stream, _) = signed_stream(&body, chunk);
            let decoded = decode_chunked(
                pieces(&stream, &cuts),
                example_streaming_spec(true, false),
                limits(len),
            );
            prop_assert_eq!(decoded, Ok(body));
            Ok(())
        })
        .unwrap();
}

/// One byte changed in any chunk's signature or payload, in any split, is refused with
/// SignatureDoesNotMatch: no tampered byte reaches the store unnoticed.
#[test]
fn a_changed_byte_in_a_chunk_signature_or_payload_is_refused() {
    let mut runner = TestRunner::new(cases(256));
    let input = (
        any::<u64>(),
        1usize..20_000,
        8192usize..10_000,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        1u8..16,
        prop::collection::vec(any::<usize>(), 0..6),
    );
    runner
        .run(&input, |(seed, len, chunk, span, at, delta, cuts)| {
            let body = body_of(seed, len);
            let (mut stream, spans) = signed_stream(&body, chunk);
            let spans: Vec<_> = spans.into_iter().filter(|(s, _)| !s.is_empty()).collect();
            let (span, is_signature) = &spans[span.index(spans.len())];
            let pos = span.start + at.index(span.len());
            let before = stream[pos];
            stream[pos] = if *is_signature {
                other_hex(before, delta)
            } else {
                before ^ delta
            };
            let decoded = decode_chunked(
                pieces(&stream, &cuts),
                example_streaming_spec(true, false),
                limits(len),
            );
            prop_assert_eq!(decoded, Err(S3ErrorCode::SignatureDoesNotMatch));
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// (c) SigV4 end to end, signed by aws-sigv4

/// What a single-byte change is made to.
#[derive(Clone, Copy, Debug)]
enum Part {
    Method,
    Path,
    SignedHeader,
    Query,
    Signature,
    Body,
}

/// Another letter or digit than `b`, so the request stays well formed and only the
/// signed content changes.
fn other_alnum(b: u8, delta: u8) -> u8 {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let i = ALNUM.iter().position(|&c| c == b).unwrap_or(0);
    ALNUM[(i + 1 + delta as usize % (ALNUM.len() - 1)) % ALNUM.len()]
}

/// Another hex digit than `b`, so the signature still parses and must fail the comparison.
fn other_hex(b: u8, delta: u8) -> u8 {
    const HEX: &[u8] = b"0123456789abcdef";
    let i = HEX.iter().position(|&c| c == b).unwrap_or(0);
    HEX[(i + 1 + delta as usize % 15) % 16]
}

/// `s` with the byte at `at` changed (in a method, to another capital letter).
fn change_byte(s: &str, at: prop::sample::Index, delta: u8) -> String {
    let mut bytes = s.as_bytes().to_vec();
    let i = at.index(bytes.len());
    bytes[i] = if s == "PUT" {
        // A method stays a method token: another capital letter.
        b'A' + (bytes[i] - b'A' + 1 + delta % 25) % 26
    } else {
        other_alnum(bytes[i], delta)
    };
    String::from_utf8(bytes).expect("ASCII")
}

/// A PUT signed by AWS's own signer (aws-sigv4) is accepted; the same request with one
/// byte changed in the method, the path, a signed header's value, a query value or the
/// signature is refused with 403 SignatureDoesNotMatch, and one changed body byte with
/// XAmzContentSHA256Mismatch (the body is held to the signed hash).
#[test]
fn a_signed_request_verifies_and_any_changed_byte_is_refused() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt.block_on(TestServer::default());
    let mut runner = TestRunner::new(cases(128));
    let input = (
        "[a-zA-Z0-9]{1,24}",
        "[a-zA-Z0-9]{1,16}",
        "[a-zA-Z0-9]{1,16}",
        prop::collection::vec(any::<u8>(), 1..64),
        prop_oneof![
            Just(Part::Method),
            Just(Part::Path),
            Just(Part::SignedHeader),
            Just(Part::Query),
            Just(Part::Signature),
            Just(Part::Body),
        ],
        any::<prop::sample::Index>(),
        any::<u8>(),
    );
    runner
        .run(&input, |(key, meta, query, body, part, at, delta)| {
            let target = format!("/bkt/{key}?x-id={query}");
            let signed = Raw::new("PUT", &target)
                .header("x-amz-meta-note", &meta)
                .body(&body)
                .sign(&server.host, SK, REGION, server.clock_now());
            let resp = rt.block_on(server.send(&signed));
            prop_assert_eq!(resp.status, 200, "{}", resp.body_text());

            let mut changed = signed.clone();
            match part {
                Part::Method => changed.method = change_byte("PUT", at, delta),
                Part::Path => {
                    // The key's bytes (a bucket name with a capital is InvalidBucketName,
                    // refused before any signature check).
                    let key = change_byte(&key, at, delta);
                    changed.target = format!("/bkt/{key}?x-id={query}");
                }
                Part::SignedHeader => {
                    let v = change_byte(&meta, at, delta);
                    changed = changed.set_header("x-amz-meta-note", &v);
                }
                Part::Query => {
                    let q = change_byte(&query, at, delta);
                    changed.target = format!("/bkt/{key}?x-id={q}");
                }
                Part::Signature => {
                    let auth = signed.header_value("authorization").unwrap();
                    let (head, sig) = auth.rsplit_once("Signature=").unwrap();
                    let mut sig = sig.as_bytes().to_vec();
                    let i = at.index(sig.len());
                    sig[i] = other_hex(sig[i], delta);
                    let sig = String::from_utf8(sig).unwrap();
                    changed =
                        changed.set_header("authorization", &format!("{head}Signature={sig}"));
                }
                Part::Body => {
                    let i = at.index(changed.body.len());
                    changed.body[i] ^= delta | 1;
                }
            }
            let resp = rt.block_on(server.send(&changed));
            let expected = match part {
                Part::Body => (400, "XAmzContentSHA256Mismatch"),
                _ => (403, "SignatureDoesNotMatch"),
            };
            prop_assert_eq!(
                (resp.status, resp.code().unwrap_or_default()),
                (expected.0, expected.1.to_string()),
                "{:?} changed: {} {}",
                part,
                changed.method,
                changed.target
            );
            Ok(())
        })
        .unwrap();
}
