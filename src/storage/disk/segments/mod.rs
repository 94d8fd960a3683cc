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
//! A segment file begins with a 16-byte header, `[ b"S3SG" ][ version: u32 = 1 ][ salt: u64 ]`
//! (the salt is random and covered by every record's CRC: see [`SEGMENT_HEADER`]); records
//! follow it, each:
//!
//! ```text
//! [ b"S3R1" ][ kind: u8 ][ 0u8; 3 ][ seq: u64 ][ meta_len: u32 ][ crc32c: u32 ][ body_len: u64 ]
//! [ meta: meta_len bytes ][ body: body_len bytes ]
//! ```
//!
//! Integers are little-endian; the header is 32 bytes. An object record's `meta` is its
//! `ObjectMeta` as JSON; a delete record's (a tombstone) is the key, with no body. The
//! CRC-32C covers the segment's salt, the header (with the CRC field zero), the meta and
//! the body, so a record
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

use std::fs::{File, OpenOptions};
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

mod scan;
mod table;

#[cfg(test)]
use scan::ScanEnd;
pub(super) use scan::{recover_segment, scan, segment_files};
pub(super) use table::Segments;

/// The directory of a bucket's segments.
pub(super) const SEGMENTS_DIR: &str = "segments";
/// A segment takes records until it holds this much; then a new one is started.
pub(super) const SEGMENT_LIMIT: u64 = 64 * 1024 * 1024;

const MAGIC: [u8; 4] = *b"S3R1";
/// A segment file starts with `b"S3SG"`, a `u32` version (1) and a random `u64` salt, which
/// every record's CRC covers: bytes that look like a record inside an object's body (a
/// segment file uploaded as an object, say) never pass for one when a scan looks for
/// the next whole record past damage, since their CRC was not made with this file's salt.
pub(super) const SEGMENT_HEADER: u64 = 16;
const SEGMENT_MAGIC: [u8; 4] = *b"S3SG";
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
    /// Mixed into every record's CRC (see [`SEGMENT_HEADER`]).
    salt: u64,
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
        let mut salt = [0u8; 8];
        getrandom::fill(&mut salt).map_err(|e| internal(format!("random salt: {e}")))?;
        let salt = u64::from_le_bytes(salt);
        let mut head = Vec::with_capacity(SEGMENT_HEADER as usize);
        head.extend_from_slice(&SEGMENT_MAGIC);
        head.extend_from_slice(&1u32.to_le_bytes());
        head.extend_from_slice(&salt.to_le_bytes());
        file.write_all_at(&head, 0)
            .and_then(|_| file.sync_data())
            .map_err(io_context("write segment header", &path))?;
        sync_dir(dir)?;
        let seg = Segment::new(id, path, file, salt);
        seg.written.store(SEGMENT_HEADER, Ordering::Relaxed);
        Ok(seg)
    }

    /// An existing segment file, by its header: `None` (and the file removed) for one
    /// whose creation a crash cut short (no record can have been acknowledged in it, as
    /// the header is synced first); an error for a longer file with a damaged header,
    /// which is left in place for whoever must look at it.
    pub(super) fn open_existing(id: u32, path: PathBuf) -> Result<Option<Segment>, S3Error> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_context("open segment", &path))?;
        let len = file.metadata().map_err(io_context("stat", &path))?.len();
        let mut head = [0u8; SEGMENT_HEADER as usize];
        let read = file.read_exact_at(&mut head, 0);
        if read.is_err() || head[..4] != SEGMENT_MAGIC || head[4..8] != 1u32.to_le_bytes() {
            if len <= SEGMENT_HEADER {
                tracing::warn!(segment = %path.display(), "segment whose creation was cut short; removed");
                remove_segment_file(&path)?;
                return Ok(None);
            }
            return Err(internal(format!(
                "segment {} has a damaged header; move it out of the way to open the store",
                path.display()
            )));
        }
        let mut salt = [0u8; 8];
        salt.copy_from_slice(&head[8..]);
        Ok(Some(Segment::new(id, path, file, u64::from_le_bytes(salt))))
    }

    fn new(id: u32, path: PathBuf, file: File, salt: u64) -> Segment {
        Segment {
            id,
            path,
            file: Arc::new(file),
            salt,
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

    /// Whether a write to this segment may still be waiting for its sync.
    pub(super) fn sync_pending(&self) -> bool {
        self.sync.pending()
    }

    /// [`Segment::sync`] on this blocking thread, now.
    pub(super) fn sync_now(&self) -> Result<(), S3Error> {
        self.sync.sync_now(&self.file)
    }

    /// Writes an encoded record at `at`, its CRC made with this segment's salt (holding
    /// the bucket's commit lock, as every writer of a segment does).
    pub(super) fn write(&self, at: u64, record: &mut [u8]) -> Result<(), S3Error> {
        let crc = crc32c(self.salt, record);
        record[20..24].copy_from_slice(&crc.to_le_bytes());
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
    // The CRC field stays zero until the record is written to a segment (its salt).
    Ok(out)
}

/// CRC-32C of a segment's salt and a record with its CRC field read as zero.
fn crc32c(salt: u64, record: &[u8]) -> u32 {
    let mut digest = CrcDigest::new(CrcAlgorithm::Crc32Iscsi);
    digest.update(&salt.to_le_bytes());
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

/// Deletes a compacted segment's file durably.
pub(super) fn remove_segment(seg: &Segment) -> Result<(), S3Error> {
    remove_segment_file(&seg.path)
}

fn remove_segment_file(path: &Path) -> Result<(), S3Error> {
    remove_if_present(path)?;
    sync_dir(super::durable::parent(path)?)
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
            part_checksums: Vec::new(),
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
        let mut first = first;
        let mut second = encode(8, &Record::Delete { key: "a" }).unwrap();
        let start = SEGMENT_HEADER;
        seg.write(start, &mut first).unwrap();
        seg.write(start + first.len() as u64, &mut second).unwrap();
        let whole = start + (first.len() + second.len()) as u64;
        let raw = |at: u64, bytes: &[u8]| seg.file.write_all_at(bytes, at).unwrap();
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
        let mut third = encode(9, &Record::Delete { key: "b" }).unwrap();
        seg.write(whole, &mut third).unwrap();
        seg.file.set_len(whole + third.len() as u64 / 2).unwrap();
        assert_eq!(scan_all(&seg).1.end, whole);
        let mut flipped = third.clone();
        *flipped.last_mut().unwrap() ^= 1;
        raw(whole, &flipped);
        let (seen, end) = scan_all(&seg);
        assert_eq!((seen.len(), end.end), (2, whole));
        // A record made for another segment (another salt), as an object's body may hold
        // one, is not taken for a record of this one.
        let other = Segment::create(&dir.path().join("s"), dir.path(), 2).unwrap();
        let mut foreign = encode(99, &Record::Delete { key: "x" }).unwrap();
        other.write(SEGMENT_HEADER, &mut foreign).unwrap();
        raw(whole, &foreign);
        assert_eq!(scan_all(&seg).0.len(), 2);
        // A flipped byte in the first record loses that record only: the scan finds the
        // next one by its magic and CRC.
        seg.file.set_len(whole).unwrap();
        raw(start + HEADER_LEN as u64 + 60, b"\xff");
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
