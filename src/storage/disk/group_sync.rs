//! Group commit: one `fdatasync(2)` of a segment makes the records of every put that is
//! waiting on it durable at once, instead of a sync per put.
//!
//! Why: a 1 KiB put used to pay journal commits of its own (its file's `fsync`, then its
//! directory's), and puts to different files could not share them. Small objects are now
//! appended to the bucket's active segment ([`super::segments`]), so when 32 clients put
//! at once, the first to arrive syncs the segment and the others whose records were
//! written before that sync started need not sync again.
//!
//! The rule that makes it safe: a caller takes a ticket *after* its writes are done; the
//! leader reads the newest ticket *before* it syncs, so every ticket up to that one is
//! covered, and a caller whose ticket is covered returns without a sync of its own.
//!
//! Waiting is async: the leader's `fdatasync` runs on a blocking thread and the others
//! wait on a [`Notify`], so a put costs no thread of its own while it waits, and while
//! one sync runs the puts arriving meanwhile gather for the next one. Why: with a
//! blocking thread per put waiting on a mutex, profiling showed a quarter of the time in
//! futex wake-ups and context switches, and a sync covered about two puts.
//!
//! A failed `fdatasync` poisons the file for good: the kernel may have dropped the dirty
//! pages it could not write, so a later sync that succeeds proves nothing about them
//! (PostgreSQL's "fsyncgate", 2018). Every write waiting then, and every one after,
//! fails with `InternalError` until the store is reopened and the segment read back.

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::Notify;

use crate::error::S3Error;

/// One file's durability point (see the module documentation).
#[derive(Default)]
pub(super) struct GroupSync {
    /// The newest ticket handed out.
    tickets: AtomicU64,
    /// The newest ticket known durable.
    synced: AtomicU64,
    /// Whether a leader's sync is running.
    syncing: AtomicBool,
    /// Set for good by a failed sync.
    poisoned: AtomicBool,
    /// Wakes the waiters when a sync ends.
    ended: Notify,
    /// How many syncs were made (the tests read it).
    syncs: AtomicU64,
}

impl GroupSync {
    /// Returns once everything written to `file` before the call is durable.
    pub(super) async fn sync(self: &Arc<Self>, file: &Arc<File>) -> Result<(), S3Error> {
        let ticket = self.tickets.fetch_add(1, Ordering::SeqCst) + 1;
        loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            // Registered before the checks, so a sync that ends after them still wakes us.
            ended.as_mut().enable();
            self.check_poison()?;
            if self.synced.load(Ordering::SeqCst) >= ticket {
                return Ok(());
            }
            if !self.syncing.swap(true, Ordering::SeqCst) {
                let (me, file) = (self.clone(), file.clone());
                // Runs to its end even if this request is dropped: the others wait on it.
                let lead = tokio::task::spawn_blocking(move || me.lead(&file));
                lead.await
                    .map_err(|e| S3Error::internal(format!("sync task: {e}")))?;
                continue;
            }
            ended.await;
        }
    }

    /// Whether a write may be waiting for a sync (a ticket not yet known durable).
    pub(super) fn pending(&self) -> bool {
        self.tickets.load(Ordering::SeqCst) > self.synced.load(Ordering::SeqCst)
    }

    /// The leader's sync, covering every ticket taken before it starts. Blocking.
    fn lead(&self, file: &File) {
        let covered = self.tickets.load(Ordering::SeqCst);
        self.syncs.fetch_add(1, Ordering::Relaxed);
        match file.sync_data() {
            Ok(()) => {
                self.synced.fetch_max(covered, Ordering::SeqCst);
            }
            Err(e) => {
                tracing::error!(error = %e, "fdatasync of a segment failed; its writes fail until the store is reopened");
                self.poisoned.store(true, Ordering::SeqCst);
            }
        }
        self.syncing.store(false, Ordering::SeqCst);
        self.ended.notify_waiters();
    }

    /// A sync now, on this (blocking) thread: compaction's, and a record's that must be
    /// durable before the commit lock is released.
    pub(super) fn sync_now(&self, file: &File) -> Result<(), S3Error> {
        self.check_poison()?;
        file.sync_data().map_err(|e| {
            self.poisoned.store(true, Ordering::SeqCst);
            S3Error::internal(format!("fdatasync of a segment: {e}"))
        })
    }

    fn check_poison(&self) -> Result<(), S3Error> {
        if self.poisoned.load(Ordering::SeqCst) {
            return Err(S3Error::internal(
                "an earlier fdatasync of this segment failed; reopen the store",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_sync_covers_every_ticket_taken_before_it() {
        let file = Arc::new(tempfile::tempfile().unwrap());
        let sync = Arc::new(GroupSync::default());
        sync.sync(&file).await.unwrap();
        assert_eq!(sync.syncs.load(Ordering::Relaxed), 1);
        // Tickets taken while no sync runs: the next sync covers them all.
        sync.tickets.fetch_add(5, Ordering::SeqCst);
        sync.sync(&file).await.unwrap();
        assert_eq!(sync.syncs.load(Ordering::Relaxed), 2);
        assert_eq!(sync.synced.load(Ordering::SeqCst), 7);
        // Many at once share syncs: fewer syncs than writers.
        let waiters: Vec<_> = (0..64)
            .map(|_| {
                let (sync, file) = (sync.clone(), file.clone());
                tokio::spawn(async move { sync.sync(&file).await })
            })
            .collect();
        for w in waiters {
            w.await.unwrap().unwrap();
        }
        let syncs = sync.syncs.load(Ordering::Relaxed) - 2;
        assert!((1..64).contains(&syncs), "{syncs} syncs for 64 writers");
        assert_eq!(sync.synced.load(Ordering::SeqCst), 71);
    }

    #[tokio::test]
    async fn a_poisoned_file_fails_every_later_sync() {
        let file = Arc::new(tempfile::tempfile().unwrap());
        let sync = Arc::new(GroupSync::default());
        sync.poisoned.store(true, Ordering::SeqCst);
        assert!(sync.sync(&file).await.is_err());
        assert!(sync.sync_now(&file).is_err());
    }
}
