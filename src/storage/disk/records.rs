//! How a bucket writes to its segments: a small put or a delete as one appended record,
//! and compaction. The format and the ordering rules are in [`super::segments`].

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::durable::{blocking, parent, remove_if_present, sync_dir};
use super::index::Stored;
use super::segments::{
    Loc, Record, SEGMENT_HEADER, SEGMENTS_DIR, ScannedKind, Segment, encode, remove_segment, scan,
};
use super::{CommitGuard, DiskBucket};
use crate::error::S3Error;
use crate::storage::CommitCheck;

/// A record written and indexed, not yet durable.
struct Appended {
    seg: Arc<Segment>,
    /// Where the object the record replaced (or deleted) was.
    replaced: Option<Stored>,
    /// Whether the record started a new segment (time to look for compaction).
    rolled: bool,
}

impl DiskBucket {
    /// The next number of the bucket's sequence; called holding the commit lock.
    pub(super) fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    fn segments_dir(&self) -> std::path::PathBuf {
        self.dir.join(SEGMENTS_DIR)
    }

    /// A small put or a delete, whole, holding the commit lock (`commit`): runs the
    /// check, appends and indexes the record, and returns once it is durable.
    ///
    /// The check, the `pwrite` (to the page cache: microseconds, like the open of a GET)
    /// and the index update run on the calling worker with no `.await` between them, so
    /// a request dropped meanwhile (the client went away) cannot stop the commit half-way;
    /// the wait for the shared sync is async ([`Segment::sync`]).
    pub(super) async fn commit_record(
        self: &Arc<Self>,
        commit: CommitGuard,
        record: Record<'_>,
        check: Option<CommitCheck>,
    ) -> Result<(), S3Error> {
        let key = match &record {
            Record::Object { meta, .. } => meta.key.as_str(),
            Record::Delete { key } => key,
        };
        self.check_syncs()?;
        if let Some(check) = check {
            check(self.index().get(key).as_ref())?;
        }
        let appended = self.append(&record)?;
        if appended.replaced.map(|s| s.loc) == Some(Loc::File) {
            // The object's file goes only once the record that outvotes it is durable,
            // and before the commit lock is released (a put after this one may place a
            // new file under the same name). Rare: a small put or a delete over a large
            // object.
            let (bucket, seg, key) = (self.clone(), appended.seg.clone(), key.to_owned());
            blocking(move || {
                let _commit = commit;
                bucket.noting_failure(seg.sync_now())?;
                bucket.remove_file_of(&key)
            })
            .await?;
        } else {
            drop(commit);
            self.noting_failure(appended.seg.sync().await)?;
        }
        if appended.rolled {
            // The put waits for the compaction its segment started (once per
            // SEGMENT_LIMIT of records), so a test or a client sees a settled store.
            let bucket = self.clone();
            blocking(move || {
                bucket.compact_in_place();
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    /// A delete: a tombstone record if the bucket has segments (a record of the key may be
    /// in one, and the tombstone outvotes it at the next open), else just the file.
    pub(super) async fn delete_key(self: &Arc<Self>, key: &str) -> Result<(), S3Error> {
        let commit = self.lock_commit().await?;
        let (stored, no_segments, pending) = {
            let index = self.index();
            let pending = index.segments.pending_syncs();
            (index.stored(key), index.segments.is_empty(), pending)
        };
        match stored {
            // Nothing to delete, but perhaps a delete of it is still waiting for its sync
            // (in the active segment, or one just filled): this answer must not come
            // before that one is durable.
            None => {
                drop(commit);
                for seg in pending {
                    self.noting_failure(seg.sync().await)?;
                }
                Ok(())
            }
            Some(Stored { loc: Loc::File, .. }) if no_segments => {
                let (bucket, key) = (self.clone(), key.to_owned());
                blocking(move || {
                    let _commit = commit;
                    bucket.index().remove(&key);
                    bucket.remove_file_of(&key)
                })
                .await
            }
            Some(_) => {
                self.commit_record(commit, Record::Delete { key }, None)
                    .await
            }
        }
    }

    /// Fails once a sync in this bucket failed (see `DiskBucket::sync_failed`).
    fn check_syncs(&self) -> Result<(), S3Error> {
        if self.sync_failed.load(Ordering::SeqCst) {
            return Err(S3Error::internal(format!(
                "an earlier fdatasync in bucket {} failed, so what it wrote may be lost; \
                 restart the server to read the store back",
                self.info.name
            )));
        }
        Ok(())
    }

    /// Passes a sync's result on, remembering a failure for good.
    fn noting_failure(&self, synced: Result<(), S3Error>) -> Result<(), S3Error> {
        if synced.is_err() {
            self.sync_failed.store(true, Ordering::SeqCst);
        }
        synced
    }

    /// Removes the key's object file durably (its entry already left the index).
    fn remove_file_of(&self, key: &str) -> Result<(), S3Error> {
        let path = self.object_path(key);
        remove_if_present(&path)?;
        sync_dir(parent(&path)?)
    }

    /// Appends a record and indexes it; the caller holds the commit lock.
    fn append(&self, record: &Record<'_>) -> Result<Appended, S3Error> {
        let seq = self.next_seq();
        let mut bytes = encode(seq, record)?;
        let (seg, at, rolled) = self.room_for(bytes.len() as u64)?;
        seg.write(at, &mut bytes)?;
        let loc = Loc::Segment {
            seg: seg.id,
            at,
            // Bounded by the record format's limits, far under u32::MAX.
            len: bytes.len() as u32,
        };
        let mut index = self.index();
        index.segments.grow(seg.id, bytes.len() as u64);
        let replaced = match record {
            Record::Object { meta, .. } => {
                index.segments.note_key(seg.id, &meta.key);
                index.insert((*meta).clone(), Stored { seq, loc })
            }
            Record::Delete { key } => {
                // A tombstone is live until compaction finds it unneeded.
                index.segments.account(loc, true);
                index.remove(key)
            }
        };
        Ok(Appended {
            seg,
            replaced,
            rolled,
        })
    }

    /// The segment a record of `len` bytes goes to and where: the active one, or a new
    /// one once the active one is full. The caller holds the commit lock.
    fn room_for(&self, len: u64) -> Result<(Arc<Segment>, u64, bool), S3Error> {
        let (active, next) = {
            let index = self.index();
            (index.segments.active(), index.segments.next_id())
        };
        if let Some((seg, size)) = &active
            && (*size <= SEGMENT_HEADER || size + len <= self.segment_limit.load(Ordering::Relaxed))
        {
            return Ok((seg.clone(), *size, false));
        }
        let seg = Arc::new(Segment::create(&self.segments_dir(), &self.dir, next)?);
        self.index().segments.add(seg.clone(), SEGMENT_HEADER);
        if let Some((full, size)) = &active {
            full.seal(*size);
        }
        Ok((seg, SEGMENT_HEADER, active.is_some()))
    }

    /// Compacts, logging rather than failing: the put that started a new segment has
    /// already succeeded (and a store being opened is whole), and a segment left
    /// uncompacted is only space.
    pub(super) fn compact_in_place(&self) {
        if let Err(e) = self.compact() {
            tracing::warn!(bucket = %self.info.name, error = %e, "compaction stopped");
        }
    }

    /// Compacts every full segment less than half alive (see `segments`), each at most
    /// once per call: segments filled by this compaction's own copies (tombstones still
    /// needed, say) wait for the next one, so a call always ends. Blocking; one
    /// compaction at a time per bucket, each record copied under the commit lock so puts
    /// go on between them.
    fn compact(&self) -> Result<(), S3Error> {
        if self.compacting.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let candidates = self.index().segments.compaction_candidates();
        let result = (|| {
            for id in candidates {
                if !self.compact_segment(id)? {
                    break;
                }
            }
            Ok(())
        })();
        self.compacting.store(false, Ordering::Release);
        result
    }

    /// Copies a segment's live records (and the tombstones still needed) to the active
    /// segment, makes the copies and every newer segment durable, and deletes the
    /// segment. `false` if the bucket was deleted meanwhile.
    fn compact_segment(&self, id: u32) -> Result<bool, S3Error> {
        let Some((seg, size)) = self.index().segments.get_sized(id) else {
            return Ok(true);
        };
        let mut deleted = false;
        let end = scan(&seg, |record, raw| {
            let commit = self.commit.blocking_lock();
            if *commit {
                deleted = true;
                return Ok(false);
            }
            let from = record.loc(id);
            let keep = {
                let index = self.index();
                match &record.what {
                    ScannedKind::Object(meta) => {
                        index.stored(&meta.key).map(|s| s.loc) == Some(from)
                    }
                    // Needed while an older segment may hold a record it outvotes.
                    ScannedKind::Delete(key) => {
                        index.stored(key).is_none() && index.segments.older_may_hold(id, key)
                    }
                }
            };
            if keep {
                let (dest, at, _) = self.room_for(raw.len() as u64)?;
                // Its CRC made again with the destination's salt.
                dest.write(at, &mut raw.to_vec())?;
                let to = Loc::Segment {
                    seg: dest.id,
                    at,
                    len: record.len,
                };
                let mut index = self.index();
                index.segments.grow(dest.id, raw.len() as u64);
                match &record.what {
                    ScannedKind::Object(meta) => {
                        index.segments.note_key(dest.id, &meta.key);
                        index.relocate(&meta.key, from, to);
                    }
                    // A tombstone kept is live data: it counts, so a segment of them is
                    // not compacted again and again.
                    ScannedKind::Delete(_) => index.segments.account(to, true),
                }
            }
            Ok(true)
        })?;
        if deleted {
            return Ok(false);
        }
        // The segment goes only if every byte of it was read (an I/O error is an error
        // above) and no object points into it any more: a live record left behind, or a
        // tombstone not seen, would be lost with it.
        let left = self.index().references(id);
        if end.end != size || left > 0 {
            return Err(S3Error::internal(format!(
                "segment {} read to byte {} of {size}, {left} objects still in it; not compacted",
                seg.path.display(),
                end.end
            )));
        }
        // Every newer segment is made durable first: the writes that made this segment's
        // records dead (and its tombstones unneeded) are in them, perhaps not yet synced.
        let newer = self.index().segments.newer_than(id);
        for later in &newer {
            later.sync_now()?;
        }
        let commit = self.commit.blocking_lock();
        if *commit {
            // Deleted, perhaps created again under the same name: not ours to remove.
            return Ok(false);
        }
        // The table entry (and its key hashes) goes only once the file is durably gone.
        remove_segment(&seg)?;
        self.index().segments.remove(id);
        drop(commit);
        tracing::debug!(bucket = %self.info.name, segment = id, "segment compacted");
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
