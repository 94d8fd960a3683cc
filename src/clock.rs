//! Time, injected. The only module that reads the system clock (clippy's
//! `disallowed-methods` enforces it), so tests move a [`ManualClock`] to test expiry and
//! skew without sleeping.

use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

/// A source of "now" for signature checks and object timestamps.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// The system clock shifted by a fixed offset: `--clock-offset` lets a test run of the
/// binary see presigned URLs expire (or not yet be valid) without waiting.
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock {
    pub offset: time::Duration,
}

impl Clock for OffsetClock {
    fn now(&self) -> OffsetDateTime {
        SystemClock.now() + self.offset
    }
}

/// A clock that only moves when told to: `set` and `advance`.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> Self {
        ManualClock {
            now: Mutex::new(start),
        }
    }

    /// Starts at the current system time.
    pub fn starting_now() -> Self {
        ManualClock::new(SystemClock.now())
    }

    pub fn set(&self, t: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }

    /// Moves the clock back (to test "not yet valid" and skew in the other direction).
    pub fn rewind(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now -= by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn offset_clock_is_shifted() {
        let c = OffsetClock {
            offset: time::Duration::hours(2),
        };
        let diff = c.now() - SystemClock.now();
        assert!(diff > time::Duration::minutes(119) && diff <= time::Duration::hours(2));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(datetime!(2013-05-24 00:00:00 UTC));
        assert_eq!(c.now(), datetime!(2013-05-24 00:00:00 UTC));
        c.advance(Duration::from_secs(86_401));
        assert_eq!(c.now(), datetime!(2013-05-25 00:00:01 UTC));
        c.rewind(Duration::from_secs(1));
        assert_eq!(c.now(), datetime!(2013-05-25 00:00:00 UTC));
        c.set(datetime!(2020-01-01 00:00:00 UTC));
        assert_eq!(c.now(), datetime!(2020-01-01 00:00:00 UTC));
    }
}
