//! A key's versions: its current object (in the bucket) and its history (in the hidden
//! history bucket, newest first), and the steps that move versions between the two.

use crate::error::{S3Error, S3ErrorCode};
use crate::storage::{ListQuery, ObjectAttrs, ObjectMeta, PutRequest, Storage, VersionStamp};

use super::{NULL, history_bucket};

/// Where a requested version is.
pub enum Located {
    /// It is the key's current object.
    Current(ObjectMeta),
    /// It is in the history, under this store key.
    History(String, ObjectMeta),
    /// No version of the key has this id.
    Missing,
}

/// The versions of the keys of one bucket.
pub struct History<'a> {
    storage: &'a dyn Storage,
    bucket: &'a str,
    history: String,
}

/// A version's stamp; an object from before versioning is the `null` version, placed
/// at its Last-Modified.
pub fn stamp_of(meta: &ObjectMeta) -> VersionStamp {
    meta.attrs.version.clone().unwrap_or_else(|| VersionStamp {
        id: NULL.to_string(),
        seq: u64::try_from(meta.last_modified.unix_timestamp_nanos()).unwrap_or(0),
        delete_marker: false,
    })
}

/// The history key of a version of `key`: sorts by key, then newest first.
pub fn entry_key(key: &str, stamp: &VersionStamp) -> String {
    format!("{key}\0{:016x}{}", u64::MAX - stamp.seq, stamp.id)
}

/// The client's key of a history key: all before the last `\0` (a client's key may hold
/// one; the order and id after it never do).
pub fn key_of(entry_key: &str) -> &str {
    entry_key.rsplit_once('\0').map_or(entry_key, |(k, _)| k)
}

/// Every object of `bucket` under `prefix`, in key order, all pages.
pub async fn list_all(
    storage: &dyn Storage,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<ObjectMeta>, S3Error> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = ListQuery {
            prefix,
            delimiter: None,
            start_after: after.as_deref(),
            max_keys: 1000,
        };
        let page = storage.list_objects(bucket, &query).await?;
        out.extend(page.objects);
        match (page.is_truncated, page.last) {
            (true, Some(last)) => after = Some(last),
            _ => return Ok(out),
        }
    }
}

fn no_such_key_is_none<T>(r: Result<T, S3Error>) -> Result<Option<T>, S3Error> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code == S3ErrorCode::NoSuchKey => Ok(None),
        Err(e) => Err(e),
    }
}

impl<'a> History<'a> {
    pub fn new(storage: &'a dyn Storage, bucket: &'a str) -> History<'a> {
        History {
            storage,
            bucket,
            history: history_bucket(bucket),
        }
    }

    /// The hidden bucket, made when versioning is first enabled.
    pub async fn create(&self, region: &str) -> Result<(), S3Error> {
        match self.storage.create_bucket(&self.history, region).await {
            Ok(_) => Ok(()),
            Err(e) if e.code == S3ErrorCode::BucketAlreadyOwnedByYou => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub fn store_bucket(&self) -> &str {
        &self.history
    }

    pub async fn current(&self, key: &str) -> Result<Option<ObjectMeta>, S3Error> {
        no_such_key_is_none(self.storage.head_object(self.bucket, key).await)
    }

    /// Every history entry whose store key starts with `prefix` (a key and `\0` for one
    /// key's versions), in store-key order.
    pub async fn entries_under(&self, prefix: &str) -> Result<Vec<ObjectMeta>, S3Error> {
        match list_all(self.storage, &self.history, prefix).await {
            Err(e) if e.code == S3ErrorCode::NoSuchBucket => Ok(Vec::new()),
            other => other,
        }
    }

    /// Every history entry of the key, newest first, copies included.
    pub async fn all_entries(&self, key: &str) -> Result<Vec<ObjectMeta>, S3Error> {
        let mut all = self.entries_under(&format!("{key}\0")).await?;
        // The prefix also matches the history of a key that continues with `\0`.
        all.retain(|e| key_of(&e.key) == key);
        Ok(all)
    }

    /// The key's history, newest first, without a copy of its current version (one a
    /// kill left there between copying and replacing it).
    pub async fn entries(
        &self,
        key: &str,
        current: Option<&ObjectMeta>,
    ) -> Result<Vec<ObjectMeta>, S3Error> {
        let current_id = current.map(|c| stamp_of(c).id);
        let mut all = self.all_entries(key).await?;
        all.retain(|e| Some(&stamp_of(e).id) != current_id.as_ref());
        Ok(all)
    }

    /// Drops every history entry of the key with version `id` (a version deleted for
    /// good, with any copy of it a kill left).
    pub async fn remove_id(&self, key: &str, id: &str) -> Result<(), S3Error> {
        for e in self.all_entries(key).await? {
            if stamp_of(&e).id == id {
                self.remove(&e).await?;
            }
        }
        Ok(())
    }

    /// The newest version's place, for the next one's stamp.
    pub fn latest_seq(current: Option<&ObjectMeta>, entries: &[ObjectMeta]) -> Option<u64> {
        current
            .iter()
            .copied()
            .chain(entries.first())
            .map(|m| stamp_of(m).seq)
            .max()
    }

    /// Copies the key's current version into the history, exactly as it is.
    pub async fn archive(&self, key: &str, current: &ObjectMeta) -> Result<(), S3Error> {
        let object = self.storage.open_object(self.bucket, key).await?;
        let mut meta = object.meta.clone();
        meta.attrs.version = Some(stamp_of(&meta));
        let to = entry_key(key, &stamp_of(current));
        let put = PutRequest {
            restore: Some(Box::new(meta.clone())),
            ..PutRequest::new(meta.attrs.clone(), object.body.stream(None))
        };
        self.storage.put_object(&self.history, &to, put).await?;
        Ok(())
    }

    /// Adds a delete marker as the key's newest version.
    pub async fn add_marker(&self, key: &str, stamp: VersionStamp) -> Result<ObjectMeta, S3Error> {
        let to = entry_key(key, &stamp);
        let attrs = ObjectAttrs {
            version: Some(stamp),
            ..ObjectAttrs::default()
        };
        let body: crate::body::ByteStream = Box::pin(futures_util::stream::empty());
        self.storage
            .put_object(&self.history, &to, PutRequest::new(attrs, body))
            .await
    }

    pub async fn remove(&self, entry: &ObjectMeta) -> Result<(), S3Error> {
        self.storage.delete_object(&self.history, &entry.key).await
    }

    /// Drops every `null` version in the history (a suspended bucket's write replaces it).
    pub async fn remove_null(&self, entries: &[ObjectMeta]) -> Result<(), S3Error> {
        for e in entries.iter().filter(|e| stamp_of(e).id == NULL) {
            self.remove(e).await?;
        }
        Ok(())
    }

    /// When the key has no current object and its newest version is not a delete marker,
    /// that version becomes the current object again (copied back, then dropped from the
    /// history: a kill between the two leaves a copy `entries` ignores).
    pub async fn settle(&self, key: &str) -> Result<(), S3Error> {
        if self.current(key).await?.is_some() {
            return Ok(());
        }
        let entries = self.entries(key, None).await?;
        let Some(newest) = entries.first() else {
            return Ok(());
        };
        if stamp_of(newest).delete_marker {
            return Ok(());
        }
        let object = self.storage.open_object(&self.history, &newest.key).await?;
        let meta = object.meta.clone();
        let put = PutRequest {
            restore: Some(Box::new(meta.clone())),
            ..PutRequest::new(meta.attrs.clone(), object.body.stream(None))
        };
        self.storage.put_object(self.bucket, key, put).await?;
        self.remove(newest).await
    }

    /// Where version `id` of `key` is.
    pub async fn locate(&self, key: &str, id: &str) -> Result<Located, S3Error> {
        let current = self.current(key).await?;
        if let Some(c) = current.as_ref().filter(|c| stamp_of(c).id == id) {
            return Ok(Located::Current(c.clone()));
        }
        let entries = self.entries(key, current.as_ref()).await?;
        Ok(match entries.into_iter().find(|e| stamp_of(e).id == id) {
            Some(e) => Located::History(e.key.clone(), e),
            None => Located::Missing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keys_give_back_their_key() {
        let stamp = VersionStamp {
            id: "null".into(),
            seq: 7,
            delete_marker: false,
        };
        for key in ["a", "a/b", "with\0nul", ""] {
            assert_eq!(key_of(&entry_key(key, &stamp)), key);
        }
        // Newer versions sort first.
        let newer = VersionStamp {
            seq: 8,
            ..stamp.clone()
        };
        assert!(entry_key("k", &newer) < entry_key("k", &stamp));
    }
}
