//! Run sizes, from the environment.

use std::time::Duration;

/// Events of the kill/restart run when `INBOX_SOAK_EVENTS` is not set:
/// small enough for a debug `cargo test`.
pub const CI_EVENTS: usize = 3_000;

/// Events of the Redis kill/restart run when `INBOX_SOAK_EVENTS` is not
/// set: four debug processes and a Redis server share two cores.
pub const REDIS_CI_EVENTS: usize = 1_500;

/// How large the kill/restart run is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Events sent (`INBOX_SOAK_EVENTS`, default [`CI_EVENTS`]).
    pub events: usize,
    /// Concurrent clients (`INBOX_SOAK_CLIENTS`, default 8).
    pub clients: usize,
    /// The fewest SIGKILLs: the killing goes on after the last event is
    /// acknowledged, through the worker's drain, until there were this
    /// many (`INBOX_SOAK_KILLS`, default 5).
    pub min_kills: usize,
    /// Time the whole run may take before it fails
    /// (`INBOX_SOAK_DEADLINE_SECS`, default 90 s plus 20 ms per event).
    pub deadline: Duration,
}

impl Settings {
    /// Reads the variables above.
    ///
    /// # Errors
    /// When one is set but is not a positive whole number: a typo must
    /// not quietly run the small size.
    pub fn from_env() -> Result<Self, String> {
        Self::from_env_with(CI_EVENTS)
    }

    /// Reads the variables above, with `events` when `INBOX_SOAK_EVENTS`
    /// is not set.
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_env_with(events: usize) -> Result<Self, String> {
        Self::from_values(events, |name| std::env::var(name).ok())
    }

    fn from_values(
        default_events: usize,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let read = |name: &str, default: usize| match var(name) {
            Some(value) => match value.trim().parse::<usize>() {
                Ok(number) if number > 0 && u32::try_from(number).is_ok() => Ok(number),
                _ => Err(format!(
                    "{name}={value:?} is not a positive whole number below 2^32"
                )),
            },
            None => Ok(default),
        };
        let events = read("INBOX_SOAK_EVENTS", default_events)?;
        let default_deadline = 90 + events / 50;
        Ok(Self {
            events,
            clients: read("INBOX_SOAK_CLIENTS", 8)?,
            min_kills: read("INBOX_SOAK_KILLS", 5)?,
            deadline: Duration::from_secs(
                read("INBOX_SOAK_DEADLINE_SECS", default_deadline)? as u64
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
        Settings::from_values(CI_EVENTS, |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn defaults_are_the_ci_size() {
        let defaults = settings(&[]).expect("defaults");
        assert_eq!(
            defaults,
            Settings {
                events: CI_EVENTS,
                clients: 8,
                min_kills: 5,
                deadline: Duration::from_secs(150),
            }
        );
    }

    #[test]
    fn the_full_run_has_a_longer_deadline() {
        let full = settings(&[("INBOX_SOAK_EVENTS", "10000")]).expect("full");
        assert_eq!(full.events, 10_000);
        assert_eq!(full.deadline, Duration::from_secs(290));
        let set = settings(&[("INBOX_SOAK_DEADLINE_SECS", "30")]).expect("deadline");
        assert_eq!(set.deadline, Duration::from_secs(30));
    }

    #[test]
    fn bad_values_are_errors() {
        for value in ["", "0", "-1", "2k", "99999999999"] {
            assert!(
                settings(&[("INBOX_SOAK_EVENTS", value)]).is_err(),
                "{value:?}"
            );
        }
        assert!(settings(&[("INBOX_SOAK_KILLS", "many")]).is_err());
    }
}
