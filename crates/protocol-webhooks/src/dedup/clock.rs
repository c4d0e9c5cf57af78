//! Where a store learns the time, so expiry can be tested without sleeping.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use std::time::{Instant, SystemTime};

/// A monotonic time source.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real monotonic clock, [`Instant::now`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to, for tests of lease and retention
/// expiry. Clones share the same time.
///
/// It also tells the wall-clock time it stands at
/// ([`system_time`](Self::system_time)), moved by the same
/// [`advance`](Self::advance), for stores that keep times across restarts:
/// the durable inbox takes this clock too, so one clock can drive a test of
/// both.
///
/// ```
/// use std::time::Duration;
/// use protocol_webhooks::dedup::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let start = clock.now();
/// let wall_start = clock.system_time();
/// clock.advance(Duration::from_secs(61));
/// assert_eq!(clock.now() - start, Duration::from_secs(61));
/// assert_eq!(clock.system_time().duration_since(wall_start).ok(), Some(Duration::from_secs(61)));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    start: Instant,
    system_start: SystemTime,
    /// Nanoseconds advanced since `start`; 2^64 ns is over 500 years.
    elapsed_nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at the current instant and system time.
    #[must_use]
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            system_start: SystemTime::now(),
            elapsed_nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The wall-clock time the clock stands at: the system time when it was
    /// made, moved forward as the clock was.
    #[must_use]
    pub fn system_time(&self) -> SystemTime {
        self.system_start
            .checked_add(self.elapsed())
            .unwrap_or(self.system_start)
    }

    fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_nanos.load(Ordering::SeqCst))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // fetch_update cannot fail with a closure that always returns Some.
        let _ = self
            .elapsed_nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |current| {
                Some(current.saturating_add(nanos))
            });
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start.checked_add(self.elapsed()).unwrap_or(self.start)
    }
}
