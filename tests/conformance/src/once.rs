//! The exactly-once route: a shared de-duplication store the suite can
//! reach into, and the handler behaviour every adapter's test app uses.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use protocol_webhooks::dedup::{
    ClaimOutcome, ClaimToken, Deduplicator, EventStore, MemoryStore, StoreError, StoreFuture,
};
use protocol_webhooks::events::Event;

/// Event ids starting with this are answered as if the store were down.
pub(crate) const STORE_DOWN_PREFIX: &str = "evt_store_down";
/// Event ids containing this make the handler fail on its first run.
pub(crate) const FAIL_ONCE_MARK: &str = "_fail_once";

/// The lease the test apps' claims use.
pub(crate) const LEASE: Duration = Duration::from_secs(30);

/// A memory store that is "unreachable" for some ids, so the 503 path can
/// be tested without stopping anything.
struct ConformanceStore {
    inner: MemoryStore,
}

impl EventStore for ConformanceStore {
    fn claim<'a>(&'a self, event_id: &'a str, lease: Duration) -> StoreFuture<'a, ClaimOutcome> {
        if event_id.starts_with(STORE_DOWN_PREFIX) {
            return Box::pin(async {
                Err(StoreError::unavailable("store switched off for this id"))
            });
        }
        self.inner.claim(event_id, lease)
    }

    fn commit<'a>(
        &'a self,
        event_id: &'a str,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()> {
        self.inner.commit(event_id, token, retention)
    }

    fn release<'a>(&'a self, event_id: &'a str, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        self.inner.release(event_id, token)
    }

    fn release_detached(&self, event_id: String, token: ClaimToken) {
        self.inner.release_detached(event_id, token);
    }
}

static DEDUPLICATOR: LazyLock<Deduplicator> = LazyLock::new(|| {
    let store: Arc<dyn EventStore> = Arc::new(ConformanceStore {
        inner: MemoryStore::new(),
    });
    Deduplicator::from_shared(store).with_lease(LEASE)
});

static FAILED_ONCE: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Mutex::default);

/// The de-duplicator every adapter's test app must use for
/// [`ONCE_PATH`](crate::ONCE_PATH): clones share one store, which the suite
/// also uses to hold claims of its own.
#[must_use]
pub fn deduplicator() -> Deduplicator {
    DEDUPLICATOR.clone()
}

/// What the once route's handler does with a claimed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnceOutcome {
    /// Succeed: commit the claim and answer 200 with
    /// [`event_summary`](crate::event_summary).
    Commit,
    /// Fail: answer 503 without committing (drop the claim), as a handler
    /// whose work failed would.
    Fail,
}

/// Decides the once route's handler outcome: an event whose id contains
/// `_fail_once` fails the first time it is handled and succeeds after.
#[must_use]
pub fn once_outcome(event: &Event) -> OnceOutcome {
    if !event.id.contains(FAIL_ONCE_MARK) {
        return OnceOutcome::Commit;
    }
    let mut failed = FAILED_ONCE.lock().unwrap_or_else(PoisonError::into_inner);
    if failed.insert(event.id.clone()) {
        OnceOutcome::Fail
    } else {
        OnceOutcome::Commit
    }
}
