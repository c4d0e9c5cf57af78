//! Where a store learns the time, so lease and retry expiry can be tested
//! without sleeping.
//!
//! Wall-clock time, not `Instant`: due times are stored and must mean the
//! same after a restart, and in every process sharing the store.

#[cfg(any(feature = "sqlite", feature = "redis"))]
use std::time::Duration;
use std::time::SystemTime;

pub use protocol_webhooks::dedup::ManualClock;

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

/// The core's test clock tells wall-clock time too: the inbox takes it, so
/// one clock can drive a test of the de-duplication store and the inbox.
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
impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.system_time()
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
