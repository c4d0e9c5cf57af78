//! The storage contract behind an inbox, and its implementations.

mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::time::{Duration, SystemTime};

#[cfg(doc)]
use protocol_webhooks::dedup::StoreError;
use protocol_webhooks::dedup::{ClaimToken, StoreFuture};

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{
    DEFAULT_REDIS_GROUP, DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_TIMEOUT, RedisOptions, RedisStore,
};
#[cfg(feature = "sqlite")]
pub use sqlite::{DEFAULT_BUSY_TIMEOUT, MAX_GROUP, SqliteOptions, SqliteStore};

use crate::{Accepted, AfterFailure, Entry, EntrySummary, NewEntry, State, Stats, Taken};

/// Where an inbox keeps its entries.
///
/// Every operation is atomic, across every process sharing the store, and
/// a write has reached the store's durable commit before its future
/// returns `Ok`. An entry is *due* when it is `Pending` and its due time
/// has come, or `InFlight` and its lease has ended.
///
/// | operation | the entry is… | effect | answer |
/// |---|---|---|---|
/// | `accept` | unknown | stored `Pending`, due now, 0 attempts | `Stored` |
/// | `accept` | present, any state | none | `AlreadyStored` |
/// | `take(lease, n, max)` | due, attempts < max | `InFlight`, new token, lease until now + `lease`, attempts + 1 | in the list (oldest due first, at most `n`) |
/// | `take` | `InFlight`, lease ended, attempts ≥ max | `Dead`, error "lease expired on the last attempt" | not in the list |
/// | `complete` / `fail` / `release` | `InFlight` with this token | `Done` / `Pending` due later or `Dead`, error kept / `Pending` due after `delay`, attempts − 1 | `Ok` |
/// | `complete` / `fail` / `release` | anything else (another token, not `InFlight`, unknown) | none | `Err(LostClaim)` (release: `Ok`) |
/// | `retry` | `Dead` | `Pending`, due now, attempts 0, last error kept | `true` |
/// | `purge_dead(age)` | `Dead`, unchanged for at least `age` | removed | counted |
///
/// A holder whose lease ended still completes while nobody took the entry
/// since: the token is what proves the lease, not the clock.
///
/// `protocol_webhooks_inbox::store_suite::run` (feature `store-suite`)
/// checks an implementation against this table.
pub trait InboxStore: Send + Sync {
    /// Stores `entry` unless an entry with its id exists. An accept whose
    /// future is dropped while it waits its turn (a queue, a batch) stores
    /// nothing: its caller answers no 2xx.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be written (then
    /// nothing is stored, unless the time limit passed after the write was
    /// sent to a network store: it may land, and a redelivery is then
    /// `AlreadyStored`), [`StoreError::Full`] when it has no room.
    fn accept(&self, entry: NewEntry) -> StoreFuture<'_, Accepted>;

    /// Takes up to `limit` due entries under a new lease of `lease`, and
    /// marks dead the in-flight entries whose lease ended on their
    /// `max_attempts`-th attempt.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`]; nothing is taken then.
    fn take(&self, lease: Duration, limit: usize, max_attempts: u32)
    -> StoreFuture<'_, Vec<Taken>>;

    /// Marks the entry done, if `token` holds its lease.
    ///
    /// # Errors
    /// [`StoreError::LostClaim`] when it does not (nothing changes), or
    /// [`StoreError::Unavailable`].
    fn complete<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> StoreFuture<'a, ()>;

    /// Records a failed attempt with its error text, if `token` holds the
    /// lease: pending again, due after `after`'s delay, or dead.
    ///
    /// # Errors
    /// As [`complete`](Self::complete).
    fn fail<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
        error: &'a str,
        after: AfterFailure,
    ) -> StoreFuture<'a, ()>;

    /// Hands the entry back, if `token` holds its lease: pending, due after
    /// `delay`, the attempt not counted (it was interrupted, not failed).
    /// Does nothing otherwise.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`]; the entry then waits for its lease to end.
    fn release<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
        delay: Duration,
    ) -> StoreFuture<'a, ()>;

    /// How many entries are in each state.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    fn stats(&self) -> StoreFuture<'_, Stats>;

    /// Up to `limit` entries, in `state` or any, oldest stored first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    fn list(&self, state: Option<State>, limit: usize) -> StoreFuture<'_, Vec<EntrySummary>>;

    /// One entry with its body, if present.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    fn show<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Entry>>;

    /// Makes a dead entry pending again, due now with a fresh set of
    /// attempts; `false` when the entry is not dead (or unknown).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    fn retry<'a>(&'a self, id: &'a str) -> StoreFuture<'a, bool>;

    /// [`retry`](Self::retry) for every dead entry; how many there were.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    fn retry_all_dead(&self) -> StoreFuture<'_, u64>;

    /// Removes dead entries unchanged for at least `older_than`; how many.
    /// Their ids are then unknown: a new delivery would be stored again.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    fn purge_dead(&self, older_than: Duration) -> StoreFuture<'_, u64>;

    /// Removes done entries unchanged for at least `older_than`; how many.
    /// Keep done entries longer than senders may redeliver: a purged id is
    /// stored and handled again if it arrives again.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    fn purge_done(&self, older_than: Duration) -> StoreFuture<'_, u64>;
}

/// The time a delay from `now` ends, saturating at `now` on overflow.
pub(crate) fn after(now: SystemTime, delay: Duration) -> SystemTime {
    now.checked_add(delay).unwrap_or(now)
}
