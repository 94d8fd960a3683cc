//! Small objects on disk: records appended to a bucket's segment files, made durable by
//! one shared `fdatasync` per group of puts.
//!
//! # Why
//!
//! A file per object costs a file creation, a rename and a journal commit for the
//! directory on every put: about 4,000 creates and renames a second on this kind of
//! machine with no sync at all, a twelfth of what the request path can do. An append to
//! an open file costs a `pwrite`, and one `fdatasync` covers every put waiting on it
//! ([`super::group_sync`]). Objects up to `put::SMALL_BODY` are therefore records in
//! `<bucket>/segments/<id>.seg`; larger ones keep a file each (their time is the disk's).
//! A GET of a record reads from the segment's open descriptor: no open, no close.
//!
//! # Record format
//!
//! ```text
//! [ b"S3R1" ][ kind: u8 ][ 0u8; 3 ][ seq: u64 ][ meta_len: u32 ][ crc32c: u32 ][ body_len: u64 ]
//! [ meta: meta_len bytes ][ body: body_len bytes ]
//! ```
//!
//! Integers are little-endian; the header is 32 bytes. An object record's `meta` is its
//! `ObjectMeta` as JSON; a delete record's (a tombstone) is the key, with no body. The
//! CRC-32C covers the header (with the CRC field zero), the meta and the body, so a record
//! torn by a crash is recognised: at open a segment is cut at its first torn record. A
//! record is acknowledged only after a sync that covers it, and records are written in
//! order, so nothing after the first torn record was ever acknowledged.
//!
//! # Which write wins
//!
//! Every commit of a bucket — a record, a tombstone, an object file renamed into place —
//! takes the next number of the bucket's sequence under the commit lock; object files
//! carry theirs in their trailer (`format`). At open the highest number for a key wins, so
//! a small put over a large object (a record newer than the file) and a large put over a
//! small one (a file newer than the record) both come back as they were acknowledged, and
//! a key deleted after either stays deleted. A replaced object file is removed once the
//! record that replaced it is durable.
//!
//! # Compaction
//!
//! Overwrites and deletes leave dead records behind. When a segment fills up
//! ([`SEGMENT_LIMIT`]) a new one is started, and every full segment less than half alive
//! is compacted: its live records are appended again (same sequence numbers) to the
//! active segment, the copies and every newer segment made durable (the writes that made
//! its records dead are there), and the old segment deleted — only if it was read to its
//! end and no object points into it any more. A tombstone is copied too while an older
//! segment may still hold a record of its key (each segment keeps the hashes of its
//! records' keys), and counts as live while it is kept. An older record a tombstone must
//! outvote can only be in an older or the same segment: copies are only ever made of live
//! records, into the newest segment.
//!
//! # Damage
//!
//! A record that fails its checks is skipped to the next whole record (found by magic,
//! header and CRC), so a flipped bit loses one object; with no whole record after it, it is
//! a torn tail and the segment is cut there at open.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use crc_fast::{CrcAlgorithm, Digest as CrcDigest};

use super::durable::{ensure_dir, internal, io_context, off_worker, remove_if_present, sync_dir};
use super::group_sync::GroupSync;
use crate::error::S3Error;
use crate::storage::ObjectMeta;

/// The directory of a bucket's segments.
pub(super) const SEGMENTS_DIR: &str = "segments";
/// A segment takes records until it holds this much; then a new one is started.
pub(super) const SEGMENT_LIMIT: u64 = 64 * 1024 * 1024;

const MAGIC: [u8; 4] = *b"S3R1";
const HEADER_LEN: usize = 32;
const KIND_OBJECT: u8 = 1;
const KIND_DELETE: u8 = 2;
/// Bounds that tell a torn or foreign header from a record: metadata is a few KiB, and
/// a record's body is a small object's.
const MAX_META: u32 = 1024 * 1024;
const MAX_BODY: u64 = 4 * 1024 * 1024;
const SUFFIX: &str = ".seg";

/// Where an object's bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Loc {
    /// In its own object file (named by its key).
    File,
    /// In a record `len` bytes long at `at` in segment `seg`; the body is its last
    /// `size` bytes.
    Segment { seg: u32, at: u64, len: u32 },
}

/// One segment file, open for reading and appending.
pub(super) struct Segment {
    pub(super) id: u32,
    pub(super) path: PathBuf,
    pub(super) file: Arc<File>,
    sync: Arc<GroupSync>,
    /// How far the file is written (records, then zeros ahead of them: [`ZERO_AHEAD`]).
    written: AtomicU64,
}

/// How far ahead of its records a segment is filled with zeros. Why: a record's
/// `fdatasync` then finds its blocks allocated and the file's size unchanged, so it is a
/// flush of data pages with no journal commit for the metadata; an append that grows
/// the file pays one (about 200 µs against 120 µs per sync here, `dd oflag=dsync`). The
/// zeros after the last record are a torn tail to the next open, which cuts them off.
/// A segment zeroes as far ahead as it already holds, from [`MIN_ZERO_AHEAD`] to this, so
/// a bucket with a few small objects (most test buckets) costs 64 KiB, not 4 MiB.
const ZERO_AHEAD: u64 = 4 * 1024 * 1024;
const MIN_ZERO_AHEAD: u64 = 64 * 1024;

impl Segment {
    /// Creates segment `id` durably (its directory entry is synced before any record in
    /// it can be acknowledged), off the async worker ([`off_worker`]).
    pub(super) fn create(dir: &Path, bucket_dir: &Path, id: u32) -> Result<Segment, S3Error> {
        off_worker(|| Segment::create_here(dir, bucket_dir, id))
    }

    fn create_here(dir: &Path, bucket_dir: &Path, id: u32) -> Result<Segment, S3Error> {
        ensure_dir(dir, bucket_dir)?;
        let path = dir.join(segment_file_name(id));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io_context("create segment", &path))?;
        sync_dir(dir)?;
        Ok(Segment::new(id, path, file))
    }

    fn new(id: u32, path: PathBuf, file: File) -> Segment {
        Segment {
            id,
            path,
            file: Arc::new(file),
            sync: Arc::new(GroupSync::default()),
            written: AtomicU64::new(0),
        }
    }

    /// Cuts the zeros after the last record off a segment that takes no more records
    /// (best effort: the next open would cut them too).
    pub(super) fn seal(&self, size: u64) {
        if let Err(e) = self.file.set_len(size) {
            tracing::warn!(segment = %self.path.display(), error = %e, "cannot trim a full segment");
        }
    }

    /// Returns once every record written to this segment before the call is durable,
    /// sharing the `fdatasync` with every other writer waiting ([`GroupSync`]).
    pub(super) async fn sync(&self) -> Result<(), S3Error> {
        self.sync.sync(&self.file).await
    }

    /// [`Segment::sync`] on this blocking thread, now.
    pub(super) fn sync_now(&self) -> Result<(), S3Error> {
        self.sync.sync_now(&self.file)
    }

    /// Writes an encoded record at `at` (holding the bucket's commit lock, as every
    /// writer of a segment does).
    pub(super) fn write(&self, at: u64, record: &[u8]) -> Result<(), S3Error> {
        let end = at + record.len() as u64;
        if end > self.written.load(Ordering::Relaxed) {
            off_worker(|| self.zero_ahead(end))?;
        }
        self.file
            .write_all_at(record, at)
            .map_err(io_context("append to segment", &self.path))
    }

    /// Fills the file with zeros past `end` (see [`ZERO_AHEAD`]) and makes that durable.
    fn zero_ahead(&self, end: u64) -> Result<(), S3Error> {
        const BLOCK: usize = 1024 * 1024;
        let zeros = vec![0u8; BLOCK];
        let ahead = end.clamp(MIN_ZERO_AHEAD, ZERO_AHEAD);
        let (mut at, to) = (self.written.load(Ordering::Relaxed), end + ahead);
        while at < to {
            // At most BLOCK.
            let n = (to - at).min(BLOCK as u64) as usize;
            self.file
                .write_all_at(&zeros[..n], at)
                .map_err(io_context("extend segment", &self.path))?;
            at += n as u64;
        }
        self.sync_now()?;
        self.written.store(to, Ordering::Relaxed);
        Ok(())
    }
}

fn segment_file_name(id: u32) -> String {
    format!("{id:08}{SUFFIX}")
}

/// The id of a segment file's name, if it is one.
pub(super) fn segment_id(name: &str) -> Option<u32> {
    let digits = name.strip_suffix(SUFFIX)?;
    // Eight digits or more: past 99999999 the names grow a digit.
    (digits.len() >= 8 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// What a record says.
pub(super) enum Record<'a> {
    Object {
        meta: &'a ObjectMeta,
        body: &'a [Bytes],
    },
    Delete {
        key: &'a str,
    },
}

/// A record in its on-disk form.
pub(super) fn encode(seq: u64, record: &Record<'_>) -> Result<Vec<u8>, S3Error> {
    let (kind, meta, body) = match record {
        Record::Object { meta, body } => {
            let json = serde_json::to_vec(meta)
                .map_err(|e| internal(format!("encode object metadata: {e}")))?;
            (KIND_OBJECT, json, *body)
        }
        Record::Delete { key } => (KIND_DELETE, key.as_bytes().to_vec(), &[][..]),
    };
    let body_len: u64 = body.iter().map(|c| c.len() as u64).sum();
    let meta_len = u32::try_from(meta.len())
        .ok()
        .filter(|n| *n <= MAX_META)
        .ok_or_else(|| internal("object metadata too large for a segment record"))?;
    if body_len > MAX_BODY {
        return Err(internal("body too large for a segment record"));
    }
    let mut out = Vec::with_capacity(HEADER_LEN + meta.len() + body_len as usize);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[kind, 0, 0, 0]);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&meta_len.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&body_len.to_le_bytes());
    out.extend_from_slice(&meta);
    for chunk in body {
        out.extend_from_slice(chunk);
    }
    let crc = crc32c(&out);
    out[20..24].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// CRC-32C of a record with its CRC field read as zero.
fn crc32c(record: &[u8]) -> u32 {
    let mut digest = CrcDigest::new(CrcAlgorithm::Crc32Iscsi);
    digest.update(&record[..20]);
    digest.update(&[0; 4]);
    digest.update(&record[24..]);
    // A CRC-32 fits 32 bits.
    digest.finalize() as u32
}

/// A record read back by [`scan`].
pub(super) struct Scanned {
    pub(super) seq: u64,
    pub(super) at: u64,
    pub(super) len: u32,
    pub(super) what: ScannedKind,
}

pub(super) enum ScannedKind {
    Object(Box<ObjectMeta>),
    Delete(String),
}

impl Scanned {
    pub(super) fn key(&self) -> &str {
        match &self.what {
            ScannedKind::Object(meta) => &meta.key,
            ScannedKind::Delete(key) => key,
        }
    }

    pub(super) fn loc(&self, seg: u32) -> Loc {
        Loc::Segment {
            seg,
            at: self.at,
            len: self.len,
        }
    }
}

/// How far a [`scan`] got.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ScanEnd {
    /// Just past the last whole record: a torn tail, if any, starts here.
    pub(super) end: u64,
    /// Bytes of damaged records skipped before `end`.
    pub(super) skipped: u64,
}

/// Reads a segment's records in order, calling `visit` with each and its bytes (the
/// whole record as written), until the end; `visit` returns `false` to stop.
///
/// A damaged record (bad header, short, CRC mismatch) is skipped to the next whole record
/// (found by its magic, header and CRC), so one bad byte loses one record, not the rest of
/// the segment; with no whole record after it, it is the torn tail a crash leaves. A
/// record whose CRC holds but whose metadata does not parse is skipped with a warning.
/// An I/O error is an error: the caller must not take a cut-short scan for the whole.
pub(super) fn scan(
    seg: &Segment,
    mut visit: impl FnMut(Scanned, &[u8]) -> Result<bool, S3Error>,
) -> Result<ScanEnd, S3Error> {
    let read_error = || io_context("read segment", &seg.path);
    let file_len = seg
        .file
        .metadata()
        .map_err(io_context("stat", &seg.path))?
        .len();
    let mut reader = reader_at(seg, 0);
    let (mut at, mut skipped) = (0u64, 0u64);
    let mut record = Vec::new();
    while at < file_len {
        let Some((kind, seq, meta_len, body_len)) =
            read_record(&mut reader, at, file_len, &mut record).map_err(read_error())?
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
    Ok((crc32c(record) == crc).then_some((kind, seq, meta_len, body_len)))
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
                if read_record(&mut reader, candidate, file_len, record)
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

/// A header's fields if it is one: (kind, seq, meta_len, crc, body_len).
fn header(h: &[u8]) -> Option<(u8, u64, u32, u32, u64)> {
    let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let u64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&h[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let kind = h[4];
    let (meta_len, body_len) = (u32_at(16), u64_at(24));
    let ok = h[..4] == MAGIC
        && h[5..8] == [0, 0, 0]
        && (kind == KIND_OBJECT || (kind == KIND_DELETE && body_len == 0))
        && meta_len <= MAX_META
        && body_len <= MAX_BODY;
    ok.then(|| (kind, u64_at(8), meta_len, u32_at(20), body_len))
}

/// A bucket's segments: each one's size and how many of its bytes are live records.
#[derive(Default)]
pub(super) struct Segments {
    table: BTreeMap<u32, SegmentStat>,
}

struct SegmentStat {
    seg: Arc<Segment>,
    size: u64,
    live: u64,
    /// Hashes of the keys of the object records in it, dead or alive: a tombstone in a
    /// newer segment is kept while one of these may be its key (a false positive only
    /// keeps a tombstone longer). About 16 bytes a record.
    keys: HashSet<u64>,
}

fn key_hash(key: &str) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

impl Segments {
    pub(super) fn add(&mut self, seg: Arc<Segment>, size: u64) {
        self.table.insert(
            seg.id,
            SegmentStat {
                seg,
                size,
                live: 0,
                keys: HashSet::new(),
            },
        );
    }

    pub(super) fn get(&self, id: u32) -> Option<&Arc<Segment>> {
        self.table.get(&id).map(|s| &s.seg)
    }

    /// A segment and its size.
    pub(super) fn get_sized(&self, id: u32) -> Option<(Arc<Segment>, u64)> {
        self.table.get(&id).map(|s| (s.seg.clone(), s.size))
    }

    /// Records that segment `id` holds an object record of `key`.
    pub(super) fn note_key(&mut self, id: u32, key: &str) {
        if let Some(s) = self.table.get_mut(&id) {
            s.keys.insert(key_hash(key));
        }
    }

    /// Whether a segment older than `id` may hold an object record of `key`.
    pub(super) fn older_may_hold(&self, id: u32, key: &str) -> bool {
        let hash = key_hash(key);
        self.table.range(..id).any(|(_, s)| s.keys.contains(&hash))
    }

    /// The segments newer than `id`.
    pub(super) fn newer_than(&self, id: u32) -> Vec<Arc<Segment>> {
        self.table
            .range(id + 1..)
            .map(|(_, s)| s.seg.clone())
            .collect()
    }

    /// The segment records are appended to, and where its next record goes.
    pub(super) fn active(&self) -> Option<(Arc<Segment>, u64)> {
        self.table
            .last_key_value()
            .map(|(_, s)| (s.seg.clone(), s.size))
    }

    pub(super) fn next_id(&self) -> u32 {
        self.table.last_key_value().map_or(1, |(id, _)| id + 1)
    }

    pub(super) fn grow(&mut self, id: u32, len: u64) {
        if let Some(s) = self.table.get_mut(&id) {
            s.size += len;
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// A location became live (`live`) or dead.
    pub(super) fn account(&mut self, loc: Loc, live: bool) {
        if let Loc::Segment { seg, len, .. } = loc
            && let Some(s) = self.table.get_mut(&seg)
        {
            if live {
                s.live += u64::from(len);
            } else {
                s.live = s.live.saturating_sub(u64::from(len));
            }
        }
    }

    /// The full segments (not the active one) less than half alive, oldest first.
    pub(super) fn compaction_candidates(&self) -> Vec<u32> {
        let Some(active) = self.table.last_key_value().map(|(id, _)| *id) else {
            return Vec::new();
        };
        self.table
            .iter()
            .filter(|(id, s)| **id != active && (s.live * 2 < s.size || s.size == 0))
            .map(|(id, _)| *id)
            .collect()
    }

    pub(super) fn remove(&mut self, id: u32) -> Option<Arc<Segment>> {
        self.table.remove(&id).map(|s| s.seg)
    }

    #[cfg(test)]
    pub(super) fn total_size(&self) -> u64 {
        self.table.values().map(|s| s.size).sum()
    }

    #[cfg(test)]
    pub(super) fn ids(&self) -> Vec<u32> {
        self.table.keys().copied().collect()
    }
}

/// A bucket's segment files at store open, oldest first (not yet read).
pub(super) fn segment_files(dir: &Path) -> Result<Vec<Segment>, S3Error> {
    let mut found = Vec::new();
    match fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let path = entry.map_err(io_context("read directory", dir))?.path();
                match segment_id(super::durable::file_name(&path)) {
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
    found
        .into_iter()
        .map(|(id, path)| {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(io_context("open segment", &path))?;
            Ok(Segment::new(id, path, file))
        })
        .collect()
}

/// Reads a segment at store open ([`scan`]) and cuts it at its first torn record, so the
/// next append follows the last whole one; then syncs it, since what a killed process
/// wrote may still be only in the page cache, and the open acts on it (an object file
/// outvoted by a record is removed). Returns its length.
pub(super) fn recover_segment(
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

/// Deletes a compacted segment's file durably.
pub(super) fn remove_segment(seg: &Segment) -> Result<(), S3Error> {
    remove_if_present(&seg.path)?;
    sync_dir(super::durable::parent(&seg.path)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::ObjectAttrs;
    use time::OffsetDateTime;

    fn meta(key: &str, size: u64) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size,
            etag: "9e107d9d372bb6826bd81d3542a419d6".into(),
            last_modified: OffsetDateTime::UNIX_EPOCH,
            attrs: ObjectAttrs::default(),
            parts: Vec::new(),
        }
    }

    fn scan_all(seg: &Segment) -> (Vec<(u64, String, Vec<u8>)>, ScanEnd) {
        let mut seen = Vec::new();
        let end = scan(seg, |s, raw| {
            let body = match &s.what {
                ScannedKind::Object(meta) => &raw[raw.len() - meta.size as usize..],
                ScannedKind::Delete(_) => &[][..],
            };
            assert_eq!(raw.len(), s.len as usize);
            seen.push((s.seq, s.key().to_owned(), body.to_vec()));
            Ok(true)
        })
        .unwrap();
        (seen, end)
    }

    #[test]
    fn records_read_back_and_a_torn_tail_ends_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        let seg = Segment::create(&dir.path().join("s"), dir.path(), 1).unwrap();
        let body = [Bytes::from_static(b"hello "), Bytes::from_static(b"world")];
        let first = encode(
            7,
            &Record::Object {
                meta: &meta("a", 11),
                body: &body,
            },
        )
        .unwrap();
        let second = encode(8, &Record::Delete { key: "a" }).unwrap();
        seg.write(0, &first).unwrap();
        seg.write(first.len() as u64, &second).unwrap();
        let whole = (first.len() + second.len()) as u64;
        let (seen, end) = scan_all(&seg);
        assert_eq!(
            end,
            ScanEnd {
                end: whole,
                skipped: 0
            }
        );
        assert_eq!(
            seen,
            [
                (7, "a".to_owned(), b"hello world".to_vec()),
                (8, "a".to_owned(), Vec::new())
            ]
        );
        // A third record torn half-way, and one with a flipped byte: the scan ends at the
        // last whole record either way.
        let third = encode(9, &Record::Delete { key: "b" }).unwrap();
        seg.write(whole, &third[..third.len() / 2]).unwrap();
        assert_eq!(scan_all(&seg).1.end, whole);
        let mut flipped = third.clone();
        *flipped.last_mut().unwrap() ^= 1;
        seg.write(whole, &flipped).unwrap();
        let (seen, end) = scan_all(&seg);
        assert_eq!((seen.len(), end.end), (2, whole));
        // A flipped byte in the first record loses that record only: the scan finds the
        // next one by its magic and CRC.
        seg.file.set_len(whole).unwrap();
        seg.write(HEADER_LEN as u64 + 60, b"\xff").unwrap();
        let (seen, end) = scan_all(&seg);
        assert_eq!(seen, [(8, "a".to_owned(), Vec::new())]);
        assert_eq!(
            end,
            ScanEnd {
                end: whole,
                skipped: first.len() as u64
            }
        );
    }

    #[test]
    fn segment_names_round_trip_and_nothing_else_is_one() {
        assert_eq!(segment_id(&segment_file_name(42)), Some(42));
        for name in [
            "1.seg",
            "0000000a.seg",
            "00000001.tmp",
            "00000001.seg.x",
            "",
        ] {
            assert_eq!(segment_id(name), None, "{name}");
        }
    }
}
