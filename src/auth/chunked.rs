//! The `aws-chunked` body decoder: framing, chunk signatures chained from the seed
//! signature, trailing checksum headers and the trailer signature.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html> and
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>:
//! ```text
//! hex-size;chunk-signature=<sig>\r\n <data> \r\n … 0;chunk-signature=<sig>\r\n [trailers\r\n] \r\n
//! chunk string to sign: AWS4-HMAC-SHA256-PAYLOAD \n date \n scope \n previous-sig \n sha256("") \n sha256(data)
//! trailer string to sign: AWS4-HMAC-SHA256-TRAILER \n date \n scope \n previous-sig \n sha256(trailer lines)
//! ```
//! Data is passed on as it arrives (memory stays bounded by the input chunk size); a
//! chunk's signature is checked when its last byte has passed, and a failure ends the
//! stream with an error, so the store discards the whole write.

use bytes::{Buf, Bytes, BytesMut};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::StreamingSpec;
use super::signing::Signature;
use super::sigv4::{self, StringToSign};
use crate::body::ByteStream;
use crate::checksum::TrailingAttrs;
use crate::checksum::{ChecksumAlgorithm, ChecksumHasher};
use crate::error::{Check, S3Error, S3ErrorCode};

/// SHA-256 of the empty string, the fixed fifth line of every chunk's string to sign.
/// A chunk header line longer than this is not aws-chunked framing.
const MAX_LINE: usize = 4096;
/// Trailing headers are a few checksums; more than this is refused.
const MAX_TRAILER: usize = 16 * 1024;
/// S3: every chunk but the last must be at least 8 KiB (signed streaming).
const MIN_CHUNK: u64 = 8192;

/// What the decoder must check beyond signatures.
#[derive(Debug, Clone, Default)]
pub struct DecodeLimits {
    /// `x-amz-decoded-content-length`: the exact number of payload bytes.
    pub decoded_length: Option<u64>,
    /// The checksum named by `x-amz-trailer`, expected in the trailer.
    pub trailer_checksum: Option<ChecksumAlgorithm>,
    /// Where a verified trailing checksum is recorded, to be stored with the object.
    pub trailing: TrailingAttrs,
}

enum State {
    Header,
    Data { remaining: u64 },
    DataEnd,
    Trailer,
    FinalCrlf,
    Done,
}

struct Decoder {
    input: ByteStream,
    input_done: bool,
    buf: BytesMut,
    spec: StreamingSpec,
    limits: DecodeLimits,
    state: State,
    prev_signature: Signature,
    chunk_signature: Option<Signature>,
    chunk_hash: Sha256,
    chunk_index: u64,
    last_chunk_size: Option<u64>,
    total: u64,
    checksum: Option<ChecksumHasher>,
    trailer_bytes: usize,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<String>,
}

/// Decodes (and verifies, when signed) an aws-chunked body.
pub fn decode(input: ByteStream, spec: StreamingSpec, limits: DecodeLimits) -> ByteStream {
    let checksum = limits.trailer_checksum.map(ChecksumAlgorithm::hasher);
    let d = Decoder {
        input,
        input_done: false,
        buf: BytesMut::new(),
        prev_signature: spec.seed_signature,
        spec,
        limits,
        state: State::Header,
        chunk_signature: None,
        chunk_hash: Sha256::new(),
        chunk_index: 0,
        last_chunk_size: None,
        total: 0,
        checksum,
        trailer_bytes: 0,
        trailers: Vec::new(),
        trailer_signature: None,
    };
    Box::pin(futures_util::stream::unfold(d, |mut d| async move {
        match d.next_item().await {
            Ok(Some(bytes)) => Some((Ok(bytes), d)),
            Ok(None) => None,
            Err(e) => {
                d.state = State::Done;
                d.input_done = true;
                Some((Err(e), d))
            }
        }
    }))
}

fn incomplete(reason: impl Into<String>) -> S3Error {
    S3Error::new(S3ErrorCode::IncompleteBody)
        .reason(reason)
        .at(Check::Payload)
}

fn malformed_trailer(reason: impl Into<String>) -> S3Error {
    S3Error::new(S3ErrorCode::MalformedTrailerError)
        .reason(reason)
        .at(Check::Payload)
}

impl Decoder {
    /// Reads more input; `false` at the end of the body.
    async fn fill(&mut self) -> Result<bool, S3Error> {
        match self.next_input().await? {
            Some(b) => {
                self.buf.extend_from_slice(&b);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The next piece of the encoded body as it arrived; `None` at its end.
    async fn next_input(&mut self) -> Result<Option<Bytes>, S3Error> {
        if self.input_done {
            return Ok(None);
        }
        match self.input.next().await {
            Some(Ok(b)) => Ok(Some(b)),
            Some(Err(e)) => Err(e),
            None => {
                self.input_done = true;
                Ok(None)
            }
        }
    }

    /// Up to `remaining` payload bytes. Straight from the input when nothing is buffered
    /// (no copy: most payload bytes pass this way); only what follows the chunk's end in
    /// the same piece is buffered, for the framing parser.
    async fn payload(&mut self, remaining: u64) -> Result<Option<Bytes>, S3Error> {
        if !self.buf.is_empty() {
            let n = remaining.min(self.buf.len() as u64) as usize;
            return Ok(Some(self.buf.split_to(n).freeze()));
        }
        let Some(mut piece) = self.next_input().await? else {
            return Ok(None);
        };
        let n = remaining.min(piece.len() as u64) as usize;
        let data = piece.split_to(n);
        if !piece.is_empty() {
            self.buf.extend_from_slice(&piece);
        }
        Ok(Some(data))
    }

    /// One `\r\n`-terminated line, without its terminator, of at most `MAX_LINE` bytes
    /// however the body is split into reads (the limit once held only while the line's end
    /// had not arrived, so a long line passed when it came in one read: found by the
    /// `aws_chunked` fuzz target's split invariant).
    async fn line(&mut self, what: &str) -> Result<Bytes, S3Error> {
        let too_long = || {
            incomplete(format!(
                "the {what} line is longer than {MAX_LINE} bytes: not aws-chunked framing"
            ))
        };
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                if pos > MAX_LINE {
                    return Err(too_long());
                }
                let line = self.buf.split_to(pos).freeze();
                self.buf.advance(2);
                return Ok(line);
            }
            // A line of MAX_LINE bytes may wait for the `\n` after its `\r`.
            if self.buf.len() > MAX_LINE + 1 {
                return Err(too_long());
            }
            if !self.fill().await? {
                return Err(incomplete(format!("the body ended inside a {what} line")));
            }
        }
    }

    async fn next_item(&mut self) -> Result<Option<Bytes>, S3Error> {
        loop {
            match self.state {
                State::Header => self.chunk_header().await?,
                State::Data { remaining } => {
                    let Some(data) = self.payload(remaining).await? else {
                        return Err(incomplete(format!(
                            "the body ended {remaining} bytes before the end of chunk {}",
                            self.chunk_index
                        )));
                    };
                    let n = data.len();
                    if n == 0 {
                        continue;
                    }
                    self.accept_data(&data)?;
                    self.state = if remaining == n as u64 {
                        State::DataEnd
                    } else {
                        State::Data {
                            remaining: remaining - n as u64,
                        }
                    };
                    return Ok(Some(data));
                }
                State::DataEnd => {
                    let rest = self.line("chunk end").await?;
                    if !rest.is_empty() {
                        return Err(incomplete(format!(
                            "chunk {} carries more bytes than its declared size",
                            self.chunk_index
                        )));
                    }
                    self.finish_chunk()?;
                    self.state = State::Header;
                }
                State::Trailer => self.trailer_line().await?,
                State::FinalCrlf => {
                    let rest = self.line("final").await?;
                    if !rest.is_empty() {
                        return Err(incomplete("unexpected bytes after the final chunk"));
                    }
                    self.finish_stream()?;
                    self.state = State::Done;
                }
                State::Done => return Ok(None),
            }
        }
    }

    /// `hex-size[;chunk-signature=sig]`.
    async fn chunk_header(&mut self) -> Result<(), S3Error> {
        let line = self.line("chunk header").await?;
        let text =
            std::str::from_utf8(&line).map_err(|_| incomplete("chunk header is not ASCII"))?;
        let (size_hex, ext) = text.split_once(';').unwrap_or((text, ""));
        let size = (!size_hex.is_empty()
            && size_hex.len() <= 16
            && size_hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u64::from_str_radix(size_hex, 16).ok())
        .flatten()
        .ok_or_else(|| incomplete(format!("chunk size {size_hex:?} is not a hex number")))?;
        self.chunk_index += 1;
        self.chunk_signature = if self.spec.signed {
            let sig = ext.strip_prefix("chunk-signature=").ok_or_else(|| {
                incomplete(format!("chunk {} has no chunk-signature", self.chunk_index))
            })?;
            Some(Signature::from_hex(sig).ok_or_else(|| {
                self.chunk_mismatch(sig).reason(format!(
                    "chunk {} signature {sig:?} is not 64 hex digits",
                    self.chunk_index
                ))
            })?)
        } else {
            None
        };
        if self.spec.signed
            && size > 0
            && let Some(prev) = self.last_chunk_size.filter(|s| *s < MIN_CHUNK)
        {
            return Err(S3Error::new(S3ErrorCode::InvalidChunkSizeError)
                .at(Check::Payload)
                .extra("Chunk", (self.chunk_index - 1).to_string())
                .extra("BadChunkSize", prev.to_string()));
        }
        self.last_chunk_size = Some(size);
        self.chunk_hash = Sha256::new();
        if size == 0 {
            self.finish_chunk()?;
            self.state = if self.spec.trailer {
                State::Trailer
            } else {
                State::FinalCrlf
            };
        } else {
            self.state = State::Data { remaining: size };
        }
        Ok(())
    }

    fn accept_data(&mut self, data: &[u8]) -> Result<(), S3Error> {
        self.total += data.len() as u64;
        if let Some(limit) = self.limits.decoded_length
            && self.total > limit
        {
            return Err(incomplete(format!(
                "the chunks carry more than x-amz-decoded-content-length ({limit}) bytes"
            )));
        }
        if self.spec.signed {
            self.chunk_hash.update(data);
        }
        if let Some(c) = self.checksum.as_mut() {
            c.update(data);
        }
        Ok(())
    }

    fn chunk_mismatch(&self, provided: &str) -> S3Error {
        S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
            .extra("SignatureProvided", provided)
            .at(Check::Payload)
    }

    /// Verifies the signature of the chunk that just ended.
    fn finish_chunk(&mut self) -> Result<(), S3Error> {
        let Some(provided) = self.chunk_signature.take() else {
            return Ok(());
        };
        let hash = std::mem::replace(&mut self.chunk_hash, Sha256::new()).finalize();
        let sts = StringToSign::Chunk {
            amz_date: &self.spec.amz_date,
            scope: &self.spec.scope,
            previous: self.prev_signature,
            chunk_hash: hash.into(),
        };
        let expected = sigv4::sign(&self.spec.signing_key, &sts);
        if !expected.matches(&provided) {
            return Err(self
                .chunk_mismatch(&provided.to_string())
                .extra("StringToSign", sts.to_string())
                .reason(format!(
                    "the signature of chunk {} does not match: each chunk is signed over the previous chunk's signature and its own SHA-256",
                    self.chunk_index
                )));
        }
        self.prev_signature = expected;
        Ok(())
    }

    async fn trailer_line(&mut self) -> Result<(), S3Error> {
        let line = self.line("trailer").await?;
        self.trailer_bytes += line.len() + 2;
        if self.trailer_bytes > MAX_TRAILER {
            return Err(malformed_trailer(format!(
                "trailing headers exceed {MAX_TRAILER} bytes"
            )));
        }
        if line.is_empty() {
            self.finish_stream()?;
            self.state = State::Done;
            return Ok(());
        }
        let text =
            std::str::from_utf8(&line).map_err(|_| malformed_trailer("trailer is not UTF-8"))?;
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| malformed_trailer(format!("trailer line {text:?} is not name:value")))?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
        if name == "x-amz-trailer-signature" {
            self.trailer_signature = Some(value);
        } else {
            self.trailers.push((name, value));
        }
        Ok(())
    }

    /// End of body: trailer signature, checksum, decoded length.
    fn finish_stream(&mut self) -> Result<(), S3Error> {
        if self.spec.signed && self.spec.trailer {
            self.verify_trailer_signature()?;
        }
        if let Some(alg) = self.limits.trailer_checksum {
            let declared = self
                .trailers
                .iter()
                .find(|(n, _)| n == alg.header())
                .map(|(_, v)| v.clone())
                .ok_or_else(|| {
                    malformed_trailer(format!(
                        "x-amz-trailer announced {} but the body did not end with it",
                        alg.header()
                    ))
                })?;
            alg.check_trailer_value(&declared)?;
            let computed = self
                .checksum
                .take()
                .map(ChecksumHasher::finish)
                .unwrap_or_default();
            if computed != declared {
                return Err(alg.mismatch(&declared, &computed));
            }
            self.limits.trailing.record(alg.header(), &declared);
        }
        if let Some(expected) = self.limits.decoded_length
            && self.total != expected
        {
            return Err(incomplete(format!(
                "the chunks carry {} bytes; x-amz-decoded-content-length says {expected}",
                self.total
            )));
        }
        Ok(())
    }

    fn verify_trailer_signature(&self) -> Result<(), S3Error> {
        let provided = self.trailer_signature.as_deref().ok_or_else(|| {
            malformed_trailer("the signed trailer has no x-amz-trailer-signature")
        })?;
        let mut canonical = String::new();
        for (n, v) in &self.trailers {
            canonical.push_str(n);
            canonical.push(':');
            canonical.push_str(v);
            canonical.push('\n');
        }
        let sts = StringToSign::Trailer {
            amz_date: &self.spec.amz_date,
            scope: &self.spec.scope,
            previous: self.prev_signature,
            trailer_hash: Sha256::digest(canonical.as_bytes()).into(),
        };
        let expected = sigv4::sign(&self.spec.signing_key, &sts);
        let ok = Signature::from_hex(provided).is_some_and(|p| p.matches(&expected));
        if ok {
            Ok(())
        } else {
            Err(self
                .chunk_mismatch(provided)
                .extra("StringToSign", sts.to_string())
                .reason("the trailer signature does not match the trailing headers"))
        }
    }
}

#[cfg(test)]
mod tests;
