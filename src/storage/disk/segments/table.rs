//! A bucket's segment table: each segment's size, its live bytes (what compaction reads)
//! and the hashes of its records' keys (what decides whether a tombstone is still needed).

use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::{Loc, Segment};

/// A bucket's segments: each one's size and how many of its bytes are live records.
#[derive(Default)]
pub(in crate::storage::disk) struct Segments {
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
    pub(in crate::storage::disk) fn add(&mut self, seg: Arc<Segment>, size: u64) {
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

    pub(in crate::storage::disk) fn get(&self, id: u32) -> Option<&Arc<Segment>> {
        self.table.get(&id).map(|s| &s.seg)
    }

    /// A segment and its size.
    pub(in crate::storage::disk) fn get_sized(&self, id: u32) -> Option<(Arc<Segment>, u64)> {
        self.table.get(&id).map(|s| (s.seg.clone(), s.size))
    }

    /// Records that segment `id` holds an object record of `key`.
    pub(in crate::storage::disk) fn note_key(&mut self, id: u32, key: &str) {
        if let Some(s) = self.table.get_mut(&id) {
            s.keys.insert(key_hash(key));
        }
    }

    /// Whether a segment older than `id` may hold an object record of `key`.
    pub(in crate::storage::disk) fn older_may_hold(&self, id: u32, key: &str) -> bool {
        let hash = key_hash(key);
        self.table.range(..id).any(|(_, s)| s.keys.contains(&hash))
    }

    /// The segments a write may still be waiting on (at most the last few).
    pub(in crate::storage::disk) fn pending_syncs(&self) -> Vec<Arc<Segment>> {
        self.table
            .values()
            .filter(|s| s.seg.sync_pending())
            .map(|s| s.seg.clone())
            .collect()
    }

    /// The segments newer than `id`.
    pub(in crate::storage::disk) fn newer_than(&self, id: u32) -> Vec<Arc<Segment>> {
        self.table
            .range(id + 1..)
            .map(|(_, s)| s.seg.clone())
            .collect()
    }

    /// The segment records are appended to, and where its next record goes.
    pub(in crate::storage::disk) fn active(&self) -> Option<(Arc<Segment>, u64)> {
        self.table
            .last_key_value()
            .map(|(_, s)| (s.seg.clone(), s.size))
    }

    pub(in crate::storage::disk) fn next_id(&self) -> u32 {
        self.table.last_key_value().map_or(1, |(id, _)| id + 1)
    }

    pub(in crate::storage::disk) fn grow(&mut self, id: u32, len: u64) {
        if let Some(s) = self.table.get_mut(&id) {
            s.size += len;
        }
    }

    pub(in crate::storage::disk) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// A location became live (`live`) or dead.
    pub(in crate::storage::disk) fn account(&mut self, loc: Loc, live: bool) {
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
    pub(in crate::storage::disk) fn compaction_candidates(&self) -> Vec<u32> {
        let Some(active) = self.table.last_key_value().map(|(id, _)| *id) else {
            return Vec::new();
        };
        self.table
            .iter()
            .filter(|(id, s)| **id != active && (s.live * 2 < s.size || s.size == 0))
            .map(|(id, _)| *id)
            .collect()
    }

    pub(in crate::storage::disk) fn remove(&mut self, id: u32) -> Option<Arc<Segment>> {
        self.table.remove(&id).map(|s| s.seg)
    }

    #[cfg(test)]
    pub(in crate::storage::disk) fn total_size(&self) -> u64 {
        self.table.values().map(|s| s.size).sum()
    }

    #[cfg(test)]
    pub(in crate::storage::disk) fn ids(&self) -> Vec<u32> {
        self.table.keys().copied().collect()
    }
}
