//! Reading segments back: the scan that finds every whole record (skipping damage), and
//! a segment's recovery at store open.

use std::fs::{self, File};
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::{
    HEADER_LEN, KIND_OBJECT, MAGIC, SEGMENT_HEADER, Scanned, ScannedKind, Segment, crc32c, header,
    segment_id,
};
use crate::error::S3Error;
use crate::storage::ObjectMeta;
use crate::storage::disk::durable::{file_name, io_context};

/// How far a [`scan`] got.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::storage::disk) struct ScanEnd {
    /// Just past the last whole record: a torn tail, if any, starts here.
    pub(in crate::storage::disk) end: u64,
    /// Bytes of damaged records skipped before `end`.
    pub(in crate::storage::disk) skipped: u64,
}

/// Reads a segment's records in order, calling `visit` with each and its bytes (the
/// whole record as written), until the end; `visit` returns `false` to stop.
///
/// A damaged record (bad header, short, CRC mismatch) is skipped to the next whole record
/// (found by its magic, header and CRC), so one bad byte loses one record, not the rest of
/// the segment; with no whole record after it, it is the torn tail a crash leaves. A
/// record whose CRC holds but whose metadata does not parse is skipped with a warning.
/// An I/O error is an error: the caller must not take a cut-short scan for the whole.
pub(in crate::storage::disk) fn scan(
    seg: &Segment,
    mut visit: impl FnMut(Scanned, &[u8]) -> Result<bool, S3Error>,
) -> Result<ScanEnd, S3Error> {
    let read_error = || io_context("read segment", &seg.path);
    let file_len = seg
        .file
        .metadata()
        .map_err(io_context("stat", &seg.path))?
        .len();
    let mut reader = reader_at(seg, SEGMENT_HEADER);
    let (mut at, mut skipped) = (SEGMENT_HEADER, 0u64);
    let mut record = Vec::new();
    while at < file_len {
        let Some((kind, seq, meta_len, body_len)) =
            read_record(seg, &mut reader, at, file_len, &mut record).map_err(read_error())?
        else {
            match find_record(seg, at + 1, file_len, &mut record)? {
                Some(next) => {
                    tracing::error!(segment = %seg.path.display(), from = at, to = next, "damaged record skipped; the object it held is lost");
                    skipped += next - at;
                    at = next;
                    reader = reader_at(seg, next);
                    continue;
                }
                None => break,
            }
        };
        let len = record.len() as u64;
        let meta_end = HEADER_LEN + meta_len as usize;
        let meta = &record[HEADER_LEN..meta_end];
        let what = match kind {
            KIND_OBJECT => serde_json::from_slice::<Box<ObjectMeta>>(meta)
                .map_err(|e| e.to_string())
                .and_then(|m| match m.size == body_len {
                    true => Ok(ScannedKind::Object(m)),
                    false => Err(format!("size {} but a body of {body_len} bytes", m.size)),
                }),
            _ => String::from_utf8(meta.to_vec())
                .map(ScannedKind::Delete)
                .map_err(|e| e.to_string()),
        };
        let scanned = match what {
            Ok(what) => Some(Scanned {
                seq,
                at,
                // At most MAX_META + MAX_BODY + 32, under u32::MAX.
                len: len as u32,
                what,
            }),
            Err(e) => {
                tracing::warn!(segment = %seg.path.display(), at, error = %e, "unreadable record; skipped");
                None
            }
        };
        at += len;
        if let Some(scanned) = scanned
            && !visit(scanned, &record)?
        {
            break;
        }
    }
    Ok(ScanEnd { end: at, skipped })
}

fn reader_at(seg: &Segment, at: u64) -> BufReader<ReadAt<'_>> {
    BufReader::with_capacity(
        1024 * 1024,
        ReadAt {
            file: &seg.file,
            at,
        },
    )
}

/// Reads the record at `at` into `record` if it is a whole one: (kind, seq, meta_len,
/// body_len). `Ok(None)` for a damaged or short one.
fn read_record(
    seg: &Segment,
    reader: &mut impl Read,
    at: u64,
    file_len: u64,
    record: &mut Vec<u8>,
) -> std::io::Result<Option<(u8, u64, u32, u64)>> {
    let short = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => Ok(None),
        _ => Err(e),
    };
    if at + HEADER_LEN as u64 > file_len {
        return Ok(None);
    }
    record.resize(HEADER_LEN, 0);
    if let Err(e) = reader.read_exact(record) {
        return short(e);
    }
    let Some((kind, seq, meta_len, crc, body_len)) = header(record) else {
        return Ok(None);
    };
    let len = HEADER_LEN as u64 + u64::from(meta_len) + body_len;
    if at + len > file_len {
        return Ok(None);
    }
    // At most MAX_META + MAX_BODY, checked by `header`.
    record.resize(len as usize, 0);
    if let Err(e) = reader.read_exact(&mut record[HEADER_LEN..]) {
        return short(e);
    }
    Ok((crc32c(seg.salt, record) == crc).then_some((kind, seq, meta_len, body_len)))
}

/// The offset of the first whole record at or after `from`, if any.
fn find_record(
    seg: &Segment,
    from: u64,
    file_len: u64,
    record: &mut Vec<u8>,
) -> Result<Option<u64>, S3Error> {
    const WINDOW: usize = 1024 * 1024;
    let read_error = || io_context("read segment", &seg.path);
    let mut window = vec![0u8; WINDOW];
    let mut pos = from;
    while pos + HEADER_LEN as u64 <= file_len {
        // At most WINDOW.
        let n = (file_len - pos).min(WINDOW as u64) as usize;
        seg.file
            .read_exact_at(&mut window[..n], pos)
            .map_err(read_error())?;
        for i in 0..n.saturating_sub(3) {
            if window[i..i + 4] == MAGIC {
                let candidate = pos + i as u64;
                let mut reader = reader_at(seg, candidate);
                if read_record(seg, &mut reader, candidate, file_len, record)
                    .map_err(read_error())?
                    .is_some()
                {
                    return Ok(Some(candidate));
                }
            }
        }
        // The last three bytes again: a magic may straddle the windows.
        pos += n.saturating_sub(3).max(1) as u64;
    }
    Ok(None)
}

/// Reads a file from a position of its own with `pread`: the descriptor is shared with
/// readers of bodies, and its cursor is never moved.
struct ReadAt<'a> {
    file: &'a File,
    at: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// A bucket's segment files at store open, oldest first (not yet read).
pub(in crate::storage::disk) fn segment_files(dir: &Path) -> Result<Vec<Segment>, S3Error> {
    let mut found = Vec::new();
    match fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let path = entry.map_err(io_context("read directory", dir))?.path();
                match segment_id(file_name(&path)) {
                    Some(id) => found.push((id, path)),
                    None => {
                        tracing::warn!(path = %path.display(), "unexpected file in segments dir; ignored")
                    }
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_context("read directory", dir)(e)),
    }
    found.sort();
    let mut segments = Vec::with_capacity(found.len());
    for (id, path) in found {
        segments.extend(Segment::open_existing(id, path)?);
    }
    Ok(segments)
}

/// Reads a segment at store open ([`scan`]) and cuts it at its first torn record, so the
/// next append follows the last whole one; then syncs it, since what a killed process
/// wrote may still be only in the page cache, and the open acts on it (an object file
/// outvoted by a record is removed). Returns its length.
pub(in crate::storage::disk) fn recover_segment(
    seg: &Segment,
    mut visit: impl FnMut(Scanned),
) -> Result<u64, S3Error> {
    let ScanEnd { end, .. } = scan(seg, |scanned, _| {
        visit(scanned);
        Ok(true)
    })?;
    let len = seg
        .file
        .metadata()
        .map_err(io_context("stat", &seg.path))?
        .len();
    if end < len {
        if zeros(seg, end, len)? {
            tracing::debug!(segment = %seg.path.display(), at = end, "zeros written ahead of the records cut off");
        } else {
            tracing::warn!(segment = %seg.path.display(), at = end, dropped = len - end, "segment cut at a record torn by a crash");
        }
        seg.file
            .set_len(end)
            .and_then(|_| seg.file.sync_all())
            .map_err(io_context("truncate segment", &seg.path))?;
    }
    seg.sync_now()?;
    seg.written.store(end, Ordering::Relaxed);
    Ok(end)
}

/// Whether the bytes from `from` to `to` are all zeros.
fn zeros(seg: &Segment, from: u64, to: u64) -> Result<bool, S3Error> {
    let mut buf = vec![0u8; 1024 * 1024];
    let mut at = from;
    while at < to {
        // At most the buffer's length.
        let n = (to - at).min(buf.len() as u64) as usize;
        seg.file
            .read_exact_at(&mut buf[..n], at)
            .map_err(io_context("read segment", &seg.path))?;
        if buf[..n].iter().any(|b| *b != 0) {
            return Ok(false);
        }
        at += n as u64;
    }
    Ok(true)
}
