//! The one-process store: a bounded map behind a mutex.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::{ClaimOutcome, ClaimToken, Clock, EventStore, StoreError, StoreFuture, SystemClock};

/// The most entries a [`MemoryStore`] holds unless configured otherwise.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// Expiry times are capped at a century so that adding them to an `Instant`
/// cannot overflow.
const MAX_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// An [`EventStore`] in this process's memory: right for a single replica,
/// and the default of [`Deduplicator::in_memory`](super::Deduplicator::in_memory).
///
/// Memory is bounded: at most [`max_entries`](Self::max_entries) ids
/// (claimed or done) are kept. Expired entries are dropped when their id is
/// next seen, and all at once when a claim finds the store at capacity; if
/// every entry is still live, the claim fails with [`StoreError::Full`] (a
/// 503, so the sender retries later) rather than forgetting a done id, which
/// would let a retry be processed twice.
///
/// ```
/// use std::time::Duration;
/// use protocol_webhooks::dedup::{ManualClock, MemoryStore};
///
/// let clock = ManualClock::new();
/// let store = MemoryStore::new().with_max_entries(10_000).with_clock(clock.clone());
/// assert_eq!(store.max_entries(), 10_000);
/// ```
pub struct MemoryStore {
    entries: Mutex<Entries>,
    max_entries: usize,
    clock: Box<dyn Clock>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
    /// No entry expires before this instant; `None` only when the map is
    /// empty. Lets a store full of live entries refuse a claim without
    /// scanning the whole map each time.
    earliest_expiry: Option<Instant>,
}

struct Entry {
    state: State,
    expires_at: Instant,
}

enum State {
    Claimed(ClaimToken),
    Done,
}

impl MemoryStore {
    /// An empty store holding at most [`DEFAULT_MAX_ENTRIES`] entries, on
    /// the system clock.
    #[must_use]
    pub fn new() -> Self {
        Self {
            entries: Mutex::default(),
            max_entries: DEFAULT_MAX_ENTRIES,
            clock: Box::new(SystemClock),
        }
    }

    /// Sets the most entries kept (at least 1).
    #[must_use]
    pub fn with_max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries.max(1);
        self
    }

    /// Uses another clock, e.g. a [`ManualClock`](super::ManualClock) in tests.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// The most entries kept.
    #[must_use]
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// The entries held now, including expired ones not yet dropped.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no entry is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // Every update below completes without panicking while the lock is
        // held, so a poisoned map is still consistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn claim_now(&self, event_id: &str, lease: Duration) -> Result<ClaimOutcome, StoreError> {
        let now = self.clock.now();
        let mut entries = self.lock();
        if let Some(entry) = entries.map.get(event_id) {
            if entry.expires_at > now {
                return Ok(match entry.state {
                    State::Done => ClaimOutcome::Done,
                    State::Claimed(_) => ClaimOutcome::InProgress {
                        retry_after: entry.expires_at - now,
                    },
                });
            }
            entries.map.remove(event_id);
        }
        if entries.map.len() >= self.max_entries {
            entries.sweep(now);
            if entries.map.len() >= self.max_entries {
                return Err(StoreError::Full {
                    max_entries: self.max_entries,
                });
            }
        }
        let token = ClaimToken::random()?;
        entries.insert(
            event_id.to_owned(),
            State::Claimed(token.clone()),
            deadline(now, lease),
        );
        Ok(ClaimOutcome::Claimed(token))
    }

    fn commit_now(
        &self,
        event_id: &str,
        token: &ClaimToken,
        retention: Duration,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut entries = self.lock();
        match entries.map.get_mut(event_id) {
            Some(entry) if entry.expires_at > now && entry.is_claimed_by(token) => {
                entry.state = State::Done;
                entry.expires_at = deadline(now, retention);
                let expires_at = entry.expires_at;
                entries.note_expiry(expires_at);
                Ok(())
            }
            _ => Err(StoreError::LostClaim),
        }
    }

    fn release_now(&self, event_id: &str, token: &ClaimToken) {
        let mut entries = self.lock();
        if entries
            .map
            .get(event_id)
            .is_some_and(|entry| entry.is_claimed_by(token))
        {
            entries.map.remove(event_id);
        }
    }
}

impl Entries {
    fn insert(&mut self, event_id: String, state: State, expires_at: Instant) {
        self.map.insert(event_id, Entry { state, expires_at });
        self.note_expiry(expires_at);
    }

    fn note_expiry(&mut self, expires_at: Instant) {
        self.earliest_expiry = Some(match self.earliest_expiry {
            Some(earliest) => earliest.min(expires_at),
            None => expires_at,
        });
    }

    /// Drops every expired entry, unless none can have expired yet.
    fn sweep(&mut self, now: Instant) {
        if self.earliest_expiry.is_some_and(|earliest| earliest > now) {
            return;
        }
        self.map.retain(|_, entry| entry.expires_at > now);
        self.earliest_expiry = self.map.values().map(|entry| entry.expires_at).min();
    }
}

impl Entry {
    fn is_claimed_by(&self, token: &ClaimToken) -> bool {
        matches!(&self.state, State::Claimed(holder) if holder == token)
    }
}

fn deadline(now: Instant, ttl: Duration) -> Instant {
    // Cannot overflow with the cap; the fallback only keeps this total.
    now.checked_add(ttl.min(MAX_TTL)).unwrap_or(now)
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("max_entries", &self.max_entries)
            .finish_non_exhaustive()
    }
}

impl EventStore for MemoryStore {
    fn claim<'a>(&'a self, event_id: &'a str, lease: Duration) -> StoreFuture<'a, ClaimOutcome> {
        // The work happens when polled, not when called: a future dropped
        // unpolled must not leave a claim nobody holds a token for.
        Box::pin(async move { self.claim_now(event_id, lease) })
    }

    fn commit<'a>(
        &'a self,
        event_id: &'a str,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.commit_now(event_id, token, retention) })
    }

    fn release<'a>(&'a self, event_id: &'a str, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.release_now(event_id, token);
            Ok(())
        })
    }

    fn release_detached(&self, event_id: String, token: ClaimToken) {
        self.release_now(&event_id, &token);
    }
}

#[cfg(test)]
mod tests {
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};

    use super::*;
    use crate::dedup::ManualClock;

    const LEASE: Duration = Duration::from_secs(60);
    const RETENTION: Duration = Duration::from_secs(3600);

    /// The memory store never waits, so one poll finishes every operation.
    fn ready<T>(future: impl Future<Output = T>) -> T {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(value) => value,
            Poll::Pending => panic!("the memory store never waits"),
        }
    }

    fn claimed(store: &MemoryStore, id: &str) -> ClaimToken {
        match ready(store.claim(id, LEASE)) {
            Ok(ClaimOutcome::Claimed(token)) => token,
            other => panic!("expected a claim on {id}, got {other:?}"),
        }
    }

    #[test]
    fn full_of_live_entries_refuses_new_ids_but_answers_known_ones() {
        let store = MemoryStore::new().with_max_entries(2);
        let token = claimed(&store, "a");
        claimed(&store, "b");
        assert!(matches!(
            ready(store.claim("c", LEASE)),
            Err(StoreError::Full { max_entries: 2 })
        ));
        assert!(matches!(
            ready(store.claim("a", LEASE)),
            Ok(ClaimOutcome::InProgress { .. })
        ));
        ready(store.commit("a", &token, RETENTION)).expect("commit");
        assert_eq!(
            ready(store.claim("a", LEASE)).ok(),
            Some(ClaimOutcome::Done)
        );
    }

    #[test]
    fn a_release_makes_room() {
        let store = MemoryStore::new().with_max_entries(1);
        let token = claimed(&store, "a");
        assert!(ready(store.claim("b", LEASE)).is_err());
        store.release_detached(String::from("a"), token);
        assert!(store.is_empty());
        claimed(&store, "b");
    }

    #[test]
    fn expired_entries_are_swept_when_full() {
        let clock = ManualClock::new();
        let store = MemoryStore::new()
            .with_max_entries(3)
            .with_clock(clock.clone());
        let done = claimed(&store, "done");
        ready(store.commit("done", &done, Duration::from_secs(10))).expect("commit");
        claimed(&store, "leased");
        claimed(&store, "long");
        clock.advance(Duration::from_secs(5));
        assert!(
            ready(store.claim("new", LEASE)).is_err(),
            "nothing expired yet"
        );
        clock.advance(Duration::from_secs(6));
        // "done" (10 s) expired; "leased" and "long" (60 s) did not.
        claimed(&store, "new");
        assert_eq!(store.len(), 3);
        assert!(matches!(
            ready(store.claim("leased", LEASE)),
            Ok(ClaimOutcome::InProgress { .. })
        ));
    }

    #[test]
    fn the_expiry_bound_follows_entries_added_after_a_sweep() {
        let clock = ManualClock::new();
        let store = MemoryStore::new()
            .with_max_entries(2)
            .with_clock(clock.clone());
        let first = claimed(&store, "a");
        ready(store.commit("a", &first, RETENTION)).expect("commit");
        let second = claimed(&store, "b");
        // Full, and nothing has expired yet.
        assert!(ready(store.claim("c", LEASE)).is_err());
        ready(store.release("b", &second)).expect("release");
        // This short claim expires long before the one-hour retention of "a".
        assert!(matches!(
            ready(store.claim("short", Duration::from_secs(1))),
            Ok(ClaimOutcome::Claimed(_))
        ));
        clock.advance(Duration::from_secs(2));
        claimed(&store, "c");
    }

    #[test]
    fn in_progress_reports_the_remaining_lease() {
        let clock = ManualClock::new();
        let store = MemoryStore::new().with_clock(clock.clone());
        claimed(&store, "a");
        clock.advance(Duration::from_millis(59_500));
        assert_eq!(
            ready(store.claim("a", LEASE)).ok(),
            Some(ClaimOutcome::InProgress {
                retry_after: Duration::from_millis(500)
            })
        );
    }

    #[test]
    fn huge_durations_do_not_overflow() {
        let store = MemoryStore::new();
        let token = match ready(store.claim("a", Duration::MAX)) {
            Ok(ClaimOutcome::Claimed(token)) => token,
            other => panic!("{other:?}"),
        };
        ready(store.commit("a", &token, Duration::MAX)).expect("commit");
        assert_eq!(
            ready(store.claim("a", LEASE)).ok(),
            Some(ClaimOutcome::Done)
        );
    }
}
