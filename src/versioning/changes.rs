//! The changes of a versioned key: a write (the version it replaces goes into the
//! history first), a delete (a delete marker, or one version removed and the newest
//! remaining one made current again) and the lookup of a version by id. Each runs under
//! the key's lock. For a bucket whose versioning was never enabled they are the plain
//! store operations.

use super::history::{History, Located, entry_key, stamp_of};
use super::locks::{KeyGuard, KeyLocks};
use super::{NULL, Status, is_well_formed};
use crate::clock::Clock;
use crate::error::{S3Error, S3ErrorCode};
use crate::storage::{ObjectMeta, Storage, VersionStamp};

/// A bucket's versioned keys.
pub struct Versioned<'a> {
    pub storage: &'a dyn Storage,
    pub locks: &'a KeyLocks,
    pub clock: &'a dyn Clock,
    pub bucket: &'a str,
    /// `None`: versioning never enabled.
    pub status: Option<Status>,
}

/// A write under way: the stamp to give the new version, and what to tidy once it is
/// known whether the write landed.
pub struct Write<'a> {
    _guard: Option<KeyGuard<'a>>,
    pub stamp: Option<VersionStamp>,
    /// The copy of the replaced version, to drop if the write fails (it is still current).
    archived: Option<String>,
    /// `null` versions a suspended bucket's write replaces, dropped once it lands.
    replaced_nulls: Vec<ObjectMeta>,
}

/// What a delete did, for its response headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    /// `x-amz-version-id`: the version removed, or the delete marker added.
    pub version_id: Option<String>,
    /// `x-amz-delete-marker: true`: a marker was added, or the version removed was one.
    pub delete_marker: bool,
}

/// A version asked for by id.
pub enum Found {
    /// The key's current object (for `null` in a bucket never versioned, whether or not
    /// the key exists: the plain read answers).
    Current,
    /// A version in the history: read it from there.
    History {
        store_bucket: String,
        store_key: String,
    },
    /// A delete marker: there is nothing to read.
    Marker(VersionStamp),
}

pub fn invalid_version_id(name: &'static str, id: &str) -> S3Error {
    if id.is_empty() {
        return S3Error::invalid_argument("Version id cannot be the empty string", name, id);
    }
    S3Error::invalid_argument("Invalid version id specified", name, id)
        .reason("not a version id this server made (S3's carry their own structure)")
}

pub fn no_such_version(key: &str, id: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NoSuchVersion,
        "The specified version does not exist.",
    )
    .extra("Key", key)
    .extra("VersionId", id)
}

impl<'a> Versioned<'a> {
    fn history(&self) -> History<'a> {
        History::new(self.storage, self.bucket)
    }

    /// Locks the key and puts the version a write will replace into the history (in a
    /// suspended bucket a `null` one is simply replaced).
    pub async fn begin_write(&self, key: &str) -> Result<Write<'a>, S3Error> {
        let Some(status) = self.status else {
            return Ok(Write {
                _guard: None,
                stamp: None,
                archived: None,
                replaced_nulls: Vec::new(),
            });
        };
        let guard = self.locks.lock(self.bucket, key).await;
        let h = self.history();
        let current = h.current(key).await?;
        let entries = h.entries(key, current.as_ref()).await?;
        let stamp = super::stamp(
            status,
            self.clock,
            History::latest_seq(current.as_ref(), &entries),
            false,
        );
        let mut archived = None;
        if let Some(c) = &current {
            let cs = stamp_of(c);
            if status == Status::Enabled || cs.id != NULL {
                h.archive(key, c).await?;
                archived = Some(entry_key(key, &cs));
            }
        }
        // Every null entry, a kill's copy of a current null one included.
        let replaced_nulls = match status {
            Status::Suspended => h
                .all_entries(key)
                .await?
                .into_iter()
                .filter(|e| stamp_of(e).id == NULL && Some(e.key.as_str()) != archived.as_deref())
                .collect(),
            Status::Enabled => Vec::new(),
        };
        Ok(Write {
            _guard: Some(guard),
            stamp: Some(stamp),
            archived,
            replaced_nulls,
        })
    }

    /// Tidies after the write: the replaced `null` versions go once it landed; the copy
    /// of the version it would have replaced goes if it did not.
    pub async fn finish_write(&self, write: Write<'a>, landed: bool) -> Result<(), S3Error> {
        let h = self.history();
        if landed {
            h.remove_null(&write.replaced_nulls).await?;
        } else if let Some(copy) = &write.archived {
            self.storage.delete_object(h.store_bucket(), copy).await?;
        }
        Ok(())
    }

    /// DeleteObject: without `version_id`, a delete marker (versioned buckets); with it,
    /// that version removed.
    pub async fn delete(&self, key: &str, version_id: Option<&str>) -> Result<Deleted, S3Error> {
        if let Some(id) = version_id
            && !is_well_formed(id)
        {
            return Err(invalid_version_id("versionId", id));
        }
        let Some(status) = self.status else {
            return match version_id {
                None => {
                    self.storage.delete_object(self.bucket, key).await?;
                    Ok(Deleted::default())
                }
                Some(id) => {
                    if id == NULL {
                        self.storage.delete_object(self.bucket, key).await?;
                    }
                    Ok(Deleted {
                        version_id: Some(id.to_string()),
                        delete_marker: false,
                    })
                }
            };
        };
        let _guard = self.locks.lock(self.bucket, key).await;
        let h = self.history();
        match version_id {
            None => {
                let current = h.current(key).await?;
                let entries = h.entries(key, current.as_ref()).await?;
                let marker = super::stamp(
                    status,
                    self.clock,
                    History::latest_seq(current.as_ref(), &entries),
                    true,
                );
                let nulls = match status {
                    Status::Suspended => h.all_entries(key).await?,
                    Status::Enabled => Vec::new(),
                };
                if let Some(c) = &current {
                    if status == Status::Enabled || stamp_of(c).id != NULL {
                        h.archive(key, c).await?;
                    }
                    self.storage.delete_object(self.bucket, key).await?;
                }
                h.add_marker(key, marker.clone()).await?;
                // A suspended bucket's marker is its null version: the older null ones go.
                if status == Status::Suspended {
                    h.remove_null(&nulls).await?;
                }
                Ok(Deleted {
                    version_id: Some(marker.id),
                    delete_marker: true,
                })
            }
            Some(id) => {
                let marker = match h.locate(key, id).await? {
                    Located::Current(_) => {
                        self.storage.delete_object(self.bucket, key).await?;
                        false
                    }
                    Located::History(_, entry) => stamp_of(&entry).delete_marker,
                    Located::Missing => false,
                };
                // The version goes for good, with any copy of it a kill left in the
                // history (which would otherwise be promoted in its place).
                h.remove_id(key, id).await?;
                h.settle(key).await?;
                Ok(Deleted {
                    version_id: Some(id.to_string()),
                    delete_marker: marker,
                })
            }
        }
    }

    /// Where version `id` of `key` is, for a read.
    pub async fn find(&self, key: &str, id: &str) -> Result<Found, S3Error> {
        if !is_well_formed(id) {
            return Err(invalid_version_id("versionId", id));
        }
        if self.status.is_none() {
            return match id {
                NULL => Ok(Found::Current),
                _ => Err(no_such_version(key, id)),
            };
        }
        let h = self.history();
        match h.locate(key, id).await? {
            Located::Current(_) => Ok(Found::Current),
            Located::History(store_key, meta) => {
                let stamp = stamp_of(&meta);
                if stamp.delete_marker {
                    Ok(Found::Marker(stamp))
                } else {
                    Ok(Found::History {
                        store_bucket: h.store_bucket().to_string(),
                        store_key,
                    })
                }
            }
            Located::Missing => Err(no_such_version(key, id)),
        }
    }

    /// The delete marker that is the key's newest version, if one is; nothing is
    /// changed (a sub-resource request answers with it, under the key's lock or not).
    pub async fn newest_marker(&self, key: &str) -> Result<Option<VersionStamp>, S3Error> {
        if self.status.is_none() {
            return Ok(None);
        }
        let entries = self.history().entries(key, None).await?;
        Ok(entries.first().map(stamp_of).filter(|s| s.delete_marker))
    }

    /// For a key without a current object: the delete marker that is its newest version,
    /// if one is (for the headers of a 404). If its newest version is an object instead,
    /// that version is made current again and `Ok(None)` says to read the key once more.
    pub async fn current_marker(&self, key: &str) -> Result<Option<VersionStamp>, S3Error> {
        if self.status.is_none() {
            return Ok(None);
        }
        let newest = self
            .history()
            .entries(key, None)
            .await?
            .first()
            .map(stamp_of);
        match newest {
            Some(s) if s.delete_marker => Ok(Some(s)),
            Some(_) => {
                // The key has no current object but its newest version is one: a kill
                // cut a delete or a promotion short. That version is current again.
                let _guard = self.locks.lock(self.bucket, key).await;
                self.history().settle(key).await?;
                Ok(None)
            }
            None => Ok(None),
        }
    }
}
