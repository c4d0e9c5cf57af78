//! An inbox store in Redis: a stream with a consumer group for the due
//! entries, a hash per entry, sorted sets for delays, leases and listing.

mod accepts;
mod error;
mod keys;
mod scripts;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use protocol_webhooks::dedup::{ClaimToken, StoreError, StoreFuture};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, ErrorKind, RedisError, RedisResult, ServerErrorKind, ToRedisArgs, Value};

use self::accepts::AcceptQueue;
use self::error::{NotReplicated, TimedOut, UnexpectedReply};
use self::keys::{Keys, check_prefix};
use self::scripts::Script;
use super::InboxStore;
use crate::clock::{duration_millis, from_millis, to_millis};
use crate::{
    Accepted, AfterFailure, Clock, Delivery, Entry, EntrySummary, NewEntry, State, Stats,
    SystemClock, Taken,
};

/// The key prefix unless configured otherwise: keys are
/// `{protocol-webhooks-inbox}:stream`, `{protocol-webhooks-inbox}:entry:<id>`, ...
pub const DEFAULT_REDIS_PREFIX: &str = "protocol-webhooks-inbox";

/// The consumer group of the workers unless configured otherwise.
pub const DEFAULT_REDIS_GROUP: &str = "workers";

/// The longest an operation may take unless configured otherwise, reconnect
/// included: past it the store answers [`StoreError::Unavailable`] (a 503
/// for an accept) rather than holding the sender's request open.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// The most entries one `take` hands out, whatever its limit.
const MAX_TAKE: usize = 1_000;
/// The most delayed entries and ended leases one `take` looks at, and the
/// most entries one script call of `retry_all_dead` or a purge changes:
/// every script stays short, so Redis keeps answering other clients.
const BATCH: usize = 1_000;
/// A list limit from which the whole index is read.
const LIST_ALL: usize = 1 << 40;

/// A durable inbox in Redis (feature `redis`), shared by every receiver and
/// worker that opens the same server with the same prefix.
///
/// - **Accept** is one Lua script: if the entry's hash exists the event is
///   already stored; otherwise the hash is written (the exact body, type,
///   `pending`, 0 attempts, the times) and the id appended to the stream
///   with `XADD`, atomically. Accepts that arrive while one script call is
///   on its way go together in the next (up to 64 entries or 1 MiB of
///   bodies), so under load Redis runs one script for many; each caller is
///   answered once Redis has applied its own entry. A call leaves out the
///   accepts whose callers have gone (time limit passed, request dropped):
///   an event refused with a 503 while waiting for its call is not stored.
/// - **Take** is one script: due retries move from a sorted set into the
///   stream; leases that ended are taken again (their message claimed for
///   this consumer with `XCLAIM`) or, on the last attempt, end dead; then
///   new messages are read with `XREADGROUP` for this consumer. Each taken
///   entry gets a fresh random lease token in its hash.
/// - **Complete, fail, release** are scripts that first compare the token,
///   so a worker whose lease was taken over changes nothing; each
///   acknowledges and deletes the entry's message (`XACK`, `XDEL`), so the
///   stream only holds entries that are due or taken. A retry waits in a
///   sorted set by due time until a take moves it back into the stream.
/// - **Time** is the store's [`Clock`] (the system clock unless set), sent
///   with every script: due times and lease ends are compared with it, not
///   with Redis's clock or its idle times. Replicas sharing an inbox need
///   synchronised clocks (NTP); a skew shortens or lengthens leases by as
///   much.
/// - **Durability** is Redis's: an accept has returned once Redis applied
///   it, and survives a Redis crash only with the append-only file and
///   `appendfsync always` (with `everysec`, the last second of accepts may
///   be lost). With replicas, [`RedisOptions::wait_replicas`] makes accepts
///   wait for their acknowledgement. Redis must never evict these keys:
///   `maxmemory-policy noeviction`. See the crate's README.
///
/// Every operation is bounded by [`RedisOptions::timeout`] (default 2 s):
/// when Redis is down, stopped or slow, operations fail with
/// [`StoreError::Unavailable`] and the connection is made again in the
/// background once Redis is back. No error text holds the URL. A write
/// whose time limit passes after it was sent may still be applied when
/// Redis gets to it: an accept refused then is answered `AlreadyStored` on
/// redelivery.
///
/// A `rediss://` URL (Redis over TLS) needs the feature `redis-tls`.
///
/// Clones share one connection.
#[derive(Clone)]
pub struct RedisStore {
    connected: Connected,
    accepts: Arc<AcceptQueue>,
}

/// The connection and the settings every operation uses. The accept
/// batcher holds a clone of its own, not the store: the batcher ends when
/// the last store clone drops its queue.
#[derive(Clone)]
struct Connected {
    connection: ConnectionManager,
    shared: Arc<Shared>,
}

struct Shared {
    keys: Keys,
    group: String,
    consumer: String,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    wait: Option<WaitReplicas>,
    /// The SHA1 of each script, by [`Script::index`], once loaded.
    hashes: OnceLock<Vec<String>>,
}

#[derive(Debug, Clone, Copy)]
struct WaitReplicas {
    replicas: u32,
    timeout: Duration,
}

impl RedisStore {
    /// Connects to `url` (`redis://[user:password@]host[:port][/db]`) with
    /// the default settings, and creates the consumer group if needed.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the URL is invalid or Redis cannot
    /// be reached within the timeout.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        RedisOptions::new().open(url).await
    }

    /// Settings for [`RedisOptions::open`].
    pub fn options() -> RedisOptions {
        RedisOptions::new()
    }

    /// The prefix of every key: the `p` of `{p}:stream`.
    #[must_use]
    pub fn prefix(&self) -> &str {
        let entry = &self.connected.shared.keys.entry_prefix;
        entry
            .strip_prefix('{')
            .and_then(|rest| rest.split_once('}'))
            .map_or("", |(prefix, _)| prefix)
    }

    /// The consumer group's name.
    #[must_use]
    pub fn group(&self) -> &str {
        &self.connected.shared.group
    }

    /// This store's consumer name in the group.
    #[must_use]
    pub fn consumer(&self) -> &str {
        &self.connected.shared.consumer
    }

    /// The stream's key, e.g. for `XINFO` or `XPENDING` by an operator.
    #[must_use]
    pub fn stream_key(&self) -> &str {
        self.connected.shared.keys.stream()
    }

    /// The key `{p}:name` under this inbox's prefix: in the inbox's hash
    /// slot, as the keys of [`complete_with`](Self::complete_with)'s
    /// effects must be in a Redis Cluster.
    #[must_use]
    pub fn key(&self, name: &str) -> String {
        format!("{{{}}}:{name}", self.prefix())
    }

    /// Runs `effects` and marks `delivery`'s entry done in one script, if
    /// the delivery's lease still holds the entry: the handler's effects in
    /// this Redis happen exactly once. Redis applies a script whole or, if
    /// it dies first, not at all; an attempt whose lease ended runs none of
    /// them. The worker then does not mark the entry done itself.
    ///
    /// ```text
    /// store.complete_with(&delivery, &[redis::cmd("HINCRBY").arg(store.key("totals")).arg(kind).arg(1).clone()])
    /// ```
    ///
    /// The effects must be writes that cannot fail: Redis has no rollback,
    /// so a command that fails (a key of another type, a wrong argument)
    /// stops the script with the effects before it applied and the entry
    /// not done, and the next attempt runs them again. They run inside
    /// Redis's script engine, so keep them few and short (no blocking
    /// commands). In a Redis Cluster their keys must be in the inbox's slot:
    /// name them with [`key`](Self::key).
    ///
    /// # Errors
    /// [`StoreError::LostClaim`] when the lease ended and another attempt
    /// took the entry (nothing ran); [`StoreError::Unavailable`] when Redis
    /// is unreachable, or refused an effect (its error is the cause).
    pub async fn complete_with(
        &self,
        delivery: &Delivery,
        effects: &[Cmd],
    ) -> Result<(), StoreError> {
        let lease = delivery.lease();
        self.connected
            .complete_in_redis(lease.event_id(), lease.token(), effects)
            .await?;
        lease.mark_completed();
        Ok(())
    }
}

impl Connected {
    /// Runs one request under `limit`, mapping every failure to
    /// [`StoreError::Unavailable`].
    async fn bounded<T>(
        limit: Duration,
        request: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(limit, request).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(StoreError::unavailable(error)),
            Err(_) => Err(StoreError::unavailable(TimedOut(limit))),
        }
    }

    /// Runs one script under the store's time limit.
    async fn run<T: redis::FromRedisValue>(&self, command: Cmd) -> Result<T, StoreError> {
        let mut connection = self.connection.clone();
        Self::bounded(self.shared.timeout, command.query_async(&mut connection)).await
    }

    /// A call of `script` with the store's keys (and the hash of each entry
    /// in `entries`), the entry key prefix, the group and the time; add the
    /// operation's arguments.
    fn script(&self, script: Script, entries: &[&str], now: i64) -> ScriptCall {
        let keys = &self.shared.keys;
        let mut args = Cmd::new();
        args.arg(keys.fixed.len() + entries.len());
        for key in &keys.fixed {
            args.arg(key);
        }
        for id in entries {
            args.arg(keys.entry(id));
        }
        args.arg(&keys.entry_prefix)
            .arg(&self.shared.group)
            .arg(now);
        ScriptCall { script, args }
    }

    /// Runs one script by hash under the store's time limit: the scripts
    /// are loaded first if this store has not loaded them yet, and again
    /// (then the call sent once more) when Redis no longer knows them.
    async fn eval<T: redis::FromRedisValue>(&self, call: ScriptCall) -> Result<T, StoreError> {
        let mut connection = self.connection.clone();
        Self::bounded(self.shared.timeout, async {
            let command = call.evalsha(self.hash(&mut connection, call.script).await?);
            match command.query_async(&mut connection).await {
                Err(error) if no_script(&error) => {
                    self.load_scripts(&mut connection).await?;
                    command.query_async(&mut connection).await
                }
                other => other,
            }
        })
        .await
    }

    /// The SHA1 of `script`, loading every script if not known yet.
    async fn hash(&self, connection: &mut ConnectionManager, script: Script) -> RedisResult<&str> {
        let hashes = match self.shared.hashes.get() {
            Some(hashes) => hashes,
            None => self.load_scripts(connection).await?,
        };
        hashes
            .get(script.index())
            .map(String::as_str)
            .ok_or_else(|| RedisError::from((ErrorKind::Client, "a script hash is missing")))
    }

    /// Loads every script (`SCRIPT LOAD`, one pipeline) and keeps their
    /// hashes: the SHA1 of the text, the same on every server.
    async fn load_scripts(&self, connection: &mut ConnectionManager) -> RedisResult<&[String]> {
        let mut pipeline = redis::pipe();
        for script in Script::ALL {
            pipeline.cmd("SCRIPT").arg("LOAD").arg(script.text());
        }
        let hashes: Vec<String> = pipeline.query_async(connection).await?;
        if hashes.len() != Script::ALL.len() {
            return Err(RedisError::from((
                ErrorKind::UnexpectedReturnType,
                "SCRIPT LOAD answered the wrong number of hashes",
            )));
        }
        Ok(self.shared.hashes.get_or_init(|| hashes))
    }

    fn now(&self) -> i64 {
        to_millis(self.shared.clock.now())
    }

    /// Stores `entries` with one script call: each is stored, or known
    /// already (an id twice in one batch is stored once), in their order.
    async fn accept_batch(&self, entries: &[NewEntry]) -> Result<Vec<Accepted>, StoreError> {
        let ids: Vec<&str> = entries.iter().map(|entry| entry.id.as_str()).collect();
        let mut command = self.script(Script::Accept, &ids, self.now());
        for entry in entries {
            command
                .arg(&entry.id)
                .arg(&entry.event_type)
                .arg(&entry.body[..]);
        }
        let stored: Vec<i64> = match self.shared.wait {
            None => self.eval(command).await?,
            Some(wait) => self.accept_replicated(&command, wait).await?,
        };
        if stored.len() != entries.len() {
            return Err(StoreError::unavailable(UnexpectedReply("accept")));
        }
        entries
            .iter()
            .zip(stored)
            .map(|(entry, stored)| {
                let event_id = entry.id.clone();
                match stored {
                    1 => Ok(Accepted::Stored { event_id }),
                    0 => Ok(Accepted::AlreadyStored { event_id }),
                    _ => Err(StoreError::unavailable(UnexpectedReply("accept"))),
                }
            })
            .collect()
    }

    /// The longest an accept may take: the time limit, and the wait for
    /// replicas on top of it when there is one.
    fn accept_limit(&self) -> Duration {
        match self.shared.wait {
            Some(wait) => self.shared.timeout.saturating_add(wait.timeout),
            None => self.shared.timeout,
        }
    }

    /// Sends the accepts and `WAIT` in one pipeline, so both go on the same
    /// connection and `WAIT` counts the replicas that have these writes.
    async fn accept_replicated(
        &self,
        accept: &ScriptCall,
        wait: WaitReplicas,
    ) -> Result<Vec<i64>, StoreError> {
        let mut connection = self.connection.clone();
        let (stored, acknowledged): (Vec<i64>, i64) = Self::bounded(self.accept_limit(), async {
            let mut pipeline = redis::pipe();
            pipeline
                .add_command(accept.evalsha(self.hash(&mut connection, accept.script).await?))
                .cmd("WAIT")
                .arg(wait.replicas)
                .arg(duration_millis(wait.timeout).max(1));
            match pipeline.query_async(&mut connection).await {
                Err(error) if no_script(&error) => {
                    self.load_scripts(&mut connection).await?;
                    pipeline.query_async(&mut connection).await
                }
                other => other,
            }
        })
        .await?;
        if acknowledged < i64::from(wait.replicas) {
            return Err(StoreError::unavailable(NotReplicated {
                wanted: wait.replicas,
                acknowledged,
            }));
        }
        Ok(stored)
    }

    async fn take_in_redis(
        &self,
        lease: Duration,
        limit: usize,
        max_attempts: u32,
    ) -> Result<Vec<Taken>, StoreError> {
        let limit = limit.min(MAX_TAKE);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let token = ClaimToken::random()?;
        let now = self.now();
        let mut command = self.script(Script::Take, &[], now);
        command
            .arg(&self.shared.consumer)
            .arg(now.saturating_add(duration_millis(lease)))
            .arg(limit)
            .arg(max_attempts)
            .arg(token.to_hex())
            .arg(crate::LEASE_EXPIRED_ON_LAST_ATTEMPT)
            .arg(BATCH);
        let reply: Vec<Value> = self.eval(command).await?;
        let mut taken = Vec::with_capacity(reply.len());
        for value in reply {
            match redis::from_redis_value::<(String, String, Vec<u8>, i64, i64)>(value) {
                Ok((id, event_type, body, attempt, received_at)) => {
                    taken.push(Taken::new(
                        id,
                        event_type,
                        body,
                        u32::try_from(attempt).unwrap_or(u32::MAX),
                        token.clone(),
                        from_millis(received_at),
                    ));
                }
                // Not written by this store: the entry is left to its lease,
                // and ends dead after its last one.
                Err(error) => tracing::warn!(
                    %error,
                    "inbox: a taken Redis entry is malformed; it is left to its lease"
                ),
            }
        }
        Ok(taken)
    }

    /// Runs a script that answers 1 when the token held the lease.
    async fn held(&self, command: ScriptCall) -> Result<bool, StoreError> {
        match self.eval::<i64>(command).await? {
            1 => Ok(true),
            0 => Ok(false),
            _ => Err(StoreError::unavailable(UnexpectedReply("lease check"))),
        }
    }

    /// Marks the entry done, first running `effects` in the same script.
    async fn complete_in_redis(
        &self,
        id: &str,
        token: &ClaimToken,
        effects: &[Cmd],
    ) -> Result<(), StoreError> {
        let mut command = self.script(Script::Complete, &[id], self.now());
        command.arg(id).arg(token.to_hex()).arg(effects.len());
        for effect in effects {
            let args: Vec<&[u8]> = plain_args(effect).collect();
            command.arg(args.len()).arg(args);
        }
        lost_unless(self.held(command).await?)
    }

    async fn fail_in_redis(
        &self,
        id: &str,
        token: &ClaimToken,
        error: &str,
        after: AfterFailure,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let due = match after {
            AfterFailure::RetryAfter(delay) => {
                now.saturating_add(duration_millis(delay)).to_string()
            }
            AfterFailure::Dead => String::new(),
        };
        let mut command = self.script(Script::Fail, &[id], now);
        command.arg(id).arg(token.to_hex()).arg(error).arg(due);
        lost_unless(self.held(command).await?)
    }

    async fn release_in_redis(
        &self,
        id: &str,
        token: &ClaimToken,
        delay: Duration,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut command = self.script(Script::Release, &[id], now);
        command
            .arg(id)
            .arg(token.to_hex())
            .arg(now.saturating_add(duration_millis(delay)));
        // A token that no longer holds the lease hands nothing back.
        self.held(command).await.map(drop)
    }

    async fn stats_in_redis(&self) -> Result<Stats, StoreError> {
        let command = self.script(Script::Stats, &[], self.now());
        let counts: [u64; 4] = self.eval(command).await?;
        let mut stats = Stats::default();
        for (state, count) in State::ALL.into_iter().zip(counts) {
            stats.add(state, count);
        }
        Ok(stats)
    }

    async fn list_in_redis(
        &self,
        state: Option<State>,
        limit: usize,
    ) -> Result<Vec<EntrySummary>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let stop = if limit >= LIST_ALL {
            -1
        } else {
            i64::try_from(limit).unwrap_or(i64::MAX) - 1
        };
        let mut command = self.script(Script::List, &[], self.now());
        command.arg(state.map_or("", State::as_str)).arg(stop);
        let reply: Vec<SummaryRow> = self.eval(command).await?;
        reply.into_iter().map(SummaryRow::into_summary).collect()
    }

    async fn show_in_redis(&self, id: &str) -> Result<Option<Entry>, StoreError> {
        let mut command = redis::cmd("HMGET");
        command.arg(self.shared.keys.entry(id)).arg(&[
            "event_type",
            "state",
            "attempts",
            "last_error",
            "received_at",
            "updated_at",
            "due_at",
            "body",
        ]);
        let row: ShowRow = self.run(command).await?;
        let (event_type, state, attempts, last_error, received, updated, due, body) = row;
        if state.is_none() {
            return Ok(None);
        }
        let (Some(event_type), Some(state), Some(received), Some(body)) =
            (event_type, state, received, body)
        else {
            return Err(StoreError::unavailable(UnexpectedReply(
                "an entry's hash lacks a field",
            )));
        };
        let summary = SummaryRow(
            id.to_owned(),
            event_type,
            state,
            attempts,
            last_error,
            received,
            updated,
            due,
        )
        .into_summary()?;
        Ok(Some(Entry::new(summary, body)))
    }

    async fn retry_in_redis(&self, id: &str) -> Result<bool, StoreError> {
        let mut command = self.script(Script::Retry, &[id], self.now());
        command.arg(id);
        Ok(self.eval::<i64>(command).await? == 1)
    }

    async fn retry_all_in_redis(&self) -> Result<u64, StoreError> {
        let mut total = 0u64;
        loop {
            let mut command = self.script(Script::RetryDead, &[], self.now());
            command.arg(BATCH);
            let revived: u64 = self.eval(command).await?;
            total = total.saturating_add(revived);
            if revived < BATCH as u64 {
                return Ok(total);
            }
        }
    }

    async fn purge_in_redis(&self, state: State, older_than: Duration) -> Result<u64, StoreError> {
        let mut total = 0u64;
        loop {
            let now = self.now();
            let cutoff = now.saturating_sub(duration_millis(older_than));
            let mut command = self.script(Script::Purge, &[], now);
            command.arg(state.as_str()).arg(cutoff).arg(BATCH);
            let (looked_at, removed): (u64, u64) = self.eval(command).await?;
            total = total.saturating_add(removed);
            if looked_at < BATCH as u64 {
                return Ok(total);
            }
        }
    }
}

/// A script call's arguments from the number of keys on, and the script.
struct ScriptCall {
    script: Script,
    args: Cmd,
}

impl ScriptCall {
    fn arg(&mut self, arg: impl ToRedisArgs) -> &mut Self {
        self.args.arg(arg);
        self
    }

    /// `EVALSHA <hash>` and the arguments.
    fn evalsha(&self, hash: &str) -> Cmd {
        let mut command = redis::cmd("EVALSHA");
        command.arg(hash);
        for arg in plain_args(&self.args) {
            command.arg(arg);
        }
        command
    }
}

/// A command's arguments as bytes, to be sent inside another command. A
/// cursor argument, which only `SCAN` iteration fills in, has none.
fn plain_args(command: &Cmd) -> impl Iterator<Item = &[u8]> {
    command.args_iter().filter_map(|arg| match arg {
        redis::Arg::Simple(bytes) => Some(bytes),
        _ => None,
    })
}

/// Whether Redis answered that it does not know a script's hash.
fn no_script(error: &RedisError) -> bool {
    error.kind() == ErrorKind::Server(ServerErrorKind::NoScript)
}

fn lost_unless(held: bool) -> Result<(), StoreError> {
    if held {
        Ok(())
    } else {
        Err(StoreError::LostClaim)
    }
}

/// An entry's fields as `HMGET` answers them for `show`.
type ShowRow = (
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<Vec<u8>>,
);

/// An entry as the list script answers it. The fields an accept leaves
/// out (see the accept script) are `None` until they first change.
#[derive(Debug)]
struct SummaryRow(
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
);

impl redis::FromRedisValue for SummaryRow {
    fn from_redis_value(value: Value) -> Result<Self, redis::ParsingError> {
        let (id, event_type, state, attempts, last_error, received, updated, due) =
            redis::from_redis_value(value)?;
        Ok(Self(
            id, event_type, state, attempts, last_error, received, updated, due,
        ))
    }
}

impl SummaryRow {
    /// A state name or count this version does not know is an error, not a
    /// panic. A field not written yet has its value at accept: no attempts,
    /// updated and due when received.
    fn into_summary(self) -> Result<EntrySummary, StoreError> {
        let Self(id, event_type, state, attempts, last_error, received, updated, due) = self;
        let state: State = state.parse().map_err(StoreError::unavailable)?;
        let attempts = u32::try_from(attempts.unwrap_or(0))
            .map_err(|_| StoreError::unavailable(UnexpectedReply("an attempt count")))?;
        Ok(EntrySummary::new(
            id,
            event_type,
            state,
            attempts,
            last_error,
            from_millis(received),
            from_millis(updated.unwrap_or(received)),
            from_millis(due.unwrap_or(received)),
        ))
    }
}

/// Shows the keys' prefix, group, consumer and time limit only: the
/// connection's own `Debug` can include the URL's password.
impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix())
            .field("group", &self.connected.shared.group)
            .field("consumer", &self.connected.shared.consumer)
            .field("timeout", &self.connected.shared.timeout)
            .finish_non_exhaustive()
    }
}

/// How to open a [`RedisStore`].
///
/// ```no_run
/// # async fn open() -> Result<(), protocol_webhooks_inbox::StoreError> {
/// use std::time::Duration;
/// use protocol_webhooks_inbox::{Inbox, RedisStore};
///
/// let store = RedisStore::options()
///     .prefix("billing-webhooks")
///     .consumer("billing-7f9c") // e.g. the pod's name
///     .timeout(Duration::from_secs(2))
///     .open("redis://127.0.0.1:6379")
///     .await?;
/// let inbox = Inbox::new(store);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct RedisOptions {
    prefix: String,
    group: String,
    consumer: Option<String>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    wait: Option<WaitReplicas>,
}

impl RedisOptions {
    /// The defaults: [`DEFAULT_REDIS_PREFIX`], [`DEFAULT_REDIS_GROUP`], a
    /// random consumer name, the system clock, [`DEFAULT_REDIS_TIMEOUT`],
    /// no waiting for replicas.
    pub fn new() -> Self {
        Self {
            prefix: String::from(DEFAULT_REDIS_PREFIX),
            group: String::from(DEFAULT_REDIS_GROUP),
            consumer: None,
            clock: Arc::new(SystemClock),
            timeout: DEFAULT_REDIS_TIMEOUT,
            wait: None,
        }
    }

    /// The prefix of every key, e.g. to keep several inboxes on one Redis.
    /// Every receiver and worker of one inbox must use the same. Non-empty,
    /// without `{` or `}` (it becomes the keys' hash tag).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The consumer group's name.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = group.into();
        self
    }

    /// This store's consumer name in the group, e.g. the host or pod name;
    /// by default a random name per opened store. It names who holds a
    /// message in `XPENDING`; the leases themselves are checked by token.
    /// Redis keeps every consumer name the group has seen until it is
    /// removed (`XGROUP DELCONSUMER`): stable names keep that list short.
    pub fn consumer(mut self, consumer: impl Into<String>) -> Self {
        self.consumer = Some(consumer.into());
        self
    }

    /// Reads the time from `clock`, e.g. a [`ManualClock`](crate::ManualClock)
    /// in tests.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The longest an operation may take, connecting included, before it
    /// fails with [`StoreError::Unavailable`] (at least 1 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Makes each accept wait until `replicas` Redis replicas acknowledged
    /// it (`WAIT`), for at most `timeout` (at least 1 ms) on top of the
    /// operation's time limit; with fewer, the accept fails with
    /// [`StoreError::Unavailable`] (a 503).
    ///
    /// The write is on the primary then, and a redelivery is answered
    /// `AlreadyStored` once enough replicas have it (each accept waits,
    /// a repeated one too). `WAIT` narrows the loss on a failover, it does
    /// not remove it: Redis replication is asynchronous, and a replica
    /// promoted before it received a write lacks it.
    pub fn wait_replicas(mut self, replicas: u32, timeout: Duration) -> Self {
        self.wait = (replicas > 0).then_some(WaitReplicas {
            replicas,
            timeout: timeout.max(Duration::from_millis(1)),
        });
        self
    }

    /// Connects to `url` and creates the consumer group if needed.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the prefix is invalid, the URL is
    /// invalid, or Redis cannot be reached within the timeout.
    pub async fn open(self, url: &str) -> Result<RedisStore, StoreError> {
        let (client, config) = self.client(url)?;
        let connection = Connected::bounded(
            self.timeout,
            ConnectionManager::new_with_config(client, config),
        )
        .await?;
        let store = self.build(connection)?;
        store.connected.create_group().await?;
        Ok(store)
    }

    /// Like [`open`](Self::open) but without waiting for Redis: the
    /// connection is made on first use, so a receiver can start while Redis
    /// is down (and answer 503 until it is up).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the prefix or URL is invalid, or
    /// when called outside a Tokio runtime.
    pub fn open_lazy(self, url: &str) -> Result<RedisStore, StoreError> {
        let (client, config) = self.client(url)?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StoreError::unavailable(
                "RedisStore::open_lazy needs a Tokio runtime",
            ));
        }
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(StoreError::unavailable)?;
        self.build(connection)
    }

    fn client(&self, url: &str) -> Result<(Client, ConnectionManagerConfig), StoreError> {
        check_prefix(&self.prefix).map_err(StoreError::unavailable)?;
        let client = Client::open(url).map_err(StoreError::unavailable)?;
        let response = match self.wait {
            Some(wait) => self.timeout.saturating_add(wait.timeout),
            None => self.timeout,
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout.min(Duration::from_secs(1))))
            .set_response_timeout(Some(response))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(Duration::from_secs(1));
        Ok((client, config))
    }

    fn build(self, connection: ConnectionManager) -> Result<RedisStore, StoreError> {
        let consumer = match self.consumer {
            Some(consumer) => consumer,
            None => {
                let hex = ClaimToken::random()?.to_hex();
                format!(
                    "consumer-{}-{}",
                    std::process::id(),
                    &hex[..12.min(hex.len())]
                )
            }
        };
        let connected = Connected {
            connection,
            shared: Arc::new(Shared {
                keys: Keys::new(&self.prefix),
                group: self.group,
                consumer,
                clock: self.clock,
                timeout: self.timeout,
                wait: self.wait,
                hashes: OnceLock::new(),
            }),
        };
        Ok(RedisStore {
            connected,
            accepts: Arc::new(AcceptQueue::new()),
        })
    }
}

impl Connected {
    /// `XGROUP CREATE ... MKSTREAM` from the stream's start; an existing
    /// group is kept. Takes create it too, should the stream be lost.
    async fn create_group(&self) -> Result<(), StoreError> {
        let mut command = redis::cmd("XGROUP");
        command
            .arg("CREATE")
            .arg(self.shared.keys.stream())
            .arg(&self.shared.group)
            .arg("0")
            .arg("MKSTREAM");
        let mut connection = self.connection.clone();
        match Self::bounded(
            self.shared.timeout,
            command.query_async::<Value>(&mut connection),
        )
        .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::Unavailable(Some(cause)))
                if cause
                    .downcast_ref::<RedisError>()
                    .and_then(RedisError::code)
                    == Some("BUSYGROUP") =>
            {
                Ok(())
            }
            Err(error) => Err(error),
        }
    }
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RedisOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisOptions")
            .field("prefix", &self.prefix)
            .field("group", &self.group)
            .field("consumer", &self.consumer)
            .field("timeout", &self.timeout)
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl InboxStore for RedisStore {
    fn accept(&self, entry: NewEntry) -> StoreFuture<'_, Accepted> {
        Box::pin(self.accepts.accept(&self.connected, entry))
    }

    fn take(
        &self,
        lease: Duration,
        limit: usize,
        max_attempts: u32,
    ) -> StoreFuture<'_, Vec<Taken>> {
        Box::pin(self.connected.take_in_redis(lease, limit, max_attempts))
    }

    fn complete<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(self.connected.complete_in_redis(id, token, &[]))
    }

    fn fail<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
        error: &'a str,
        after: AfterFailure,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.connected.fail_in_redis(id, token, error, after))
    }

    fn release<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
        delay: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.connected.release_in_redis(id, token, delay))
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        Box::pin(self.connected.stats_in_redis())
    }

    fn list(&self, state: Option<State>, limit: usize) -> StoreFuture<'_, Vec<EntrySummary>> {
        Box::pin(self.connected.list_in_redis(state, limit))
    }

    fn show<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Entry>> {
        Box::pin(self.connected.show_in_redis(id))
    }

    fn retry<'a>(&'a self, id: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(self.connected.retry_in_redis(id))
    }

    fn retry_all_dead(&self) -> StoreFuture<'_, u64> {
        Box::pin(self.connected.retry_all_in_redis())
    }

    fn purge_dead(&self, older_than: Duration) -> StoreFuture<'_, u64> {
        Box::pin(self.connected.purge_in_redis(State::Dead, older_than))
    }

    fn purge_done(&self, older_than: Duration) -> StoreFuture<'_, u64> {
        Box::pin(self.connected.purge_in_redis(State::Done, older_than))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn debug_hides_the_url_and_bad_settings_are_errors() {
        let store = RedisStore::options()
            .prefix("billing")
            .group("g")
            .consumer("c")
            .timeout(Duration::from_millis(300))
            .open_lazy("redis://:hunter2@127.0.0.1:1/0")
            .expect("a valid url");
        assert_eq!(store.prefix(), "billing");
        assert_eq!(store.stream_key(), "{billing}:stream");
        assert_eq!(
            format!("{store:?}"),
            r#"RedisStore { prefix: "billing", group: "g", consumer: "c", timeout: 300ms, .. }"#
        );
        assert!(
            RedisStore::options()
                .open_lazy("http://example.com")
                .is_err()
        );
        let bad_prefix = RedisStore::options()
            .prefix("a{b}")
            .open_lazy("redis://127.0.0.1:1");
        assert!(matches!(bad_prefix, Err(StoreError::Unavailable(Some(_)))));
    }

    #[test]
    fn open_lazy_outside_a_runtime_is_an_error_not_a_panic() {
        let outcome = RedisStore::options().open_lazy("redis://127.0.0.1:1");
        assert!(matches!(outcome, Err(StoreError::Unavailable(Some(_)))));
    }

    #[tokio::test]
    async fn a_random_consumer_name_per_store() {
        let first = RedisStore::options()
            .open_lazy("redis://127.0.0.1:1")
            .expect("lazy");
        let second = RedisStore::options()
            .open_lazy("redis://127.0.0.1:1")
            .expect("lazy");
        assert!(first.consumer().starts_with("consumer-"));
        assert_ne!(first.consumer(), second.consumer());
        assert_eq!(first.prefix(), DEFAULT_REDIS_PREFIX);
        assert_eq!(first.group(), DEFAULT_REDIS_GROUP);
    }
}
