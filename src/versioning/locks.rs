//! One lock per key being versioned: the steps of a versioned write or delete (copy the
//! replaced version into the history, then replace it) must not interleave with another
//! change of the same key. Entries go when their last holder does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A key, by bucket and name.
type KeyName = (String, String);

#[derive(Default)]
pub struct KeyLocks {
    map: Mutex<HashMap<KeyName, Arc<tokio::sync::Mutex<()>>>>,
}

/// Held while a key's versions change.
pub struct KeyGuard<'a> {
    locks: &'a KeyLocks,
    name: KeyName,
    lock: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl KeyLocks {
    pub async fn lock(&self, bucket: &str, key: &str) -> KeyGuard<'_> {
        let name = (bucket.to_string(), key.to_string());
        let mutex = {
            let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(name.clone()).or_default().clone()
        };
        let lock = mutex.lock_owned().await;
        KeyGuard {
            locks: self,
            name,
            lock: Some(lock),
        }
    }
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        drop(self.lock.take());
        let mut map = self.locks.map.lock().unwrap_or_else(|p| p.into_inner());
        // The map's own reference is the last one: nobody holds or waits for this key.
        if map
            .get(&self.name)
            .is_some_and(|m| Arc::strong_count(m) == 1)
        {
            map.remove(&self.name);
        }
    }
}
