//! Object versioning, kept above the stores: a versioned bucket's current versions are its
//! objects, as before, and every other version (and every delete marker) lives in the
//! bucket's *history*, a hidden bucket `<bucket>~versions` (a name CreateBucket refuses,
//! so no client bucket can collide with it) under `<key>\0<order><id>`, newest first.
//!
//! So listings, reads and writes of current objects cost what they did, the stores stay
//! as they were (each version is an ordinary, durable object of theirs), and a version
//! moved between a key and its history keeps its ETag, time, parts and attributes
//! ([`crate::storage::PutRequest::restore`]). Each change of a key's versions runs
//! under that key's lock, in an order that leaves nothing lost if the process is killed
//! between two steps: the version being replaced is copied into the history before it
//! is replaced (a copy of the current version left there by a kill has the current
//! version's id and is ignored), and a current version is promoted from the history
//! before its history entry goes. The price: overwriting or deleting an object in a
//! versioned bucket copies its bytes once.
//!
//! What S3 answers, and where that is on record: docs/versioning-evidence.md.

pub mod changes;
pub mod history;
pub mod locks;

use std::sync::atomic::{AtomicU64, Ordering};

pub use changes::{Deleted, Found, Versioned, Write};
pub use history::{History, Located};
pub use locks::KeyLocks;

use crate::clock::Clock;
use crate::storage::VersionStamp;

/// The bucket document holding the versioning status.
pub const DOCUMENT: &str = "versioning";

/// The version id of an object written while versioning was off or suspended.
pub const NULL: &str = "null";

/// A bucket's versioning state, once it was ever enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Enabled,
    Suspended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Enabled => "Enabled",
            Status::Suspended => "Suspended",
        }
    }

    /// The status a stored configuration document holds (its first line; the
    /// operation keeps `MfaDelete` on the next).
    pub fn of_document(doc: &[u8]) -> Option<Status> {
        Status::parse(String::from_utf8_lossy(doc).lines().next()?)
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "Enabled" => Some(Status::Enabled),
            "Suspended" => Some(Status::Suspended),
            _ => None,
        }
    }
}

/// The hidden bucket holding `bucket`'s history.
pub fn history_bucket(bucket: &str) -> String {
    format!("{bucket}~versions")
}

/// Whether a store bucket is a history (never listed, never addressed by clients).
pub fn is_history_bucket(name: &str) -> bool {
    name.ends_with("~versions")
}

/// The characters of a version id: S3's look like `3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY`.
const ID_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
const ID_LEN: usize = 32;

/// A fresh version id: 28 characters from std's randomly keyed hasher, the time and a
/// counter (as upload ids are made), then 4 that check them. S3's ids carry their own
/// structure: a made-up id is 400 "Invalid version id specified", one that could be real
/// but names no version is 404 NoSuchVersion; the check characters let strict-s3 tell
/// the two apart the same way.
pub fn new_id(clock: &dyn Clock) -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seq = COUNTER.fetch_add(1, Ordering::Relaxed);
    let now = clock.now().unix_timestamp_nanos();
    let mut id = String::with_capacity(ID_LEN);
    let mut round = 0u8;
    while id.len() < ID_LEN - CHECK_LEN {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_i128(now);
        h.write_u64(seq);
        h.write_u8(round);
        let mut bits = h.finish();
        for _ in 0..10 {
            if id.len() == ID_LEN - CHECK_LEN {
                break;
            }
            id.push(ID_ALPHABET[(bits & 63) as usize] as char);
            bits >>= 6;
        }
        round += 1;
    }
    let check = check_chars(&id);
    id.push_str(&check);
    id
}

const CHECK_LEN: usize = 4;

/// Four characters derived from the rest of an id (a fixed-key hash: the same on every
/// run, so ids stay valid across restarts).
fn check_chars(body: &str) -> String {
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    h.write(b"strict-s3 version id");
    h.write(body.as_bytes());
    let mut bits = h.finish();
    (0..CHECK_LEN)
        .map(|_| {
            let c = ID_ALPHABET[(bits & 63) as usize] as char;
            bits >>= 6;
            c
        })
        .collect()
}

/// Whether `id` could be a version id this server made (or `null`): anything else is
/// S3's 400 "Invalid version id specified" rather than 404 NoSuchVersion.
pub fn is_well_formed(id: &str) -> bool {
    id == NULL
        || (id.len() == ID_LEN
            && id.bytes().all(|b| ID_ALPHABET.contains(&b))
            && check_chars(&id[..ID_LEN - CHECK_LEN]) == id[ID_LEN - CHECK_LEN..])
}

/// A version's place in its key's history: the time in nanoseconds, but always after
/// `latest` (the key's newest version), so a clock moved back keeps the order.
pub fn next_seq(clock: &dyn Clock, latest: Option<u64>) -> u64 {
    let now = u64::try_from(clock.now().unix_timestamp_nanos()).unwrap_or(0);
    match latest {
        Some(l) if l >= now => l + 1,
        _ => now,
    }
}

/// The stamp of a version written now.
pub fn stamp(
    status: Status,
    clock: &dyn Clock,
    latest: Option<u64>,
    delete_marker: bool,
) -> VersionStamp {
    VersionStamp {
        id: match status {
            Status::Enabled => new_id(clock),
            Status::Suspended => NULL.to_string(),
        },
        seq: next_seq(clock, latest),
        delete_marker,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn ids_and_order() {
        let clock = ManualClock::new(time::macros::datetime!(2026-01-15 12:00:00 UTC));
        let a = new_id(&clock);
        let b = new_id(&clock);
        assert_ne!(a, b);
        assert!(is_well_formed(&a) && is_well_formed(NULL), "{a}");
        assert!(!is_well_formed("abc") && !is_well_formed(&format!("{}!", &a[1..])));
        // A made-up id of the right shape fails its check characters.
        assert!(!is_well_formed("HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD"));
        let mut changed = a.clone().into_bytes();
        changed[0] = if changed[0] == b'A' { b'B' } else { b'A' };
        assert!(!is_well_formed(std::str::from_utf8(&changed).unwrap()));
        let t = next_seq(&clock, None);
        assert_eq!(next_seq(&clock, Some(t)), t + 1);
        assert_eq!(next_seq(&clock, Some(t - 5)), t);
        assert!(is_history_bucket(&history_bucket("photos")));
        assert!(crate::addressing::check_bucket_name(&history_bucket("photos")).is_err());
    }
}
