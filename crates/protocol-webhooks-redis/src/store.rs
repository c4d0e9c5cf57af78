//! The Redis-backed [`EventStore`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use protocol_webhooks::dedup::{ClaimOutcome, ClaimToken, EventStore, StoreError, StoreFuture};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisResult};

use crate::error::{TimedOut, UnexpectedReply};
use crate::scripts;

/// The key prefix unless configured otherwise: keys are
/// `protocol-webhooks:event:<event id>`.
pub const DEFAULT_PREFIX: &str = "protocol-webhooks:event:";

/// The longest an operation may take unless configured otherwise, reconnect
/// included: past it the store answers [`StoreError::Unavailable`] (a 503)
/// rather than holding the sender's request open.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// Expiry times are capped at a century, well inside what Redis accepts.
const MAX_TTL_MILLIS: u64 = 100 * 365 * 24 * 60 * 60 * 1000;

/// An [`EventStore`] in Redis, shared by every replica that connects to the
/// same server with the same prefix.
///
/// Each operation is one Lua script, atomic on the server: a claim is
/// `SET NX PX` (or the current state and its remaining time), a commit or
/// release first compares the stored token with the caller's. Cloning is
/// cheap and shares the connection.
///
/// Every operation is bounded by [`with_timeout`](Self::with_timeout)
/// (default 2 s). When Redis is down, stopped or slow, operations fail with
/// [`StoreError::Unavailable`], which a receiver answers with 503, and the
/// connection is re-established in the background once Redis is back.
///
/// A claim whose answer is lost (to a timeout, or because the request was
/// dropped while waiting) may still be made when Redis
/// catches up; the store then releases it in the background, and if even
/// that fails it expires with its lease (deliveries meanwhile get 409).
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: Arc<str>,
    timeout: Duration,
}

impl RedisStore {
    /// Connects to `url` (`redis://[user:password@]host[:port][/db]`) with
    /// [`manager_config`](Self::manager_config).
    ///
    /// # Errors
    /// When the URL is invalid or Redis cannot be reached.
    pub async fn connect(url: &str) -> RedisResult<Self> {
        let client = Client::open(url)?;
        let connection = ConnectionManager::new_with_config(client, Self::manager_config()).await?;
        Ok(Self::new(connection))
    }

    /// Like [`connect`](Self::connect) but without waiting for Redis: the
    /// connection is made on first use, so a service can start while Redis
    /// is down (and answer 503 until it is up). Must be called within a
    /// Tokio runtime.
    ///
    /// # Errors
    /// When the URL is invalid.
    pub fn connect_lazy(url: &str) -> RedisResult<Self> {
        let client = Client::open(url)?;
        let connection = ConnectionManager::new_lazy_with_config(client, Self::manager_config())?;
        Ok(Self::new(connection))
    }

    /// Uses an existing connection manager, with its own configuration;
    /// consider the timeouts of [`manager_config`](Self::manager_config).
    #[must_use]
    pub fn new(connection: ConnectionManager) -> Self {
        Self {
            connection,
            prefix: Arc::from(DEFAULT_PREFIX),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The connection configuration [`connect`](Self::connect) uses: short
    /// connection and response timeouts and few reconnection attempts, so
    /// that an unreachable Redis is reported quickly rather than waited for.
    #[must_use]
    pub fn manager_config() -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(Duration::from_secs(1))
    }

    /// Sets the prefix of every key, e.g. to share a Redis between services.
    /// Replicas of one service must use the same prefix.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    /// Sets the longest an operation may take before it fails with
    /// [`StoreError::Unavailable`].
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The prefix of every key.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key of an event id.
    #[must_use]
    pub fn key(&self, event_id: &str) -> String {
        let mut key = String::with_capacity(self.prefix.len() + event_id.len());
        key.push_str(&self.prefix);
        key.push_str(event_id);
        key
    }

    /// Runs one operation under the time limit, mapping every failure to
    /// [`StoreError::Unavailable`].
    async fn bounded<T>(
        &self,
        operation: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, operation).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(StoreError::unavailable(error)),
            Err(_) => Err(StoreError::unavailable(TimedOut(self.timeout))),
        }
    }

    async fn claim_in_redis(
        &self,
        event_id: &str,
        lease: Duration,
    ) -> Result<ClaimOutcome, StoreError> {
        let token = ClaimToken::random()?;
        let pending = PendingClaim {
            store: self,
            event_id,
            token: Some(token.clone()),
        };
        let mut connection = self.connection.clone();
        let reply: (i64, i64) = self
            .bounded(
                scripts::eval(scripts::CLAIM, &self.key(event_id))
                    .arg(token.to_hex())
                    .arg(millis(lease))
                    .query_async(&mut connection),
            )
            .await?;
        pending.settled();
        match reply {
            (scripts::CLAIMED, _) => Ok(ClaimOutcome::Claimed(token)),
            (scripts::DONE, _) => Ok(ClaimOutcome::Done),
            (scripts::IN_PROGRESS, remaining) => Ok(ClaimOutcome::InProgress {
                // A claim without an expiry was not written by this store;
                // the caller's lease is the best guess of when to retry.
                retry_after: u64::try_from(remaining)
                    .ok()
                    .filter(|&millis| millis > 0)
                    .map_or(lease, Duration::from_millis),
            }),
            _ => Err(StoreError::unavailable(UnexpectedReply)),
        }
    }

    async fn commit_in_redis(
        &self,
        event_id: &str,
        token: &ClaimToken,
        retention: Duration,
    ) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let committed: i64 = self
            .bounded(
                scripts::eval(scripts::COMMIT, &self.key(event_id))
                    .arg(token.to_hex())
                    .arg(millis(retention))
                    .query_async(&mut connection),
            )
            .await?;
        match committed {
            1 => Ok(()),
            0 => Err(StoreError::LostClaim),
            _ => Err(StoreError::unavailable(UnexpectedReply)),
        }
    }

    async fn release_in_redis(&self, event_id: &str, token: &ClaimToken) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let _released: i64 = self
            .bounded(
                scripts::eval(scripts::RELEASE, &self.key(event_id))
                    .arg(token.to_hex())
                    .query_async(&mut connection),
            )
            .await?;
        Ok(())
    }
}

/// A claim sent to Redis whose outcome is not known yet.
///
/// If the answer never arrives — the operation failed or timed out, or the
/// caller dropped the future — the claim may still be made when Redis
/// catches up, and would then block every delivery for a whole lease with
/// nobody to commit it. The token is known here, so dropping this releases
/// it: on the same connection the release runs after the claim, and
/// anywhere it does nothing unless the claim landed with this token.
struct PendingClaim<'a> {
    store: &'a RedisStore,
    event_id: &'a str,
    token: Option<ClaimToken>,
}

impl PendingClaim<'_> {
    /// The answer arrived: the caller knows whether it holds the claim.
    fn settled(mut self) {
        self.token = None;
    }
}

impl Drop for PendingClaim<'_> {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            self.store.release_detached(self.event_id.to_owned(), token);
        }
    }
}

/// A duration in whole milliseconds as Redis expects for `PX`: at least 1
/// (0 is an error) and at most a century.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_TTL_MILLIS)
}

impl EventStore for RedisStore {
    fn claim<'a>(&'a self, event_id: &'a str, lease: Duration) -> StoreFuture<'a, ClaimOutcome> {
        Box::pin(self.claim_in_redis(event_id, lease))
    }

    fn commit<'a>(
        &'a self,
        event_id: &'a str,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.commit_in_redis(event_id, token, retention))
    }

    fn release<'a>(&'a self, event_id: &'a str, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(self.release_in_redis(event_id, token))
    }

    /// Sends the release from a task on the current Tokio runtime; without
    /// one, or if Redis cannot be reached, the claim ends with its lease.
    fn release_detached(&self, event_id: String, token: ClaimToken) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let store = self.clone();
            runtime.spawn(async move {
                // Nobody is left to tell about a failure; the lease expiry
                // frees the id in that case.
                let _ = store.release_in_redis(&event_id, &token).await;
            });
        }
    }
}

/// Shows the prefix and time limit only: the connection's own `Debug` can
/// include the URL's password.
impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_are_clamped_to_what_redis_accepts() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_micros(999)), 1);
        assert_eq!(millis(Duration::from_secs(60)), 60_000);
        assert_eq!(millis(Duration::MAX), MAX_TTL_MILLIS);
    }

    #[tokio::test]
    async fn keys_are_prefixed_and_debug_hides_the_url() {
        let store = RedisStore::connect_lazy("redis://:hunter2@127.0.0.1:1/0").expect("valid url");
        assert_eq!(store.key("evt_1"), "protocol-webhooks:event:evt_1");
        let store = store
            .with_prefix("billing:webhooks:")
            .with_timeout(Duration::from_millis(300));
        assert_eq!(store.prefix(), "billing:webhooks:");
        assert_eq!(store.key("evt_1"), "billing:webhooks:evt_1");
        let debug = format!("{store:?}");
        assert_eq!(
            debug,
            r#"RedisStore { prefix: "billing:webhooks:", timeout: 300ms, .. }"#
        );
    }

    #[test]
    fn an_invalid_url_is_an_error() {
        assert!(RedisStore::connect_lazy("http://example.com").is_err());
    }
}
