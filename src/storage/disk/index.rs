//! A disk bucket's in-memory index: every object's metadata, by key, in listing order,
//! kept compact so that a bucket of 100,000 objects costs a few MiB.
//!
//! Why not `BTreeMap<String, ObjectMeta>` (the memory store's index): an `ObjectMeta` is
//! about 350 bytes before its strings (six optional headers, two maps, an ACL, the key
//! a second time), and measured at 640–690 bytes of RSS per object
//! (`examples/index_growth.rs`). Here an entry holds the key once, the size, the ETag as
//! its 16 MD5 bytes (and part count), the time as nanoseconds, the parts' sizes, and
//! the attributes as a shared [`Arc`]: the objects of a bucket mostly carry the same
//! attributes (an SDK's content type and nothing else), so identical attributes are
//! stored once ([`Index::intern`]). An `ObjectMeta` is rebuilt on demand — a HEAD, a GET,
//! a listed key — which costs the same clones the old index's `meta.clone()` did.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use time::OffsetDateTime;

use super::segments::{Loc, Segment, Segments};
use crate::storage::listing::list_page_with;
use crate::storage::{ListPage, ListQuery, ObjectAttrs, ObjectMeta};

#[derive(Default)]
pub(super) struct Index {
    entries: BTreeMap<Box<str>, Entry>,
    /// Every distinct `ObjectAttrs` an entry holds, once. An attribute set leaves when
    /// the last entry holding it does ([`Index::release`]).
    attrs: HashSet<Arc<ObjectAttrs>>,
    /// The bucket's segments, and how much of each is live: kept here because an entry's
    /// location and its segment's accounting change together, under one lock.
    pub(super) segments: Segments,
}

/// What the store knows of an object besides its metadata: its commit's number in the
/// bucket's sequence (see `segments`) and where its bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Stored {
    pub(super) seq: u64,
    pub(super) loc: Loc,
}

struct Entry {
    stored: Stored,
    size: u64,
    etag: Etag,
    /// `last_modified` as Unix nanoseconds (UTC), exact to the nanosecond stored.
    modified: i64,
    attrs: Arc<ObjectAttrs>,
    parts: Box<[u64]>,
    /// The parts' checksums of a COMPOSITE multipart object; `None` for every other.
    /// Boxed on purpose: one thin pointer (8 bytes per entry) where a `Vec` would cost
    /// every object 24.
    #[allow(clippy::box_collection)]
    part_checksums: Option<Box<Vec<String>>>,
}

/// An ETag in 16 bytes where it is an MD5 (`hex`) or a multipart ETag (`hex-N`), as
/// every ETag this store makes is; anything else is kept as written.
enum Etag {
    Md5([u8; 16]),
    Multipart([u8; 16], u32),
    Other(Box<str>),
}

impl Etag {
    /// Compact only where writing it back gives the same text: lower-case hex, a part
    /// count in plain digits (no `-01`, no `-+1`). Checked on the text itself, so an insert
    /// (every put, every object at open) formats nothing.
    fn of(etag: &str) -> Etag {
        let (hex_part, parts) = match etag.split_once('-') {
            Some((hex_part, count)) => match plain_count(count) {
                Some(n) => (hex_part, Some(n)),
                None => return Etag::Other(etag.into()),
            },
            None => (etag, None),
        };
        let mut md5 = [0u8; 16];
        if hex_part.bytes().any(|b| b.is_ascii_uppercase())
            || hex::decode_to_slice(hex_part, &mut md5).is_err()
        {
            return Etag::Other(etag.into());
        }
        match parts {
            None => Etag::Md5(md5),
            Some(n) => Etag::Multipart(md5, n),
        }
    }

    fn to_text(&self) -> String {
        match self {
            Etag::Md5(md5) => hex::encode(md5),
            Etag::Multipart(md5, n) => format!("{}-{n}", hex::encode(md5)),
            Etag::Other(text) => text.to_string(),
        }
    }
}

/// A part count written as `{n}` writes it: digits, no leading zero.
fn plain_count(count: &str) -> Option<u32> {
    let plain = !count.is_empty()
        && count.bytes().all(|b| b.is_ascii_digit())
        && (count == "0" || !count.starts_with('0'));
    plain.then(|| count.parse().ok()).flatten()
}

impl Index {
    pub(super) fn get(&self, key: &str) -> Option<ObjectMeta> {
        self.entries.get(key).map(|entry| entry.meta(key))
    }

    /// Where the key's object is, and its sequence number.
    pub(super) fn stored(&self, key: &str) -> Option<Stored> {
        self.entries.get(key).map(|entry| entry.stored)
    }

    /// The key's metadata with what a reader needs to open its body: the segment, when
    /// it is in one.
    pub(super) fn open(&self, key: &str) -> Option<(ObjectMeta, Loc, Option<Arc<Segment>>)> {
        let entry = self.entries.get(key)?;
        let seg = match entry.stored.loc {
            Loc::Segment { seg, .. } => Some(self.segments.get(seg)?.clone()),
            Loc::File => None,
        };
        Some((entry.meta(key), entry.stored.loc, seg))
    }

    /// How many objects are in segment `seg` (a walk of every entry: compaction's check).
    pub(super) fn references(&self, seg: u32) -> usize {
        self.entries
            .values()
            .filter(|e| matches!(e.stored.loc, Loc::Segment { seg: s, .. } if s == seg))
            .count()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Indexes an object; returns where the object it replaces was.
    pub(super) fn insert(&mut self, meta: ObjectMeta, stored: Stored) -> Option<Stored> {
        let attrs = self.intern(meta.attrs);
        self.segments.account(stored.loc, true);
        let entry = Entry {
            stored,
            size: meta.size,
            etag: Etag::of(&meta.etag),
            // Nanoseconds since 1970 fit an i64 until the year 2262.
            modified: meta.last_modified.unix_timestamp_nanos() as i64,
            attrs,
            parts: meta.parts.into_boxed_slice(),
            part_checksums: (!meta.part_checksums.is_empty())
                .then(|| Box::new(meta.part_checksums)),
        };
        let old = self.entries.insert(meta.key.into_boxed_str(), entry)?;
        Some(self.forget(old))
    }

    /// Removes the key; where its object was, if it was there.
    pub(super) fn remove(&mut self, key: &str) -> Option<Stored> {
        let old = self.entries.remove(key)?;
        Some(self.forget(old))
    }

    /// Points the key at a copy of its record (compaction), if it still is at `from`.
    pub(super) fn relocate(&mut self, key: &str, from: Loc, to: Loc) -> bool {
        let Some(entry) = self.entries.get_mut(key) else {
            return false;
        };
        if entry.stored.loc != from {
            return false;
        }
        entry.stored.loc = to;
        self.segments.account(from, false);
        self.segments.account(to, true);
        true
    }

    fn forget(&mut self, old: Entry) -> Stored {
        self.segments.account(old.stored.loc, false);
        self.release(old.attrs);
        old.stored
    }

    pub(super) fn list(&self, query: &ListQuery<'_>) -> ListPage {
        list_page_with(&self.entries, query, |key, entry| entry.meta(key))
    }

    /// The shared copy of `attrs`, added if new.
    fn intern(&mut self, attrs: ObjectAttrs) -> Arc<ObjectAttrs> {
        if let Some(shared) = self.attrs.get(&attrs) {
            return shared.clone();
        }
        let shared = Arc::new(attrs);
        self.attrs.insert(shared.clone());
        shared
    }

    /// Drops an entry's hold on its attributes; the last holder takes them out of the set
    /// (the set's own `Arc` is the other count).
    fn release(&mut self, attrs: Arc<ObjectAttrs>) {
        if Arc::strong_count(&attrs) == 2 {
            self.attrs.remove(&attrs);
        }
    }
}

impl Entry {
    fn meta(&self, key: &str) -> ObjectMeta {
        ObjectMeta {
            key: key.to_owned(),
            size: self.size,
            etag: self.etag.to_text(),
            last_modified: OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.modified))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            attrs: ObjectAttrs::clone(&self.attrs),
            parts: self.parts.to_vec(),
            part_checksums: self.part_checksums.as_deref().cloned().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: Stored = Stored {
        seq: 1,
        loc: Loc::File,
    };

    fn meta(key: &str, etag: &str, content_type: &str) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size: 42,
            etag: etag.into(),
            last_modified: OffsetDateTime::from_unix_timestamp_nanos(1_768_478_400_123_456_789)
                .unwrap(),
            attrs: ObjectAttrs {
                content_type: Some(content_type.into()),
                ..ObjectAttrs::default()
            },
            parts: vec![5 << 20, 1],
            part_checksums: vec!["AAAAAA==".into(), "AAAAAQ==".into()],
        }
    }

    #[test]
    fn gives_back_exactly_what_was_stored() {
        let mut index = Index::default();
        for etag in [
            "9e107d9d372bb6826bd81d3542a419d6",
            "9e107d9d372bb6826bd81d3542a419d6-12",
            "9E107D9D372BB6826BD81D3542A419D6",
            "9e107d9d372bb6826bd81d3542a419d6-012",
            "9e107d9d372bb6826bd81d3542a419d6-+12",
            "9e107d9d372bb6826bd81d3542a419d6-",
            "9e107d9d372bb6826bd81d3542a419d6-1-2",
            "9e107d9d372bb6826bd81d3542a419d6-0",
            "9e107d9d372bb6826bd81d3542a419d6-99999999999",
            "not-an-md5",
            "",
        ] {
            let stored = meta("k", etag, "image/png");
            index.insert(stored.clone(), FILE);
            assert_eq!(index.get("k"), Some(stored));
        }
        assert_eq!(index.entries.len(), 1);
    }

    #[test]
    fn identical_attributes_are_stored_once_and_leave_with_their_last_object() {
        let mut index = Index::default();
        index.insert(meta("a", "x", "image/png"), FILE);
        index.insert(meta("b", "x", "image/png"), FILE);
        index.insert(meta("c", "x", "text/plain"), FILE);
        assert_eq!(index.attrs.len(), 2);
        // Replacing `c` with png attributes drops the text/plain set.
        index.insert(meta("c", "x", "image/png"), FILE);
        assert_eq!(index.attrs.len(), 1);
        for key in ["a", "b", "c"] {
            assert_eq!(index.remove(key), Some(FILE));
        }
        assert_eq!(index.remove("c"), None);
        assert!(index.attrs.is_empty() && index.is_empty());
    }

    #[test]
    fn lists_in_key_order() {
        let mut index = Index::default();
        for key in ["b", "a/2", "a/1", "c"] {
            index.insert(meta(key, "x", "t"), FILE);
        }
        let query = ListQuery {
            prefix: "a/",
            max_keys: 10,
            ..ListQuery::default()
        };
        let page = index.list(&query);
        let keys: Vec<_> = page.objects.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["a/1", "a/2"]);
        assert_eq!(page.objects[0], meta("a/1", "x", "t"));
    }
}
