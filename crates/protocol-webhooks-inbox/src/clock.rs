//! Where a store learns the time, so lease and retry expiry can be tested
//! without sleeping.
//!
//! Wall-clock time, not `Instant`: due times are stored and must mean the
//! same after a restart, and in every process sharing the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// A wall-clock time source.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's clock, [`SystemTime::now`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to, for tests. Clones share the same
/// time.
///
/// ```
/// use std::time::Duration;
/// use protocol_webhooks_inbox::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let start = clock.now();
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(clock.now().duration_since(start).ok(), Some(Duration::from_secs(90)));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    start: SystemTime,
    /// Nanoseconds advanced since `start`.
    elapsed_nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at the current time.
    #[must_use]
    pub fn new() -> Self {
        Self {
            start: SystemTime::now(),
            elapsed_nanos: Arc::new(AtomicU64::new(0)),
        }
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
    fn now(&self) -> SystemTime {
        let elapsed = Duration::from_nanos(self.elapsed_nanos.load(Ordering::SeqCst));
        self.start.checked_add(elapsed).unwrap_or(self.start)
    }
}

/// Milliseconds since the Unix epoch, the unit stores keep times in;
/// times before the epoch count as the epoch.
#[cfg(any(feature = "sqlite", feature = "redis"))]
pub(crate) fn to_millis(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

/// The inverse of [`to_millis`].
#[cfg(any(feature = "sqlite", feature = "redis"))]
pub(crate) fn from_millis(millis: i64) -> SystemTime {
    let millis = u64::try_from(millis).unwrap_or(0);
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_millis(millis))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// A duration in whole milliseconds, saturating.
#[cfg(any(feature = "sqlite", feature = "redis"))]
pub(crate) fn duration_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
