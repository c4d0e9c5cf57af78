//! A durable inbox store in one SQLite file.

mod error;
mod ops;
mod schema;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::Duration;

use protocol_webhooks::dedup::{ClaimToken, StoreError, StoreFuture};
use rusqlite::{Connection, Transaction};
use tokio::sync::oneshot;

use self::error::WriterStopped;
use self::ops::OpError;
use self::writer::{IfCallerGone, Job, Op};
use super::InboxStore;
use crate::clock::to_millis;
use crate::{
    Accepted, AfterFailure, Clock, Delivery, Entry, EntrySummary, NewEntry, State, Stats,
    SystemClock, Taken,
};

/// How long a write waits for another process holding the file's write
/// lock: 5 seconds.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The most operations committed together in one transaction, by default.
pub const MAX_GROUP: usize = 512;

/// A durable inbox in one SQLite file (feature `sqlite`).
///
/// - The file is the whole state: kill the process, open the file again,
///   and every event whose `accept` returned is there.
/// - WAL journal with `synchronous=FULL`: a commit that returned is on
///   disk, surviving a crash or a power loss of the machine (with
///   `NORMAL`, WAL may lose the last commits on power loss).
/// - Every SQLite call runs on one dedicated thread, never on the async
///   runtime. Operations arriving while a commit is being written are
///   committed together (group commit), so many concurrent requests share
///   one fsync; each caller is answered after the commit holding its
///   write returned.
/// - Several processes may open the same file (e.g. a receiver and a
///   separate worker): SQLite's file lock serialises their writes, waiting
///   up to the busy timeout. Use a local disk: SQLite's locking is not
///   reliable on network file systems.
///
/// Clones share one writer thread, which ends when the last clone is
/// dropped, after finishing the operations already queued. An operation is
/// queued when it is called, so it completes even if its future is dropped;
/// except an accept, which the writer leaves out when its caller has gone
/// before its transaction: it was answered nothing, so nothing is stored.
///
/// Handler effects kept in the same file can be exactly once:
/// [`connection`](Self::connection) and [`complete_in`](Self::complete_in)
/// write them and the entry's done in one transaction.
#[derive(Clone)]
pub struct SqliteStore {
    jobs: Sender<Box<dyn Job>>,
    path: Arc<PathBuf>,
    clock: Arc<dyn Clock>,
    busy_timeout: Duration,
}

impl SqliteStore {
    /// Opens the inbox file at `path`, creating it (and its table) if
    /// needed, with the default settings. Blocks while the file opens: call
    /// it at start-up.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the file cannot be opened or
    /// created, is not an inbox database, or cannot use WAL mode.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        SqliteOptions::new().open(path)
    }

    /// Settings for [`SqliteOptions::open`].
    pub fn options() -> SqliteOptions {
        SqliteOptions::new()
    }

    /// The file the store was opened on.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new connection to the store's file, with the writer's settings:
    /// WAL, `synchronous=FULL` (a commit that returned is on disk), and the
    /// store's busy timeout. Blocks while the file opens: call it off the
    /// async runtime (e.g. in `spawn_blocking`), like every use of the
    /// connection.
    ///
    /// Your own tables (the handler's effects) may live in this file, next
    /// to the inbox's `inbox_entries`, which is the inbox's alone: write
    /// it only through [`complete_in`](Self::complete_in). Open every
    /// transaction that writes with `BEGIN IMMEDIATE`
    /// ([`TransactionBehavior::Immediate`](rusqlite::TransactionBehavior::Immediate)):
    /// it waits up to the busy timeout for the file's write lock, where a
    /// deferred transaction that read first fails with `SQLITE_BUSY` when
    /// it tries to write after another connection's commit. Keep these
    /// transactions short: the inbox's own writes (accepts, takes) wait
    /// while one is open, and answer [`StoreError::Unavailable`] after the
    /// busy timeout. Never await this store while holding one: its writer
    /// would wait for your transaction, which waits for it.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the file cannot be opened or cannot
    /// use WAL mode.
    pub fn connection(&self) -> Result<Connection, StoreError> {
        schema::connect(&self.path, self.busy_timeout)
    }

    /// Marks `delivery`'s entry done inside `tx`, your transaction on a
    /// [`connection`](Self::connection) to this store's file, if the
    /// delivery's lease still holds the entry. The entry is done exactly
    /// when `tx` commits, together with the effects written in it: a crash
    /// before the commit leaves neither, and the entry is handled again
    /// after its lease; a commit leaves both, and the entry is never taken
    /// again. That makes the effects exactly once.
    ///
    /// Call it once per transaction, last before the commit, and commit
    /// before the handler returns. The worker then does not mark the entry
    /// done itself (it would find it done already). If the transaction
    /// rolls back and the handler still returns `Ok`, nothing marks the
    /// entry done: it stays in flight and is taken again once its lease
    /// ends, so the entry is never done without its effects.
    ///
    /// ```text
    /// BEGIN IMMEDIATE
    ///   INSERT ... your effects
    ///   store.complete_in(&tx, &delivery)?   -- LostClaim: roll back
    /// COMMIT                                 -- effects and done, or neither
    /// ```
    ///
    /// # Errors
    /// [`StoreError::LostClaim`] when the lease ended and another attempt
    /// took the entry (or it is not in flight any more): that attempt owns
    /// the event, so roll `tx` back, and its effects with it.
    /// [`StoreError::Unavailable`] when SQLite refused (e.g. `tx` is not on
    /// an inbox file): roll back too.
    pub fn complete_in(&self, tx: &Transaction<'_>, delivery: &Delivery) -> Result<(), StoreError> {
        let lease = delivery.lease();
        let now = to_millis(self.clock.now());
        ops::complete(tx, now, lease.event_id(), lease.token())?;
        lease.mark_completed();
        Ok(())
    }

    /// Queues `op` for the writer thread; its answer comes after the commit.
    fn call<T, F>(&self, op: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, i64) -> Result<T, OpError> + Send + 'static,
    {
        self.queue(op, IfCallerGone::Run)
    }

    /// As [`call`](Self::call), saying what becomes of `op` when its
    /// caller stops waiting before the writer reaches it.
    fn queue<T, F>(&self, op: F, if_caller_gone: IfCallerGone) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, i64) -> Result<T, OpError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let sent = self.jobs.send(Box::new(Op {
            op,
            reply,
            if_caller_gone,
        }));
        Box::pin(async move {
            sent.map_err(|_| StoreError::unavailable(WriterStopped))?;
            answer
                .await
                .map_err(|_| StoreError::unavailable(WriterStopped))?
        })
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// How to open a [`SqliteStore`].
#[derive(Clone)]
#[must_use]
pub struct SqliteOptions {
    clock: Arc<dyn Clock>,
    busy_timeout: Duration,
    max_group: usize,
}

impl SqliteOptions {
    /// The defaults: the system clock, [`DEFAULT_BUSY_TIMEOUT`], groups of
    /// up to [`MAX_GROUP`].
    pub fn new() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            max_group: MAX_GROUP,
        }
    }

    /// Reads the time from `clock`, e.g. a [`ManualClock`](crate::ManualClock)
    /// in tests.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long a write waits for another process's write lock.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// The most operations per transaction (at least 1; 1 turns group
    /// commit off: one fsync per operation).
    pub fn max_group(mut self, max_group: usize) -> Self {
        self.max_group = max_group.max(1);
        self
    }

    /// Opens the inbox file at `path`, creating it if needed.
    ///
    /// # Errors
    /// As [`SqliteStore::open`].
    pub fn open(self, path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let conn = schema::open(&path, self.busy_timeout)?;
        let jobs = writer::spawn(conn, Arc::clone(&self.clock), self.max_group)
            .map_err(StoreError::unavailable)?;
        Ok(SqliteStore {
            jobs,
            path: Arc::new(path),
            clock: self.clock,
            busy_timeout: self.busy_timeout,
        })
    }
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SqliteOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteOptions")
            .field("busy_timeout", &self.busy_timeout)
            .field("max_group", &self.max_group)
            .finish_non_exhaustive()
    }
}

impl InboxStore for SqliteStore {
    fn accept(&self, entry: NewEntry) -> StoreFuture<'_, Accepted> {
        self.queue(
            move |conn, now| ops::accept(conn, now, &entry),
            IfCallerGone::Skip,
        )
    }

    fn take(
        &self,
        lease: Duration,
        limit: usize,
        max_attempts: u32,
    ) -> StoreFuture<'_, Vec<Taken>> {
        let token = match ClaimToken::random() {
            Ok(token) => token,
            Err(error) => return Box::pin(std::future::ready(Err(error))),
        };
        self.call(move |conn, now| ops::take(conn, now, &token, lease, limit, max_attempts))
    }

    fn complete<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        let (id, token) = (id.to_owned(), token.clone());
        self.call(move |conn, now| ops::complete(conn, now, &id, &token))
    }

    fn fail<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
        error: &'a str,
        after: AfterFailure,
    ) -> StoreFuture<'a, ()> {
        let (id, token, error) = (id.to_owned(), token.clone(), error.to_owned());
        self.call(move |conn, now| ops::fail(conn, now, &id, &token, &error, after))
    }

    fn release<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
        delay: Duration,
    ) -> StoreFuture<'a, ()> {
        let (id, token) = (id.to_owned(), token.clone());
        self.call(move |conn, now| ops::release(conn, now, &id, &token, delay))
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        self.call(|conn, _| ops::stats(conn))
    }

    fn list(&self, state: Option<State>, limit: usize) -> StoreFuture<'_, Vec<EntrySummary>> {
        self.call(move |conn, _| ops::list(conn, state, limit))
    }

    fn show<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Entry>> {
        let id = id.to_owned();
        self.call(move |conn, _| ops::show(conn, &id))
    }

    fn retry<'a>(&'a self, id: &'a str) -> StoreFuture<'a, bool> {
        let id = id.to_owned();
        self.call(move |conn, now| Ok(ops::retry(conn, now, Some(&id))? > 0))
    }

    fn retry_all_dead(&self) -> StoreFuture<'_, u64> {
        self.call(|conn, now| ops::retry(conn, now, None))
    }

    fn purge_dead(&self, older_than: Duration) -> StoreFuture<'_, u64> {
        self.call(move |conn, now| ops::purge(conn, now, State::Dead, older_than))
    }

    fn purge_done(&self, older_than: Duration) -> StoreFuture<'_, u64> {
        self.call(move |conn, now| ops::purge(conn, now, State::Done, older_than))
    }
}
