//! What the inbox example reads besides the shared receiver settings: its
//! role, the inbox's store, the worker's schedule and the handler's test
//! switches.

use std::path::PathBuf;
use std::time::Duration;

use protocol_webhooks_inbox::{
    DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX, DEFAULT_CONCURRENCY,
    DEFAULT_LEASE, DEFAULT_POLL_INTERVAL,
};

/// The SQLite file when neither `INBOX_PATH` nor `INBOX_URL` is set.
pub(crate) const DEFAULT_PATH: &str = "inbox.sqlite3";

/// What this process runs (`--role`, or `ROLE`; default `both`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The HTTP receiver only: stores events, handles none.
    Receiver,
    /// The worker only: handles stored events, serves no HTTP.
    Worker,
    /// Both, in one process.
    Both,
}

impl Role {
    fn parse(value: &str) -> Result<Self, String> {
        match value.trim() {
            "receiver" => Ok(Self::Receiver),
            "worker" => Ok(Self::Worker),
            "both" => Ok(Self::Both),
            _ => Err(format!(
                "the role must be receiver, worker or both, got {value:?}"
            )),
        }
    }

    pub(crate) fn receives(self) -> bool {
        matches!(self, Self::Receiver | Self::Both)
    }

    pub(crate) fn works(self) -> bool {
        matches!(self, Self::Worker | Self::Both)
    }
}

/// Where the inbox is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreTarget {
    /// A SQLite file (`INBOX_PATH`, default [`DEFAULT_PATH`]).
    Sqlite(PathBuf),
    /// A Redis server (`INBOX_URL=redis://...`, feature `redis`), its keys
    /// under `INBOX_REDIS_PREFIX` (default: the store's own prefix).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Redis {
        /// `INBOX_URL`.
        url: String,
        /// `INBOX_REDIS_PREFIX`.
        prefix: Option<String>,
    },
}

/// The worker's settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WorkerOptions {
    /// `INBOX_CONCURRENCY`: handlers at once.
    pub(crate) concurrency: usize,
    /// `INBOX_ATTEMPTS`: attempts before an event is dead.
    pub(crate) attempts: u32,
    /// `INBOX_BACKOFF_MS`: the first retry's delay ceiling.
    pub(crate) backoff_base: Duration,
    /// `INBOX_BACKOFF_MAX_MS`: the longest retry delay.
    pub(crate) backoff_max: Duration,
    /// `INBOX_LEASE_MS`: how long a taken event is this worker's.
    pub(crate) lease: Duration,
    /// `INBOX_POLL_MS`: how often an idle worker looks for due entries
    /// (retries, leases that ended, events stored by another process).
    pub(crate) poll_interval: Duration,
}

/// The handler's switches, for trying failures out and for the soak tests.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HandlerOptions {
    /// `INBOX_FAIL_RATE`: the fraction of attempts that fail, 0 to 1.
    pub(crate) fail_rate: f64,
    /// `INBOX_FAIL_ID`: an event id whose every attempt fails.
    pub(crate) fail_id: Option<String>,
}

/// Everything above.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Options {
    pub(crate) role: Role,
    pub(crate) store: StoreTarget,
    pub(crate) worker: WorkerOptions,
    pub(crate) handler: HandlerOptions,
}

impl Options {
    /// Reads the command line (`--role ROLE`) and the environment.
    ///
    /// # Errors
    /// What is wrong, for a usage error.
    pub(crate) fn from_env() -> Result<Self, String> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        Self::read(&args, |name| std::env::var(name).ok())
    }

    fn read(args: &[String], var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let role = match role_argument(args)? {
            Some(role) => role,
            None => var("ROLE").map_or(Ok(Role::Both), |value| Role::parse(&value))?,
        };
        let store = match (var("INBOX_URL"), var("INBOX_PATH")) {
            (Some(_), Some(_)) => {
                return Err("set INBOX_URL (Redis) or INBOX_PATH (SQLite), not both".to_owned());
            }
            (Some(url), None) => redis_target(url, var("INBOX_REDIS_PREFIX"))?,
            (None, path) => StoreTarget::Sqlite(PathBuf::from(
                path.unwrap_or_else(|| DEFAULT_PATH.to_owned()),
            )),
        };
        let millis = |name: &str, default: Duration| -> Result<Duration, String> {
            var(name).map_or(Ok(default), |value| {
                positive(name, &value).map(Duration::from_millis)
            })
        };
        let worker = WorkerOptions {
            concurrency: match var("INBOX_CONCURRENCY") {
                Some(value) => usize::try_from(positive("INBOX_CONCURRENCY", &value)?)
                    .map_err(|_| format!("INBOX_CONCURRENCY is too large: {value:?}"))?,
                None => DEFAULT_CONCURRENCY,
            },
            attempts: match var("INBOX_ATTEMPTS") {
                Some(value) => u32::try_from(positive("INBOX_ATTEMPTS", &value)?)
                    .map_err(|_| format!("INBOX_ATTEMPTS is too large: {value:?}"))?,
                None => DEFAULT_ATTEMPTS,
            },
            backoff_base: millis("INBOX_BACKOFF_MS", DEFAULT_BACKOFF_BASE)?,
            backoff_max: millis("INBOX_BACKOFF_MAX_MS", DEFAULT_BACKOFF_MAX)?,
            lease: millis("INBOX_LEASE_MS", DEFAULT_LEASE)?,
            poll_interval: millis("INBOX_POLL_MS", DEFAULT_POLL_INTERVAL)?,
        };
        let fail_rate = match var("INBOX_FAIL_RATE") {
            Some(value) => match value.trim().parse::<f64>() {
                Ok(rate) if (0.0..=1.0).contains(&rate) => rate,
                _ => {
                    return Err(format!(
                        "INBOX_FAIL_RATE must be a fraction from 0 to 1, got {value:?}"
                    ));
                }
            },
            None => 0.0,
        };
        let handler = HandlerOptions {
            fail_rate,
            fail_id: var("INBOX_FAIL_ID").map(|id| id.trim().to_owned()),
        };
        Ok(Self {
            role,
            store,
            worker,
            handler,
        })
    }
}

/// `--role ROLE` or `--role=ROLE`, the only argument there is.
fn role_argument(args: &[String]) -> Result<Option<Role>, String> {
    let usage = "usage: example-inbox [--role receiver|worker|both]";
    match args {
        [] => Ok(None),
        [flag, value] if flag == "--role" => Role::parse(value).map(Some),
        [flag] => match flag.strip_prefix("--role=") {
            Some(value) => Role::parse(value).map(Some),
            None => Err(usage.to_owned()),
        },
        _ => Err(usage.to_owned()),
    }
}

#[cfg(feature = "redis")]
#[expect(
    clippy::unnecessary_wraps,
    reason = "the same signature as without Redis"
)]
fn redis_target(url: String, prefix: Option<String>) -> Result<StoreTarget, String> {
    Ok(StoreTarget::Redis {
        url,
        prefix: prefix.map(|prefix| prefix.trim().to_owned()),
    })
}

#[cfg(not(feature = "redis"))]
fn redis_target(_url: String, _prefix: Option<String>) -> Result<StoreTarget, String> {
    Err("INBOX_URL needs the Redis store: cargo run -p example-inbox --features redis".to_owned())
}

fn positive(name: &str, value: &str) -> Result<u64, String> {
    match value.trim().parse::<u64>() {
        Ok(number) if number > 0 => Ok(number),
        _ => Err(format!(
            "{name} must be a positive whole number, got {value:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(args: &[&str], vars: &[(&str, &str)]) -> Result<Options, String> {
        let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        Options::read(&args, |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn defaults_are_one_process_on_sqlite_with_the_worker_defaults() {
        let options = read(&[], &[]).expect("defaults");
        assert_eq!(options.role, Role::Both);
        assert_eq!(
            options.store,
            StoreTarget::Sqlite(PathBuf::from(DEFAULT_PATH))
        );
        assert_eq!(options.worker.attempts, DEFAULT_ATTEMPTS);
        assert_eq!(options.worker.lease, DEFAULT_LEASE);
        assert_eq!(options.worker.backoff_base, DEFAULT_BACKOFF_BASE);
        assert!(options.handler.fail_rate.abs() < f64::EPSILON);
        assert_eq!(options.handler.fail_id, None);
    }

    #[test]
    fn every_setting_is_read() {
        let options = read(
            &["--role", "worker"],
            &[
                ("ROLE", "receiver"),
                ("INBOX_PATH", "/tmp/x.sqlite3"),
                ("INBOX_CONCURRENCY", "8"),
                ("INBOX_ATTEMPTS", "3"),
                ("INBOX_BACKOFF_MS", "50"),
                ("INBOX_BACKOFF_MAX_MS", "500"),
                ("INBOX_LEASE_MS", "2000"),
                ("INBOX_POLL_MS", "100"),
                ("INBOX_FAIL_RATE", "0.2"),
                ("INBOX_FAIL_ID", "evt_1"),
            ],
        )
        .expect("settings");
        // The argument wins over the environment.
        assert_eq!(options.role, Role::Worker);
        assert_eq!(
            options.store,
            StoreTarget::Sqlite(PathBuf::from("/tmp/x.sqlite3"))
        );
        assert_eq!(
            options.worker,
            WorkerOptions {
                concurrency: 8,
                attempts: 3,
                backoff_base: Duration::from_millis(50),
                backoff_max: Duration::from_millis(500),
                lease: Duration::from_secs(2),
                poll_interval: Duration::from_millis(100),
            }
        );
        assert!((options.handler.fail_rate - 0.2).abs() < f64::EPSILON);
        assert_eq!(options.handler.fail_id.as_deref(), Some("evt_1"));
        let receiver = read(&["--role=receiver"], &[]).expect("--role=");
        assert_eq!(receiver.role, Role::Receiver);
        let from_env = read(&[], &[("ROLE", "worker")]).expect("ROLE");
        assert_eq!(from_env.role, Role::Worker);
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for (args, vars) in [
            (&["--role", "all"][..], &[][..]),
            (&["--port", "1"][..], &[][..]),
            (&[][..], &[("ROLE", "workers")][..]),
            (&[][..], &[("INBOX_ATTEMPTS", "0")][..]),
            (&[][..], &[("INBOX_LEASE_MS", "1s")][..]),
            (&[][..], &[("INBOX_FAIL_RATE", "20%")][..]),
            (&[][..], &[("INBOX_FAIL_RATE", "1.5")][..]),
            (
                &[][..],
                &[("INBOX_URL", "redis://127.0.0.1"), ("INBOX_PATH", "x")][..],
            ),
        ] {
            assert!(read(args, vars).is_err(), "{args:?} {vars:?}");
        }
    }

    #[test]
    fn a_redis_url_picks_redis_when_built_with_it() {
        let options = read(&[], &[("INBOX_URL", "redis://127.0.0.1:6379")]);
        if cfg!(feature = "redis") {
            assert_eq!(
                options.expect("redis").store,
                StoreTarget::Redis {
                    url: "redis://127.0.0.1:6379".to_owned(),
                    prefix: None
                }
            );
            let prefixed = read(
                &[],
                &[
                    ("INBOX_URL", "redis://127.0.0.1:6379"),
                    ("INBOX_REDIS_PREFIX", "soak-1"),
                ],
            )
            .expect("redis");
            assert_eq!(
                prefixed.store,
                StoreTarget::Redis {
                    url: "redis://127.0.0.1:6379".to_owned(),
                    prefix: Some("soak-1".to_owned())
                }
            );
        } else {
            assert!(options.is_err());
        }
    }
}
