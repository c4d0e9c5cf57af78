//! Protocol's timestamps: integer Unix seconds.

use core::fmt;

use serde::{Deserialize, Serialize};

/// A point in time as Protocol sends it: whole seconds since the Unix epoch.
///
/// ```
/// use protocol_webhooks::events::Timestamp;
///
/// let created = Timestamp::from_unix_seconds(692_233_200);
/// assert_eq!(created.unix_seconds(), 692_233_200);
/// # #[cfg(feature = "std")]
/// assert_eq!(
///     std::time::SystemTime::try_from(created).unwrap(),
///     std::time::UNIX_EPOCH + std::time::Duration::from_secs(692_233_200),
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// A timestamp from seconds since the Unix epoch (negative is before it).
    #[must_use]
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Self(seconds)
    }

    /// Seconds since the Unix epoch.
    #[must_use]
    pub const fn unix_seconds(self) -> i64 {
        self.0
    }
}

impl From<i64> for Timestamp {
    fn from(seconds: i64) -> Self {
        Self(seconds)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A timestamp too far from the epoch for the platform's `SystemTime`.
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampOutOfRange;

#[cfg(feature = "std")]
impl fmt::Display for TimestampOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timestamp out of range for SystemTime")
    }
}

#[cfg(feature = "std")]
impl core::error::Error for TimestampOutOfRange {}

#[cfg(feature = "std")]
impl TryFrom<Timestamp> for std::time::SystemTime {
    type Error = TimestampOutOfRange;

    fn try_from(timestamp: Timestamp) -> Result<Self, Self::Error> {
        let offset = core::time::Duration::from_secs(timestamp.0.unsigned_abs());
        if timestamp.0 >= 0 {
            std::time::UNIX_EPOCH.checked_add(offset)
        } else {
            std::time::UNIX_EPOCH.checked_sub(offset)
        }
        .ok_or(TimestampOutOfRange)
    }
}

#[cfg(feature = "std")]
impl TryFrom<std::time::SystemTime> for Timestamp {
    type Error = TimestampOutOfRange;

    /// Whole seconds, rounded toward negative infinity.
    fn try_from(time: std::time::SystemTime) -> Result<Self, Self::Error> {
        let seconds = match time.duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_secs()).map_err(|_| TimestampOutOfRange)?,
            Err(before) => {
                let before = before.duration();
                let whole = i64::try_from(before.as_secs()).map_err(|_| TimestampOutOfRange)?;
                let partial = i64::from(before.subsec_nanos() > 0);
                -whole - partial
            }
        };
        Ok(Self(seconds))
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use core::time::Duration;
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;

    #[test]
    fn converts_both_ways() {
        for seconds in [0, 1, 692_233_200, -1, -86_400] {
            let timestamp = Timestamp::from_unix_seconds(seconds);
            let time = SystemTime::try_from(timestamp).expect("in range");
            assert_eq!(Timestamp::try_from(time), Ok(timestamp));
        }
    }

    #[test]
    fn rounds_toward_negative_infinity_before_epoch() {
        let time = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(
            Timestamp::try_from(time),
            Ok(Timestamp::from_unix_seconds(-2))
        );
    }
}
