//! Time, injected. The only module that reads the system clock (clippy's
//! `disallowed-methods` enforces it), so tests move a [`ManualClock`] to test expiry and
//! skew without sleeping.

use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

/// A source of "now" for signature checks and object timestamps.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;

    /// The clock as `PUT /_strict/clock` moves it, if it can be moved that way. A
    /// [`ManualClock`] cannot: the program that embeds the server moves it.
    fn adjustable(&self) -> Option<&AdjustableClock> {
        None
    }
}

/// The clock the server runs on unless given another: the system clock shifted by an
/// offset, or frozen at a moment. `--clock-offset` and `--clock-fixed` set it at start,
/// and `PUT /_strict/clock` at any time, so a test suite in another language moves time
/// without sleeping (presigned expiry, skew, POST policy expiration, Last-Modified...).
#[derive(Debug, Default)]
pub struct AdjustableClock {
    state: Mutex<Adjustment>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Adjustment {
    offset: time::Duration,
    frozen: Option<OffsetDateTime>,
}

/// What the clock is: now, its offset from the system clock, and whether it stands still.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    pub now: OffsetDateTime,
    pub offset: time::Duration,
    pub frozen: bool,
}

impl AdjustableClock {
    /// Shifted by `offset`, or, with `frozen`, standing still at that moment.
    pub fn new(offset: time::Duration, frozen: Option<OffsetDateTime>) -> Self {
        AdjustableClock {
            state: Mutex::new(Adjustment { offset, frozen }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Adjustment> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn reading(&self) -> ClockReading {
        let system = SystemClock.now();
        let a = *self.lock();
        match a.frozen {
            Some(at) => ClockReading {
                now: at,
                offset: at - system,
                frozen: true,
            },
            None => ClockReading {
                now: system + a.offset,
                offset: a.offset,
                frozen: false,
            },
        }
    }

    /// Moves the clock to `offset` from the system clock (a frozen clock stays frozen,
    /// at that moment).
    pub fn set_offset(&self, offset: time::Duration) {
        let mut a = self.lock();
        a.offset = offset;
        if a.frozen.is_some() {
            a.frozen = Some(SystemClock.now() + offset);
        }
    }

    /// Moves the clock to `now` (a running clock goes on running from there).
    pub fn set_now(&self, now: OffsetDateTime) {
        let mut a = self.lock();
        if a.frozen.is_some() {
            a.frozen = Some(now);
        } else {
            a.offset = now - SystemClock.now();
        }
    }

    /// Stops the clock where it is, or starts it again from where it stood.
    pub fn set_frozen(&self, frozen: bool) {
        let mut a = self.lock();
        let system = SystemClock.now();
        match (a.frozen, frozen) {
            (None, true) => a.frozen = Some(system + a.offset),
            (Some(at), false) => {
                a.offset = at - system;
                a.frozen = None;
            }
            _ => {}
        }
    }
}

impl Clock for AdjustableClock {
    fn now(&self) -> OffsetDateTime {
        let a = *self.lock();
        match a.frozen {
            Some(t) => t,
            // Adding a zero offset still walks the calendar (`checked_add`); it is the
            // common case, asked twice per request.
            None if a.offset.is_zero() => SystemClock.now(),
            None => SystemClock.now() + a.offset,
        }
    }

    fn adjustable(&self) -> Option<&AdjustableClock> {
        Some(self)
    }
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
    fn adjustable_clock_shifts_freezes_and_runs_again() {
        let c = AdjustableClock::default();
        assert!((c.now() - SystemClock.now()).abs() < time::Duration::seconds(1));
        c.set_offset(time::Duration::hours(-3));
        let r = c.reading();
        assert_eq!((r.offset, r.frozen), (time::Duration::hours(-3), false));
        c.set_now(datetime!(2030-01-01 00:00:00 UTC));
        assert!((c.now() - datetime!(2030-01-01 00:00:00 UTC)).abs() < time::Duration::seconds(1));
        assert!(!c.reading().frozen, "still running");
        c.set_frozen(true);
        let at = c.now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(c.now(), at, "frozen");
        c.set_now(datetime!(2031-06-01 12:00:00 UTC));
        assert_eq!(c.now(), datetime!(2031-06-01 12:00:00 UTC));
        c.set_offset(time::Duration::ZERO);
        assert!(c.reading().frozen);
        assert!((c.now() - SystemClock.now()).abs() < time::Duration::seconds(1));
        c.set_now(datetime!(2031-06-01 12:00:00 UTC));
        c.set_frozen(false);
        let r = c.reading();
        assert!(
            !r.frozen
                && (r.now - datetime!(2031-06-01 12:00:00 UTC)).abs() < time::Duration::seconds(1)
        );
        let fixed = AdjustableClock::new(
            time::Duration::ZERO,
            Some(datetime!(2026-01-15 12:00:00 UTC)),
        );
        assert_eq!(fixed.now(), datetime!(2026-01-15 12:00:00 UTC));
        assert!(ManualClock::starting_now().adjustable().is_none());
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
