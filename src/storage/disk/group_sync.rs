//! Group commit: one `syncfs(2)` makes the writes of every put that is waiting durable at
//! once, instead of an `fsync` of each file and each directory per put.
//!
//! Why: a 1 KiB put used to pay two journal commits (the file's `fsync`, then its
//! directory's), about 700 µs of a 2-core machine's time, and puts to different files
//! could not share them. `syncfs` on the store's root flushes every dirty file and
//! directory entry of that file system and waits for one journal commit, so when 32
//! clients put at once, the first to arrive syncs and the others that wrote before it
//! started need not sync again.
//!
//! The rule that makes it safe: a caller takes a ticket *after* its writes are done; the
//! leader (whoever holds the lock) reads the newest ticket *before* it calls `syncfs`, so
//! every ticket up to that one is covered, and a caller whose ticket is covered returns
//! without a sync of its own. Since Linux 5.8 `syncfs` reports write-back errors that
//! happened since the descriptor was opened, so a failed write is not reported durable.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use super::durable::io_context;
use crate::error::S3Error;

/// The store's durability point (see the module documentation).
pub(super) struct GroupSync {
    /// The store's root directory, the handle `syncfs` names the file system by.
    root: File,
    /// The newest ticket handed out.
    tickets: AtomicU64,
    /// The newest ticket known durable; held by the leader while it syncs.
    synced: Mutex<u64>,
    /// How many `syncfs` calls were made (the tests read it).
    syncs: AtomicU64,
}

impl GroupSync {
    pub(super) fn open(root: &Path) -> Result<GroupSync, S3Error> {
        Ok(GroupSync {
            root: File::open(root).map_err(io_context("open", root))?,
            tickets: AtomicU64::new(0),
            synced: Mutex::new(0),
            syncs: AtomicU64::new(0),
        })
    }

    /// Returns once every write the calling thread finished before the call is durable.
    /// Blocking: call it from a blocking task.
    pub(super) fn sync(&self) -> Result<(), S3Error> {
        self.wait(self.ticket())
    }

    fn ticket(&self) -> u64 {
        self.tickets.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn wait(&self, ticket: u64) -> Result<(), S3Error> {
        let mut synced = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
        if *synced >= ticket {
            return Ok(());
        }
        let covered = self.tickets.load(Ordering::SeqCst);
        self.syncs.fetch_add(1, Ordering::Relaxed);
        sync_file_system(&self.root).map_err(|e| S3Error::internal(format!("syncfs: {e}")))?;
        *synced = covered;
        Ok(())
    }
}

#[cfg(target_os = "linux")]
fn sync_file_system(root: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: `root` is an open descriptor for the duration of the call.
    if unsafe { libc::syncfs(root.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Without `syncfs`, `sync(2)` flushes every file system, which includes this one.
#[cfg(not(target_os = "linux"))]
fn sync_file_system(_root: &File) -> std::io::Result<()> {
    // SAFETY: `sync` takes no arguments and cannot fail.
    unsafe { libc::sync() };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sync_covers_every_ticket_taken_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let sync = GroupSync::open(dir.path()).unwrap();
        let (first, second) = (sync.ticket(), sync.ticket());
        sync.wait(second).unwrap();
        assert_eq!(sync.syncs.load(Ordering::Relaxed), 1);
        // Taken before the leader's sync began: already durable, no second sync.
        sync.wait(first).unwrap();
        assert_eq!(sync.syncs.load(Ordering::Relaxed), 1);
        // A later write needs a sync of its own.
        sync.sync().unwrap();
        assert_eq!(sync.syncs.load(Ordering::Relaxed), 2);
    }
}
