//! The on-disk object file: writing a body with its metadata trailer, reading the
//! trailer back, and streaming the body of an opened file.
//!
//! Objects and upload parts use this one format, so it lives apart from both.
//!
//! # Object file format
//!
//! ```text
//! [ body: size bytes ][ ObjectMeta as JSON: n bytes ][ seq: u64 ][ n: u64 ][ b"S3O2" ]
//! ```
//!
//! (integers little-endian). `seq` is the commit's number in the bucket's sequence,
//! stamped under the commit lock just before the rename ([`stamp_seq`]); it orders the
//! file against the bucket's segment records (see `segments`). Files of format 1
//! (`[ body ][ JSON ][ n ][ b"S3O1" ]`, before segments existed) read as sequence 0.
//!
//! Metadata and body share one file so that a single rename publishes both at once:
//! no reader can see new metadata with an old body or the reverse. The metadata goes
//! *after* the body because its size and ETag are known only when the body has ended,
//! and the body is streamed straight into the file (never held whole, never copied a
//! second time). A reader seeks to the 12-byte trailer, checks the magic, reads the JSON,
//! and checks that the body length it implies equals the stored `size`. The JSON holds
//! the key itself, which readers compare with the key they asked for (a guard against a
//! hash collision, however unlikely).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::io::{AsyncWriteExt, BufWriter};

use super::durable::{internal, io_context};
use crate::body::ByteStream;
use crate::error::S3Error;
use crate::storage::body_md5::BodyMd5;
use crate::storage::{ObjectBody, ObjectMeta};

/// The last four bytes of every object file this version writes (format 2)...
const MAGIC: [u8; 4] = *b"S3O2";
/// `u64` sequence + `u64` JSON length + magic.
const TRAILER_LEN: u64 = 20;
/// ...and of format 1, still read.
const MAGIC_V1: [u8; 4] = *b"S3O1";
const TRAILER_LEN_V1: u64 = 12;
/// Object metadata is a few KiB at most; anything larger is a corrupt file.
const MAX_META_LEN: u64 = 16 * 1024 * 1024;
/// Chunk size of object body streams.
pub(super) const READ_CHUNK: usize = 64 * 1024;
/// Buffer between the body stream and the temp file.
const WRITE_BUFFER: usize = 256 * 1024;

// ---- writing ----

/// Creates a temp file for a body, buffered.
pub(super) async fn create_temp(temp: &Path) -> Result<BufWriter<tokio::fs::File>, S3Error> {
    let file = tokio::fs::File::create(temp)
        .await
        .map_err(io_context("create temp file", temp))?;
    Ok(BufWriter::with_capacity(WRITE_BUFFER, file))
}

/// Appends the metadata and trailer after the body and makes the file durable.
pub(super) async fn seal_temp(
    mut out: BufWriter<tokio::fs::File>,
    meta: &ObjectMeta,
    temp: &Path,
) -> Result<(), S3Error> {
    out.write_all(&encode_trailer(meta)?)
        .await
        .map_err(io_context("write metadata to", temp))?;
    out.flush().await.map_err(io_context("write", temp))?;
    out.into_inner()
        .sync_all()
        .await
        .map_err(io_context("fsync", temp))
}

/// Copies the rest of the body stream into `out`, hashing it into `hashed` if given (a
/// copy of a stored body already knows its ETag). Every [`WRITEBACK_EVERY`] bytes it asks
/// the kernel to start writing what it has (see [`start_writeback`]), so the `fsync` that
/// ends a large upload finds little left to do.
pub(super) async fn copy_body(
    mut body: ByteStream,
    out: &mut BufWriter<tokio::fs::File>,
    path: &Path,
    mut hashed: Option<&mut BodyMd5>,
) -> Result<(), S3Error> {
    let mut unflushed = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if let Some(hashed) = hashed.as_deref_mut() {
            hashed.update(&chunk).await?;
        }
        out.write_all(&chunk)
            .await
            .map_err(io_context("write", path))?;
        unflushed += chunk.len() as u64;
        if unflushed >= WRITEBACK_EVERY {
            unflushed = 0;
            start_writeback(out.get_ref());
        }
    }
    Ok(())
}

/// How often a large body's written bytes are handed to the disk while it streams.
const WRITEBACK_EVERY: u64 = 8 * 1024 * 1024;

/// Starts write-back of the file's dirty pages without waiting for it
/// (`sync_file_range(SYNC_FILE_RANGE_WRITE)`): the disk writes while the body is still
/// arriving. Why: a 256 MiB upload's closing `fsync` otherwise wrote all 256 MiB at the
/// end, with nothing else to overlap. Advisory: durability still comes from the `fsync`,
/// and a failure here is ignored (the `fsync` reports write errors).
#[cfg(target_os = "linux")]
fn start_writeback(file: &tokio::fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the duration of the call; offset 0 with length
    // 0 means the whole file.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &tokio::fs::File) {}

/// The JSON metadata and the trailer that follow the body, with sequence 0 until the
/// commit stamps it.
fn encode_trailer(meta: &ObjectMeta) -> Result<Vec<u8>, S3Error> {
    let mut out =
        serde_json::to_vec(meta).map_err(|e| internal(format!("encode object metadata: {e}")))?;
    let json_len = out.len() as u64;
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&json_len.to_le_bytes());
    out.extend_from_slice(&MAGIC);
    Ok(out)
}

// ---- reading ----

/// How much of a file's end [`read_meta`] reads at once: the trailer and, nearly always,
/// the whole JSON before it, so a store opens with one `pread` per object.
const TAIL_READ: u64 = 4096;

/// Writes the commit's sequence number into a sealed temp file's trailer and makes it
/// durable (`fdatasync`: eight bytes, no size change). Blocking; under the commit lock,
/// so numbers follow the order in which objects are placed.
pub(super) fn stamp_seq(path: &Path, seq: u64) -> Result<(), S3Error> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io_context("open", path))?;
    let len = file.metadata().map_err(io_context("stat", path))?.len();
    let at = len
        .checked_sub(TRAILER_LEN)
        .ok_or_else(|| internal(format!("{} has no trailer", path.display())))?;
    file.write_all_at(&seq.to_le_bytes(), at)
        .and_then(|_| file.sync_data())
        .map_err(io_context("stamp", path))
}

/// Reads an object file's metadata and sequence number, checking the trailer and the
/// body length.
pub(super) fn read_meta(file: &File, path: &Path) -> Result<(ObjectMeta, u64), S3Error> {
    let corrupt = |why: &str| internal(format!("corrupt object file {}: {why}", path.display()));
    let file_len = file.metadata().map_err(io_context("stat", path))?.len();
    if file_len < TRAILER_LEN_V1 {
        return Err(corrupt("shorter than its trailer"));
    }
    let tail_len = file_len.min(TAIL_READ);
    // At most TAIL_READ bytes.
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact_at(&mut tail, file_len - tail_len)
        .map_err(io_context("read trailer of", path))?;
    let u64_at = |bytes: &[u8]| {
        let mut b = [0u8; 8];
        b.copy_from_slice(bytes);
        u64::from_le_bytes(b)
    };
    let (trailer_len, seq) = match &tail[tail.len() - 4..] {
        m if m == MAGIC && tail.len() as u64 >= TRAILER_LEN => {
            let t = tail.len() - TRAILER_LEN as usize;
            (TRAILER_LEN, u64_at(&tail[t..t + 8]))
        }
        m if m == MAGIC_V1 => (TRAILER_LEN_V1, 0),
        _ => return Err(corrupt("bad magic")),
    };
    let rest = &tail[..tail.len() - trailer_len as usize];
    let json_len = u64_at(&tail[tail.len() - 12..tail.len() - 4]);
    let body_len = (file_len - trailer_len)
        .checked_sub(json_len)
        .filter(|_| json_len <= MAX_META_LEN)
        .ok_or_else(|| corrupt("bad metadata length"))?;
    let meta: ObjectMeta = if json_len <= rest.len() as u64 {
        serde_json::from_slice(&rest[rest.len() - json_len as usize..])
    } else {
        // At most MAX_META_LEN, checked above.
        let mut json = vec![0u8; json_len as usize];
        file.read_exact_at(&mut json, body_len)
            .map_err(io_context("read metadata of", path))?;
        serde_json::from_slice(&json)
    }
    .map_err(|e| corrupt(&format!("metadata: {e}")))?;
    if meta.size != body_len {
        return Err(corrupt("body length differs from the stored size"));
    }
    Ok((meta, seq))
}

/// An opened body: an object file, or a record in a segment. Reads come from this
/// descriptor, so a later rename over the same name (or a compaction that deletes the
/// segment) does not change what is read.
pub(super) struct DiskBody {
    pub(super) file: Arc<File>,
    /// Where the body starts in the file.
    pub(super) base: u64,
    pub(super) size: u64,
}

/// A body (or range) up to this size is read in one `pread` on the calling worker: for
/// a file in the page cache that is a `memcpy`, cheaper than any hand-off to a thread.
const INLINE_READ: u64 = 128 * 1024;
/// Larger bodies are read ahead by one blocking thread in blocks of this size (under
/// the allocator's mmap threshold, `connections::tune_allocator`, so a block's memory is
/// reused from the heap instead of faulted in fresh)...
const READ_BLOCK: usize = 512 * 1024;
/// ...at most this many blocks ahead of the client (bounds memory per download).
const READ_AHEAD: usize = 4;

impl ObjectBody for DiskBody {
    /// Why two paths: profiling showed tokio's file reader costs a thread hop per 64 KiB
    /// chunk (about 1.1 GB/s for a 256 MiB GET here); one reader thread per large body,
    /// reading 512 KiB blocks with `pread` and handing them over a bounded channel, reaches
    /// the limit server's speed, and a small body needs no thread at all.
    fn stream(self: Box<Self>, range: Option<(u64, u64)>) -> ByteStream {
        let DiskBody { file, base, size } = *self;
        // Clamp to the body: reading past it would read the metadata trailer.
        let (start, end_exclusive) = match range {
            Some((start, end)) => (start, end.saturating_add(1).min(size)),
            None => (0, size),
        };
        let len = end_exclusive.saturating_sub(start);
        if len == 0 {
            return Box::pin(futures_util::stream::empty());
        }
        if len <= INLINE_READ {
            let read = read_block(&file, base + start, len as usize);
            return Box::pin(futures_util::stream::once(async move { read }));
        }
        let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
        tokio::task::spawn_blocking(move || {
            let mut at = start;
            while at < end_exclusive {
                let n = (end_exclusive - at).min(READ_BLOCK as u64);
                let block = read_block(&file, base + at, n as usize);
                let failed = block.is_err();
                // The receiver is gone when the client went away: stop reading.
                if tx.blocking_send(block).is_err() || failed {
                    return;
                }
                at += n;
            }
        });
        Box::pin(receiver_stream(rx))
    }
}

/// Reads exactly `len` bytes at `at` (the file is never shorter than its body).
fn read_block(file: &File, at: u64, len: usize) -> Result<Bytes, S3Error> {
    let mut buf = BytesMut::zeroed(len);
    file.read_exact_at(&mut buf, at)
        .map_err(|e| S3Error::internal(format!("read object file: {e}")))?;
    Ok(buf.freeze())
}

/// The blocks a reader thread sends, as a stream.
fn receiver_stream(
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, S3Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, S3Error>> + Send {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|block| (block, rx))
    })
}
