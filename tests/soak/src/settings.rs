//! Scenario sizes, from the environment.

use core::time::Duration;

/// Requests of the mixed load when `SOAK_REQUESTS` is not set: small enough
/// for a debug `cargo test` of all five frameworks to stay short.
pub const CI_REQUESTS: usize = 2_000;

/// The streamed body of the huge-body scenario: 100 MiB.
pub const HUGE_BODY_BYTES: u64 = 100 * 1024 * 1024;

/// How large each scenario runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Requests of the mixed load (`SOAK_REQUESTS`, default [`CI_REQUESTS`]).
    pub requests: usize,
    /// Time the mixed load may take before it fails (`SOAK_DEADLINE_SECS`,
    /// default 120 s, or 10 ms per request when that is longer).
    pub deadline: Duration,
    /// Connections the truncated-body scenario cuts short: one per hundred
    /// requests, at least 20.
    pub truncated_connections: usize,
    /// Bytes of the huge chunked body: [`HUGE_BODY_BYTES`].
    pub huge_body_bytes: u64,
}

impl Settings {
    /// Reads `SOAK_REQUESTS` and `SOAK_DEADLINE_SECS`.
    ///
    /// # Errors
    /// When a variable is set but is not a positive whole number: a typo
    /// must not quietly run the small size.
    pub fn from_env() -> Result<Self, String> {
        Self::from_values(
            std::env::var("SOAK_REQUESTS").ok().as_deref(),
            std::env::var("SOAK_DEADLINE_SECS").ok().as_deref(),
        )
    }

    fn from_values(requests: Option<&str>, deadline: Option<&str>) -> Result<Self, String> {
        let requests = match requests {
            Some(value) => positive("SOAK_REQUESTS", value)?,
            None => CI_REQUESTS,
        };
        let deadline = match deadline {
            Some(value) => Duration::from_secs(positive("SOAK_DEADLINE_SECS", value)? as u64),
            None => Duration::from_secs(120).max(Duration::from_millis(10) * requests as u32),
        };
        Ok(Self {
            requests,
            deadline,
            truncated_connections: (requests / 100).max(20),
            huge_body_bytes: HUGE_BODY_BYTES,
        })
    }
}

fn positive(name: &str, value: &str) -> Result<usize, String> {
    match value.trim().parse::<usize>() {
        Ok(number) if number > 0 && u32::try_from(number).is_ok() => Ok(number),
        _ => Err(format!(
            "{name}={value:?} is not a positive whole number below 2^32"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_ci_sizes() {
        let settings = Settings::from_values(None, None).expect("defaults");
        assert_eq!(settings.requests, CI_REQUESTS);
        assert_eq!(settings.deadline, Duration::from_secs(120));
        assert_eq!(settings.truncated_connections, 20);
        assert_eq!(settings.huge_body_bytes, 100 * 1024 * 1024);
    }

    #[test]
    fn full_size_scales_deadline_and_truncations() {
        let settings = Settings::from_values(Some("20000"), None).expect("full size");
        assert_eq!(settings.requests, 20_000);
        assert_eq!(settings.deadline, Duration::from_secs(200));
        assert_eq!(settings.truncated_connections, 200);
        let settings = Settings::from_values(Some("20000"), Some("30")).expect("deadline");
        assert_eq!(settings.deadline, Duration::from_secs(30));
    }

    #[test]
    fn bad_values_are_errors() {
        for value in ["", "0", "-1", "2k", "99999999999"] {
            assert!(
                Settings::from_values(Some(value), None).is_err(),
                "{value:?}"
            );
        }
        assert!(Settings::from_values(None, Some("soon")).is_err());
    }
}
