//! Retry delays: exponential backoff with full jitter.
//!
//! The schedule lives in the store (an entry's due time), not in a sleeping
//! task, so it survives restarts and any worker picks the retry up. Only
//! the delay formula is needed here, which is why no retry crate is used:
//! they drive the retries themselves, in memory.

use std::time::Duration;

/// The delay before the first retry, by default: 5 seconds.
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_secs(5);

/// The longest delay between two attempts, by default: 10 minutes.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(10 * 60);

/// The delays between attempts: after failed attempt `n` (from 1), a
/// uniformly random delay between zero and `min(max, base × 2^(n−1))`.
///
/// Full jitter spreads the retries of events that failed together (a
/// downstream outage) over the whole window instead of retrying them in
/// waves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
}

impl Backoff {
    /// Delays from `base`, doubling up to `max`.
    #[must_use]
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max: max.max(base),
        }
    }

    /// The upper bound of the delay after failed attempt `attempt` (from 1).
    #[must_use]
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// A random delay after failed attempt `attempt`, from zero to
    /// [`ceiling`](Self::ceiling).
    #[must_use]
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempt).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=ceiling))
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_up_to_the_max() {
        let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        let ceilings: Vec<u64> = (1..=6).map(|n| backoff.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 10, 10]);
        assert_eq!(backoff.ceiling(0), Duration::from_secs(1));
        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(10));
    }

    #[test]
    fn delays_are_spread_over_the_whole_window() {
        let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        let delays: Vec<Duration> = (0..2_000).map(|_| backoff.delay(4)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(8)));
        // Full jitter: some retries come early, some late.
        assert!(delays.iter().any(|d| *d < Duration::from_secs(1)));
        assert!(delays.iter().any(|d| *d > Duration::from_secs(7)));
    }
}
