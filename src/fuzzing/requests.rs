//! Targets for what a request carries: its authentication, dates, canonical form,
//! aws-chunked body and POST form.

use bytes::Bytes;
use futures_util::StreamExt;
use http::HeaderValue;
use time::macros::format_description;

use crate::addressing::{Address, resolve};
use crate::auth::StreamingSpec;
use crate::auth::chunked::{DecodeLimits, decode};
use crate::auth::params::{AmzDate, CredentialScope, V4Header, V4Query};
use crate::auth::post::{PostForm, PostPolicy};
use crate::auth::signing::{Signature, derive_signing_key};
use crate::auth::sigv4::{CanonicalRequest, StringToSign, canonical_query, canonical_uri};
use crate::body::{ByteStream, from_chunks};
use crate::checksum::ChecksumAlgorithm;
use crate::error::{S3Error, S3ErrorCode};
use crate::request::{S3Request, parse_query};

use super::*;

// ---------------------------------------------------------------------------------------
// Targets

/// `Authorization` header value on the first line; further lines are headers of a
/// `GET /examplebucket/test.txt` request (defaults: `host`, `x-amz-date`,
/// `x-amz-content-sha256`). Parses the SigV4 header, then authenticates the whole request
/// (SigV4 or SigV2, whichever the header names).
pub fn authorization_header(data: &[u8]) {
    let mut it = lines(data);
    let auth = it.next().unwrap_or_default();
    if let Ok(text) = std::str::from_utf8(auth)
        && let Ok(h) = V4Header::parse(text)
    {
        // Each component is `Name=value` without `,`: written back, it parses the same.
        let again = format!(
            "AWS4-HMAC-SHA256 Credential={}, SignedHeaders={}, Signature={}",
            h.credential.raw, h.signed_headers, h.signature
        );
        let reparsed = V4Header::parse(&again);
        assert_eq!(reparsed.as_ref().ok(), Some(&h), "{again:?}");
        scope_invariants(&h.credential);
    }
    let mut map = with_defaults(headers(it));
    if let Ok(v) = HeaderValue::from_bytes(auth) {
        map.insert("authorization", v);
    }
    if let Some(req) = request(b"GET", b"/examplebucket/test.txt", map) {
        authenticate(&req);
    }
}

/// The accessors of a parsed scope slice the raw credential; they must stay inside it.
fn scope_invariants(scope: &CredentialScope<'_>) {
    let _ = scope.date_is_valid();
    assert!(scope.raw.ends_with(scope.scope()));
    assert!(scope.raw.starts_with(scope.key_id()));
    assert!(scope.key_id().starts_with(scope.access_key));
}

/// A raw query string on the first line (`X-Amz-Algorithm=…&X-Amz-Credential=…`);
/// further lines are headers of `GET /examplebucket/test.txt?<query>` (default: `host`).
/// Parses the presigned parameters, then authenticates the request (SigV4 or SigV2 query).
pub fn presigned_query(data: &[u8]) {
    let mut it = lines(data);
    let raw = it.next().unwrap_or_default();
    let Ok(raw) = std::str::from_utf8(raw) else {
        return;
    };
    if let Ok(query) = parse_query(raw)
        && let Ok(q) = V4Query::parse(&query)
    {
        if let Some(scope) = CredentialScope::parse(q.credential) {
            scope_invariants(&scope);
        }
        if let Some(d) = AmzDate::parse(q.date) {
            amz_date_invariant(&d);
        }
    }
    let mut map = headers(it);
    if !map.contains_key("host") {
        map.insert("host", HeaderValue::from_static("localhost:9000"));
    }
    let target = format!("/examplebucket/test.txt?{raw}");
    if let Some(req) = request(b"GET", target.as_bytes(), map) {
        authenticate(&req);
    }
}

/// `yyyyMMdd'T'HHmmss'Z'` written back from the parsed time is the text that was sent:
/// the scope check compares the first 8 bytes of the raw value as the day.
fn amz_date_invariant(d: &AmzDate<'_>) {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    let written = d.time.format(format).ok();
    assert_eq!(written.as_deref(), Some(d.raw), "AmzDate {:?}", d.raw);
}

/// One date: as an HTTP date (SigV2's `Date`/`x-amz-date`, `If-Modified-Since`, …) and
/// as a SigV4 `X-Amz-Date`. A parsed HTTP date, written back in RFC 1123 GMT, parses to
/// the same instant.
pub fn http_date(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(t) = crate::dates::parse_http_date(text)
        && let Some(utc) = t.checked_to_offset(time::UtcOffset::UTC)
        && (0..=9999).contains(&utc.year())
    {
        let format = format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        let written = utc.format(format).expect("a date in range formats");
        assert_eq!(
            crate::dates::parse_http_date(&written),
            Some(t),
            "{text:?} → {written:?}"
        );
    }
    if let Some(d) = AmzDate::parse(text) {
        amz_date_invariant(&d);
    }
}

/// `METHOD TARGET` on the first line, SignedHeaders on the second, the payload hash on the
/// third, headers after. Builds the SigV4 canonical request (header and presigned forms),
/// its string to sign and the SigV2 string to sign.
pub fn canonical_request(data: &[u8]) {
    let mut it = lines(data);
    let first = it.next().unwrap_or_default();
    let (method, target) = match first.iter().position(|&b| b == b' ') {
        Some(i) => (&first[..i], &first[i + 1..]),
        None => (first, &b"/"[..]),
    };
    let signed = String::from_utf8_lossy(it.next().unwrap_or_default()).into_owned();
    let payload = String::from_utf8_lossy(it.next().unwrap_or_default()).into_owned();
    let Some(req) = request(method, target, headers(it)) else {
        return;
    };
    for skip in [None, Some("X-Amz-Signature")] {
        let cr = CanonicalRequest::from_request(&req, &signed, &payload, skip);
        let bytes = cr.to_bytes();
        use sha2::Digest;
        let hash: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        assert_eq!(cr.sha256(), hash, "the hash is over the canonical bytes");
        if let Ok(text) = std::str::from_utf8(&bytes) {
            assert_eq!(cr.to_string(), text, "Display shows the signed bytes");
        }
        // Canonical forms are fixed points: encoding an encoded URI or query changes nothing.
        if crate::request::decode_component(&req.raw_path).is_ok() {
            assert_eq!(canonical_uri(&cr.uri), cr.uri);
        }
        let reparsed = parse_query(&cr.query).expect("a canonical query decodes");
        assert_eq!(canonical_query(&reparsed, None), cr.query);
        let sts = StringToSign::Request {
            amz_date: "20130524T000000Z",
            scope: "20130524/us-east-1/s3/aws4_request",
            canonical_request_hash: hash,
        };
        assert_eq!(sts.to_string().lines().count(), 4);
    }
    let config = config();
    if let Ok(addr) = resolve(&req, &config.domains, config.limits.max_key_bytes) {
        v2_string_to_sign(&req, &addr);
    }
}

fn v2_string_to_sign(req: &S3Request, addr: &Address) {
    let sts = crate::auth::sigv2::StringToSignV2::from_request(req, addr, "date".into());
    let _ = sts.to_bytes();
}

/// The streaming spec of AWS's aws-chunked example (`20130524`, us-east-1, the example
/// secret and seed signature); the property tests sign their streams with it too.
pub fn example_streaming_spec(signed: bool, trailer: bool) -> StreamingSpec {
    StreamingSpec {
        signed,
        trailer,
        signing_key: derive_signing_key(
            crate::config::DEFAULT_SECRET_KEY,
            "20130524",
            "us-east-1",
            "s3",
        ),
        amz_date: "20130524T000000Z".into(),
        scope: "20130524/us-east-1/s3/aws4_request".into(),
        seed_signature: Signature::from_hex(
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        )
        .expect("a hex signature"),
    }
}

/// Decodes `body` (fed as `pieces`) with `spec` and `limits`: the decoded bytes, or the
/// first error's code.
pub fn decode_chunked(
    pieces: Vec<Bytes>,
    spec: StreamingSpec,
    limits: DecodeLimits,
) -> Result<Vec<u8>, S3ErrorCode> {
    let mut stream: ByteStream = decode(from_chunks(pieces), spec, limits);
    block_on(async move {
        let mut out = Vec::new();
        while let Some(item) = stream.next().await {
            out.extend_from_slice(&item.map_err(|e: S3Error| e.code)?);
        }
        Ok(out)
    })
}

/// Byte 0: bit 0 signed, bit 1 trailer, bits 2–4 the trailer checksum (0 none, then
/// CRC32, CRC32C, CRC64NVME, SHA1, SHA256), bit 5 a declared decoded length in bytes 3–6
/// (big-endian). Bytes 1–2: where to split the body (big-endian, modulo its length). The
/// rest is the aws-chunked body. Decoded whole and split, it must give the same result.
pub fn aws_chunked(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some((split, rest)) = rest.split_first_chunk::<2>() else {
        return;
    };
    let (decoded_length, body) = if mode & 0x20 != 0 {
        match rest.split_first_chunk::<4>() {
            Some((n, body)) => (Some(u64::from(u32::from_be_bytes(*n))), body),
            None => return,
        }
    } else {
        (None, rest)
    };
    let algorithms = [
        None,
        Some(ChecksumAlgorithm::Crc32),
        Some(ChecksumAlgorithm::Crc32c),
        Some(ChecksumAlgorithm::Crc64Nvme),
        Some(ChecksumAlgorithm::Sha1),
        Some(ChecksumAlgorithm::Sha256),
    ];
    let trailer_checksum = algorithms[usize::from((mode >> 2) & 7) % algorithms.len()];
    let (signed, trailer) = (mode & 1 != 0, mode & 2 != 0);
    let run = |pieces: Vec<Bytes>| {
        let limits = DecodeLimits {
            decoded_length,
            trailer_checksum,
            trailing: Default::default(),
        };
        decode_chunked(pieces, example_streaming_spec(signed, trailer), limits)
    };
    let whole = run(vec![Bytes::copy_from_slice(body)]);
    if let Ok(out) = &whole {
        assert!(out.len() <= body.len(), "decoding never adds bytes");
        if let Some(n) = decoded_length {
            assert_eq!(out.len() as u64, n, "x-amz-decoded-content-length is held");
        }
    }
    if !body.is_empty() {
        let at = usize::from(u16::from_be_bytes(*split)) % body.len();
        let (a, b) = body.split_at(at);
        let halves = run(vec![Bytes::copy_from_slice(a), Bytes::copy_from_slice(b)]);
        assert_eq!(whole, halves, "the split at {at} changed the result");
    }
}

/// A `multipart/form-data` body with boundary [`POST_BOUNDARY`], read as PostObject reads
/// it: the fields up to `file`, the signature over the policy, the policy and its
/// conditions, the stored properties, then the file and what follows it. An input that
/// starts with `{` is instead a policy document (JSON, base64-encoded here), checked
/// against the `name=value` lines that follow a line `--`.
pub fn post_policy(data: &[u8]) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    if data.first() == Some(&b'{') {
        let text = String::from_utf8_lossy(data);
        let (json, fields) = text.split_once("\n--\n").unwrap_or((&text, ""));
        let mut form = PostForm::default();
        for line in fields.lines() {
            let (n, v) = line.split_once('=').unwrap_or((line, ""));
            form.fields.push((n.to_string(), v.to_string()));
        }
        let encoded = b64.encode(json.as_bytes());
        form.fields.push(("policy".into(), encoded.clone()));
        if let Ok(policy) = PostPolicy::parse(&encoded) {
            check_policy(&policy, &form);
        }
        let _ = authenticator().verify_post(
            &form,
            crate::regions::Expected::Any {
                default: "us-east-1",
            },
            &mut Default::default(),
        );
        return;
    }
    // The form as two pieces (multer must not care where reads end).
    let at = data.len() / 2;
    let body = from_chunks(vec![
        Bytes::copy_from_slice(&data[..at]),
        Bytes::copy_from_slice(&data[at..]),
    ]);
    block_on(async move {
        let Ok(upload) = crate::form::FormUpload::read_with_boundary(body, POST_BOUNDARY).await
        else {
            return;
        };
        let form = upload.form.clone();
        let _ = authenticator().verify_post(
            &form,
            crate::regions::Expected::Any {
                default: "us-east-1",
            },
            &mut Default::default(),
        );
        let _ = crate::ops::attrs::attrs_from_form(&form, 2048);
        let mut range = None;
        if let Ok(policy) = PostPolicy::parse(form.get("policy").unwrap_or_default()) {
            range = check_policy(&policy, &form);
        }
        let (_, mut rest) = upload.into_parts(range);
        let mut size = 0u64;
        while let Some(Ok(chunk)) = rest.next().await {
            size += chunk.len() as u64;
        }
        if let Some((_, max)) = range {
            // Bytes up to the one that passes the limit may come through, never more.
            assert!(size <= max.saturating_add(data.len() as u64));
        }
    });
}

fn check_policy(policy: &PostPolicy, form: &PostForm) -> Option<(u64, u64)> {
    for c in &policy.conditions {
        let _ = c.printed();
    }
    let key = form.key().unwrap_or_default();
    policy
        .check(form, "examplebucket", &key, NOW)
        .ok()
        .flatten()
}
