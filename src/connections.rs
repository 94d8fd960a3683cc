//! How many connections are served at once, and what happens when file descriptors run out.
//!
//! Measured before this module: with `RLIMIT_NOFILE` 256 and 356 connections open, the
//! accept loop retried at once, used a whole core and wrote 1,182,378 lines of "accept
//! failed: Too many open files" in 3 s. Now:
//! - the binary raises its soft descriptor limit to the hard limit at start
//!   ([`raise_fd_limit`]);
//! - at most `max_connections` connections are served (by default half of what the
//!   descriptor limit leaves after a reserve, since a request may hold an object file
//!   besides its socket); a connection past the cap waits in the listen backlog, and the
//!   longest-idle keep-alive connection is asked to close to make room for it;
//! - an accept error backs off (10 ms doubling to 1 s while it lasts) and is logged once
//!   per [`LOG_EVERY`] with a count, so the log stays bounded and the CPU idle.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::wire::InFlight;

/// Descriptors kept back from the connection budget: the listener, the log, the store's
/// own files and directories.
const RESERVED_FDS: u64 = 32;
/// The smallest connection cap derived from a descriptor limit.
const MIN_CONNECTIONS: usize = 8;
/// The largest derived cap (a 1,048,576 hard limit does not make a million connections wise).
const MAX_DERIVED: usize = 16_384;
/// At most one log line per this long for a run of accept errors.
pub const LOG_EVERY: Duration = Duration::from_secs(5);

/// The process's `RLIMIT_NOFILE` as (soft, hard).
pub fn fd_limit() -> Option<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and reads nothing else.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    (rc == 0).then_some((lim.rlim_cur, lim.rlim_max))
}

/// Raises the soft descriptor limit to the hard one (what a server is allowed to use);
/// returns the limit now in force. Only the binary calls this: a library embedded in a
/// test does not change its host process's limits.
pub fn raise_fd_limit() -> Option<u64> {
    let (soft, hard) = fd_limit()?;
    if soft < hard {
        let lim = libc::rlimit {
            rlim_cur: hard,
            rlim_max: hard,
        };
        // SAFETY: setrlimit reads the struct we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } == 0 {
            return Some(hard);
        }
    }
    Some(soft)
}

/// The connection cap for a descriptor limit: half of what the reserve leaves.
pub fn derived_max_connections(fd_limit: u64) -> usize {
    let usable = fd_limit.saturating_sub(RESERVED_FDS) / 2;
    (usable as usize).clamp(MIN_CONNECTIONS, MAX_DERIVED)
}

/// The connections being served, each with its [`InFlight`] state.
pub struct Connections {
    slots: Arc<Semaphore>,
    max: usize,
    live: Mutex<HashMap<u64, Arc<InFlight>>>,
    next_id: AtomicU64,
}

/// A served connection's place: released (and forgotten) when dropped.
pub struct Registered {
    pub inflight: Arc<InFlight>,
    id: u64,
    owner: Arc<Connections>,
    _slot: OwnedSemaphorePermit,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut live = self.owner.live.lock().unwrap_or_else(|p| p.into_inner());
        live.remove(&self.id);
    }
}

impl Connections {
    pub fn new(max: usize) -> Arc<Connections> {
        let max = max.max(1);
        Arc::new(Connections {
            slots: Arc::new(Semaphore::new(max)),
            max,
            live: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
        })
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// A place for a connection just accepted. At the cap, the longest-idle connection is
    /// asked to close first (at once if it is idle; busy ones finish their response), then
    /// the new one waits for the first place that frees up.
    pub async fn admit(self: &Arc<Self>) -> Registered {
        let slot = match self.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                self.shed_longest_idle();
                self.slots
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed")
            }
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let inflight = Arc::new(InFlight::default());
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, inflight.clone());
        Registered {
            inflight,
            id,
            owner: self.clone(),
            _slot: slot,
        }
    }

    fn shed_longest_idle(&self) {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let oldest = live
            .values()
            .filter(|c| c.is_idle())
            .min_by_key(|c| c.last_request());
        if let Some(conn) = oldest {
            conn.shed();
        }
    }

    /// Waits until every connection has closed, at most `grace`; `false` if some did not.
    pub async fn drained(&self, grace: Duration) -> bool {
        let all = u32::try_from(self.max).unwrap_or(u32::MAX);
        tokio::time::timeout(grace, self.slots.acquire_many(all))
            .await
            .is_ok()
    }
}

/// What to do after an accept error: how long to wait, and whether to log now.
#[derive(Debug)]
pub struct AcceptBackoff {
    delay: Duration,
    since_log: u64,
    last_log: Option<Instant>,
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        AcceptBackoff {
            delay: Duration::ZERO,
            since_log: 0,
            last_log: None,
        }
    }
}

impl AcceptBackoff {
    /// Records an error; returns the pause before the next accept and, at most once per
    /// [`LOG_EVERY`], the number of errors to report.
    pub fn failed(&mut self, err: &std::io::Error, now: Instant) -> (Duration, Option<u64>) {
        let exhausted = matches!(
            err.raw_os_error(),
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
        );
        // Out of descriptors or memory: nothing frees up by retrying at once. Other
        // errors (a peer that reset before accept) concern one connection only.
        self.delay = if exhausted {
            (self.delay * 2).clamp(Duration::from_millis(10), Duration::from_secs(1))
        } else {
            Duration::ZERO
        };
        self.since_log += 1;
        let due = self
            .last_log
            .is_none_or(|t| now.duration_since(t) >= LOG_EVERY);
        let report = due.then(|| {
            self.last_log = Some(now);
            std::mem::take(&mut self.since_log)
        });
        (self.delay, report)
    }

    /// An accept succeeded: the next error starts from a short pause again.
    pub fn succeeded(&mut self) {
        self.delay = Duration::ZERO;
    }
}

/// Keeps the buffers of large bodies in the allocator's heap instead of returning them to
/// the OS. With glibc's defaults a large upload's ~400 KiB read buffers were mmapped,
/// unmapped and faulted in again for every chunk: `perf` showed 73 % of a 256 MiB
/// presigned PUT in the kernel zeroing fresh pages, at 0.07 GB/s (issue 14; figures in
/// the closing note). Allocations under 1 MiB come from the heap, larger ones (a whole
/// XML document, up to 2 MiB) are mapped and given back when freed, so hostile XML
/// uploads leave no retained heap behind them (with the threshold at 32 MiB, their
/// peak memory crept past its 64 MiB bound in `tests/memory_bounds.rs`); freed heap is
/// given back once 64 MiB of it sit unused at the top. The disk store reads bodies in
/// blocks under this threshold. (mimalloc fixed the speed too, but raised the peak
/// memory of hostile XML uploads past their bound.)
pub fn tune_allocator() {
    /// See above; `storage::disk` reads in blocks of half this.
    const MMAP_THRESHOLD: usize = 1024 * 1024;
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters (glibc takes its own lock); it is
    // called once, at start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_follow_the_descriptor_limit() {
        assert_eq!(derived_max_connections(256), 112);
        assert_eq!(derived_max_connections(64), 16);
        assert_eq!(derived_max_connections(10), MIN_CONNECTIONS);
        assert_eq!(derived_max_connections(1 << 20), MAX_DERIVED);
    }

    #[test]
    fn accept_errors_back_off_and_log_once_per_interval() {
        let mut b = AcceptBackoff::default();
        let emfile = std::io::Error::from_raw_os_error(libc::EMFILE);
        let t0 = Instant::now();
        let (d, log) = b.failed(&emfile, t0);
        assert_eq!((d, log), (Duration::from_millis(10), Some(1)));
        let mut delays = Vec::new();
        for i in 1..=10 {
            let (d, log) = b.failed(&emfile, t0 + Duration::from_millis(i));
            assert_eq!(log, None, "no line within the interval");
            delays.push(d);
        }
        assert_eq!(delays[0], Duration::from_millis(20));
        assert_eq!(*delays.last().unwrap(), Duration::from_secs(1));
        let (_, log) = b.failed(&emfile, t0 + LOG_EVERY);
        assert_eq!(log, Some(11), "the count of errors since the last line");
        b.succeeded();
        assert_eq!(
            b.failed(&emfile, t0 + LOG_EVERY).0,
            Duration::from_millis(10)
        );
        let reset = std::io::Error::from_raw_os_error(libc::ECONNABORTED);
        assert_eq!(b.failed(&reset, t0 + LOG_EVERY).0, Duration::ZERO);
    }
}
