//! The inbox's counts and the example's handled ids in the Redis tests'
//! server.

use protocol_webhooks_inbox::redis::{self, AsyncCommands as _, RedisError};
use protocol_webhooks_inbox::{InboxStore as _, RedisStore};

/// The example's list of handled ids, under the inbox's prefix
/// (`{prefix}:handled`): its handler pushes an event's id in the script
/// that marks the event done.
pub const HANDLED_LIST: &str = "handled";

/// The example's settings for the Redis tests: `role` (`receiver` or
/// `worker`) on the inbox at `url` under `prefix`, a fifth of the attempts
/// failing, and a 3 s lease after which a killed worker's events are taken
/// by another worker (or by itself, restarted). Each success is the
/// event's id in [`RedisInbox::handled`].
#[must_use]
pub fn redis_example_env(
    role: &'static str,
    url: &str,
    prefix: &str,
    concurrency: usize,
) -> Vec<(&'static str, String)> {
    [
        ("ROLE", role),
        ("INBOX_URL", url),
        ("INBOX_REDIS_PREFIX", prefix),
        ("INBOX_FAIL_RATE", "0.2"),
        ("INBOX_ATTEMPTS", "50"),
        ("INBOX_BACKOFF_MS", "20"),
        ("INBOX_BACKOFF_MAX_MS", "500"),
        ("INBOX_LEASE_MS", "3000"),
        ("INBOX_POLL_MS", "100"),
    ]
    .into_iter()
    .map(|(name, value)| (name, value.to_owned()))
    .chain([("INBOX_CONCURRENCY", concurrency.to_string())])
    .collect()
}

/// The inbox in a Redis server under one key prefix, read by the test as
/// an operator reads it, and the example's handled ids beside it.
#[derive(Debug)]
pub struct RedisInbox {
    runtime: tokio::runtime::Runtime,
    store: RedisStore,
    /// For the handled ids: the store has no command of its own to list a
    /// key it does not keep.
    client: redis::Client,
}

impl RedisInbox {
    /// The inbox at `url` under `prefix`, connected on first use.
    ///
    /// # Panics
    /// When the URL or prefix is invalid.
    #[must_use]
    pub fn new(url: &str, prefix: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let store = runtime
            .block_on(async { RedisStore::options().prefix(prefix).open_lazy(url) })
            .expect("the Redis inbox");
        let client = redis::Client::open(url).expect("the Redis URL");
        Self {
            runtime,
            store,
            client,
        }
    }

    /// The example's handled ids (`LRANGE {prefix}:handled 0 -1`), in the
    /// order they were pushed; an id handled twice is there twice.
    ///
    /// # Errors
    /// When Redis cannot be read.
    pub fn handled(&self) -> Result<Vec<String>, RedisError> {
        let key = self.store.key(HANDLED_LIST);
        self.runtime.block_on(async {
            let mut connection = self.client.get_multiplexed_async_connection().await?;
            connection.lrange(key, 0, -1).await
        })
    }

    /// The count per state and `total`, as `protocol-webhooks inbox stats
    /// --json` prints them.
    ///
    /// # Errors
    /// When Redis cannot be read.
    pub fn stats(&self) -> Result<serde_json::Value, String> {
        let stats = self
            .runtime
            .block_on(self.store.stats())
            .map_err(|error| error.to_string())?;
        Ok(serde_json::json!({
            "pending": stats.pending,
            "in_flight": stats.in_flight,
            "done": stats.done,
            "dead": stats.dead,
            "total": stats.pending + stats.in_flight + stats.done + stats.dead,
        }))
    }

    /// Entries pending or in flight; `u64::MAX` when Redis cannot be read.
    #[must_use]
    pub fn busy(&self) -> u64 {
        self.stats().map_or(u64::MAX, |stats| {
            ["pending", "in_flight"]
                .iter()
                .map(|state| stats[state].as_u64().unwrap_or(u64::MAX))
                .fold(0, u64::saturating_add)
        })
    }
}
