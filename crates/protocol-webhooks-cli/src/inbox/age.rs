//! `--older-than`: an age such as `30s`, `15m`, `12h` or `7d`.

use core::fmt;
use core::str::FromStr;
use core::time::Duration;

/// A whole number of seconds, minutes, hours or days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Age {
    count: u64,
    unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl Unit {
    fn of(suffix: &str) -> Option<Self> {
        Some(match suffix {
            "s" => Self::Seconds,
            "m" => Self::Minutes,
            "h" => Self::Hours,
            "d" => Self::Days,
            _ => return None,
        })
    }

    fn seconds(self) -> u64 {
        match self {
            Self::Seconds => 1,
            Self::Minutes => 60,
            Self::Hours => 3600,
            Self::Days => 86_400,
        }
    }

    fn suffix(self) -> char {
        match self {
            Self::Seconds => 's',
            Self::Minutes => 'm',
            Self::Hours => 'h',
            Self::Days => 'd',
        }
    }
}

impl Age {
    /// The age as a duration.
    pub(crate) fn duration(self) -> Duration {
        // Parsing checked that the product fits.
        Duration::from_secs(self.count.saturating_mul(self.unit.seconds()))
    }
}

/// As given, without leading zeros: `7d`.
impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.count, self.unit.suffix())
    }
}

/// Why `--older-than` was refused; clap prints it after the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AgeError(&'static str);

impl fmt::Display for AgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected a whole number and a unit, s, m, h or d (e.g. 30s, 15m, 12h, 7d)",
            self.0
        )
    }
}

impl core::error::Error for AgeError {}

impl FromStr for Age {
    type Err = AgeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let (number, suffix) = text.split_at(digits);
        if number.is_empty() {
            return Err(AgeError("no number"));
        }
        if suffix.is_empty() {
            return Err(AgeError("no unit"));
        }
        let unit = Unit::of(suffix).ok_or(AgeError("unknown unit"))?;
        let count: u64 = number.parse().map_err(|_| AgeError("too long"))?;
        if count.checked_mul(unit.seconds()).is_none() {
            return Err(AgeError("too long"));
        }
        Ok(Self { count, unit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(text: &str) -> Result<Duration, AgeError> {
        text.parse::<Age>().map(Age::duration)
    }

    #[test]
    fn each_unit_counts_its_seconds() {
        assert_eq!(age("0s"), Ok(Duration::ZERO));
        assert_eq!(age("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(age("15m"), Ok(Duration::from_secs(15 * 60)));
        assert_eq!(age("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(age("007d"), Ok(Duration::from_secs(7 * 86_400)));
    }

    #[test]
    fn it_prints_as_written_without_leading_zeros() {
        for (text, shown) in [("7d", "7d"), ("0s", "0s"), ("015m", "15m"), ("12h", "12h")] {
            assert_eq!(text.parse::<Age>().expect(text).to_string(), shown);
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for (text, why) in [
            ("", "no number"),
            ("d", "no number"),
            ("-1d", "no number"),
            ("+1d", "no number"),
            (" 7d", "no number"),
            ("7", "no unit"),
            ("7 d", "unknown unit"),
            ("7d ", "unknown unit"),
            ("7D", "unknown unit"),
            ("7w", "unknown unit"),
            ("7ms", "unknown unit"),
            ("1h30m", "unknown unit"),
            ("1.5h", "unknown unit"),
            ("7dd", "unknown unit"),
            ("99999999999999999999s", "too long"),
            ("213503982334602d", "too long"),
        ] {
            assert_eq!(age(text), Err(AgeError(why)), "{text:?}");
        }
    }

    #[test]
    fn the_longest_age_fits() {
        let days = u64::MAX / 86_400;
        assert_eq!(
            age(&format!("{days}d")),
            Ok(Duration::from_secs(days * 86_400))
        );
        assert_eq!(
            age(&format!("{}s", u64::MAX)),
            Ok(Duration::from_secs(u64::MAX))
        );
    }
}
