//! How a bucket writes to its segments: a small put or a delete as one appended record,
//! and compaction. The format and the ordering rules are in [`super::segments`].

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::durable::{blocking, parent, remove_if_present, sync_dir};
use super::index::Stored;
use super::segments::{
    Loc, Record, SEGMENTS_DIR, ScannedKind, Segment, encode, remove_segment, scan,
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
                seg.sync_now()?;
                bucket.remove_file_of(&key)
            })
            .await?;
        } else {
            drop(commit);
            appended.seg.sync().await?;
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
        let (stored, no_segments) = {
            let index = self.index();
            (index.stored(key), index.segments.is_empty())
        };
        match stored {
            None => Ok(()),
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

    /// Removes the key's object file durably (its entry already left the index).
    fn remove_file_of(&self, key: &str) -> Result<(), S3Error> {
        let path = self.object_path(key);
        remove_if_present(&path)?;
        sync_dir(parent(&path)?)
    }

    /// Appends a record and indexes it; the caller holds the commit lock.
    fn append(&self, record: &Record<'_>) -> Result<Appended, S3Error> {
        let seq = self.next_seq();
        let bytes = encode(seq, record)?;
        let (seg, at, rolled) = self.room_for(bytes.len() as u64)?;
        seg.write(at, &bytes)?;
        let loc = Loc::Segment {
            seg: seg.id,
            at,
            // Bounded by the record format's limits, far under u32::MAX.
            len: bytes.len() as u32,
        };
        let mut index = self.index();
        index.segments.grow(seg.id, bytes.len() as u64);
        let replaced = match record {
            Record::Object { meta, .. } => index.insert((*meta).clone(), Stored { seq, loc }),
            Record::Delete { key } => index.remove(key),
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
            && (*size == 0 || size + len <= self.segment_limit.load(Ordering::Relaxed))
        {
            return Ok((seg.clone(), *size, false));
        }
        let seg = Arc::new(Segment::create(&self.segments_dir(), &self.dir, next)?);
        self.index().segments.add(seg.clone(), 0);
        Ok((seg, 0, active.is_some()))
    }

    /// Compacts, logging rather than failing: the put that started a new segment has
    /// already succeeded (and a store being opened is whole), and a segment left
    /// uncompacted is only space.
    pub(super) fn compact_in_place(&self) {
        if let Err(e) = self.compact() {
            tracing::warn!(bucket = %self.info.name, error = %e, "compaction stopped");
        }
    }

    /// Compacts every full segment less than half alive (see `segments`). Blocking; one
    /// compaction at a time per bucket, each record copied under the commit lock so puts
    /// go on between them.
    fn compact(&self) -> Result<(), S3Error> {
        if self.compacting.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let result = (|| {
            loop {
                let candidate = self.index().segments.compaction_candidate();
                let Some(id) = candidate else {
                    return Ok(());
                };
                if !self.compact_segment(id)? {
                    return Ok(());
                }
            }
        })();
        self.compacting.store(false, Ordering::Release);
        result
    }

    /// Copies a segment's live records (and the tombstones still needed) to the active
    /// segment, makes the copies durable, and deletes the segment. `false` if the bucket
    /// was deleted meanwhile.
    fn compact_segment(&self, id: u32) -> Result<bool, S3Error> {
        let (seg, oldest) = {
            let index = self.index();
            (
                index.segments.get(id).cloned(),
                index.segments.oldest() == Some(id),
            )
        };
        let Some(seg) = seg else {
            return Ok(true);
        };
        let mut written: Vec<Arc<Segment>> = Vec::new();
        let mut deleted = false;
        scan(&seg, |record, raw| {
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
                    ScannedKind::Delete(key) => !oldest && index.stored(key).is_none(),
                }
            };
            if keep {
                let (dest, at, _) = self.room_for(raw.len() as u64)?;
                dest.write(at, raw)?;
                let to = Loc::Segment {
                    seg: dest.id,
                    at,
                    len: record.len,
                };
                let mut index = self.index();
                index.segments.grow(dest.id, raw.len() as u64);
                if let ScannedKind::Object(meta) = &record.what {
                    index.relocate(&meta.key, from, to);
                }
                if !written.iter().any(|s| s.id == dest.id) {
                    written.push(dest);
                }
            }
            Ok(true)
        })?;
        if deleted {
            return Ok(false);
        }
        for dest in &written {
            dest.sync_now()?;
        }
        self.index().segments.remove(id);
        remove_segment(&seg)?;
        tracing::debug!(bucket = %self.info.name, segment = id, copied_to = ?written.iter().map(|s| s.id).collect::<Vec<_>>(), "segment compacted");
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
