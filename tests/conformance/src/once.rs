//! The exactly-once route: a shared de-duplication store the suite can
//! reach into, and the handler behaviour every adapter's test app uses.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use protocol_webhooks::dedup::{
    ClaimOutcome, ClaimToken, ClaimedEvent, Deduplicator, EventStore, MemoryStore, StoreError,
    StoreFuture,
};
use protocol_webhooks::events::Event;

/// Event ids starting with this are answered as if the store were down.
pub(crate) const STORE_DOWN_PREFIX: &str = "evt_store_down";
/// Event ids containing this make the handler fail on its first run.
pub(crate) const FAIL_ONCE_MARK: &str = "_fail_once";
/// Event ids containing this make the handler panic on its first run.
pub(crate) const PANIC_ONCE_MARK: &str = "_panic_once";
/// Event ids containing this make the handler hang on its first run.
pub(crate) const HANG_ONCE_MARK: &str = "_hang_once";

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

/// How many times the once route's handler has started, per event id.
static RUNS: LazyLock<Mutex<HashMap<String, usize>>> = LazyLock::new(Mutex::default);

/// The de-duplicator every adapter's test app must use for
/// [`ONCE_PATH`](crate::ONCE_PATH): clones share one store, which the suite
/// also uses to hold claims of its own.
#[must_use]
pub fn deduplicator() -> Deduplicator {
    DEDUPLICATOR.clone()
}

/// What the once route's handler does with a claimed event, decided by
/// marks in its id; every mark applies to the first run only, so the
/// redelivery that follows succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnceOutcome {
    /// Succeed: commit the claim and answer 200 with
    /// [`event_summary`](crate::event_summary).
    Commit,
    /// Fail: answer 503 without committing (drop the claim), as a handler
    /// whose work failed would.
    Fail,
    /// Panic while holding the claim.
    Panic,
    /// Hold the claim for [`HANG`] before failing, as a slow handler whose
    /// client gives up would.
    Hang,
}

/// How long a hanging handler holds its claim: longer than the suite waits
/// for an answer, so the client gives up first.
pub const HANG: Duration = Duration::from_secs(2);

/// Records a run of the once route's handler for `event` and decides what
/// it does.
#[must_use]
pub fn once_outcome(event: &Event) -> OnceOutcome {
    let mut runs = RUNS.lock().unwrap_or_else(PoisonError::into_inner);
    let run = runs.entry(event.id.clone()).or_default();
    *run += 1;
    let first = *run == 1;
    let marked = |mark: &str| first && event.id.contains(mark);
    if marked(FAIL_ONCE_MARK) {
        OnceOutcome::Fail
    } else if marked(PANIC_ONCE_MARK) {
        OnceOutcome::Panic
    } else if marked(HANG_ONCE_MARK) {
        OnceOutcome::Hang
    } else {
        OnceOutcome::Commit
    }
}

/// How many times the once route's handler has run for `event_id`.
#[must_use]
pub fn handler_runs(event_id: &str) -> usize {
    RUNS.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(event_id)
        .copied()
        .unwrap_or_default()
}

/// What the once route answers: a status and a JSON body (empty for a
/// failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnceReply {
    /// The status code.
    pub status: u16,
    /// The body, `application/json` when not empty.
    pub body: String,
}

/// The once route's whole handler, shared by every adapter's test app: it
/// records the run, then does what [`once_outcome`] decides with the claim.
///
/// # Panics
/// On purpose, for an event whose id carries the panic mark.
pub async fn handle_once(claimed: ClaimedEvent) -> OnceReply {
    match once_outcome(&claimed) {
        OnceOutcome::Commit => {
            let body = crate::event_summary(&claimed);
            match claimed.commit().await {
                Ok(()) => OnceReply { status: 200, body },
                // Not expected with the suite's memory store and lease: a
                // 500 makes the case fail visibly instead of hiding it.
                Err(error) => OnceReply {
                    status: 500,
                    body: serde_json::json!({ "error": error.to_string() }).to_string(),
                },
            }
        }
        // Returning drops the claim uncommitted, which releases it.
        OnceOutcome::Fail => OnceReply {
            status: 503,
            body: String::new(),
        },
        OnceOutcome::Panic => panic!("the once route's handler panics on purpose"),
        OnceOutcome::Hang => {
            tokio::time::sleep(HANG).await;
            drop(claimed);
            OnceReply {
                status: 503,
                body: String::new(),
            }
        }
    }
}
