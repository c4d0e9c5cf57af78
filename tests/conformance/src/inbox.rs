//! The inbox route: a shared inbox the suite can look into, and a store
//! that is "unreachable" for some ids.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use protocol_webhooks::dedup::{ClaimToken, StoreError, StoreFuture};
use protocol_webhooks_inbox::{
    Accepted, AfterFailure, Entry, EntrySummary, Inbox, InboxStore, MemoryStore, NewEntry, State,
    Stats, Taken,
};

use crate::once::STORE_DOWN_PREFIX;

/// A memory store that cannot store some ids, so the 503 path can be
/// tested without stopping anything. The suite checks answers, not the
/// engine: the inbox crate's own suite proves the durable stores.
struct ConformanceStore {
    inner: MemoryStore,
}

impl InboxStore for ConformanceStore {
    fn accept(&self, entry: NewEntry) -> StoreFuture<'_, Accepted> {
        if entry.id.starts_with(STORE_DOWN_PREFIX) {
            return Box::pin(async {
                Err(StoreError::unavailable("store switched off for this id"))
            });
        }
        self.inner.accept(entry)
    }

    fn take(
        &self,
        lease: Duration,
        limit: usize,
        max_attempts: u32,
    ) -> StoreFuture<'_, Vec<Taken>> {
        self.inner.take(lease, limit, max_attempts)
    }

    fn complete<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        self.inner.complete(id, token)
    }

    fn fail<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
        error: &'a str,
        after: AfterFailure,
    ) -> StoreFuture<'a, ()> {
        self.inner.fail(id, token, error, after)
    }

    fn release<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
        delay: Duration,
    ) -> StoreFuture<'a, ()> {
        self.inner.release(id, token, delay)
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        self.inner.stats()
    }

    fn list(&self, state: Option<State>, limit: usize) -> StoreFuture<'_, Vec<EntrySummary>> {
        self.inner.list(state, limit)
    }

    fn show<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Entry>> {
        self.inner.show(id)
    }

    fn retry<'a>(&'a self, id: &'a str) -> StoreFuture<'a, bool> {
        self.inner.retry(id)
    }

    fn retry_all_dead(&self) -> StoreFuture<'_, u64> {
        self.inner.retry_all_dead()
    }

    fn purge_dead(&self, older_than: Duration) -> StoreFuture<'_, u64> {
        self.inner.purge_dead(older_than)
    }

    fn purge_done(&self, older_than: Duration) -> StoreFuture<'_, u64> {
        self.inner.purge_done(older_than)
    }
}

static INBOX: LazyLock<Inbox> = LazyLock::new(|| {
    let store: Arc<dyn InboxStore> = Arc::new(ConformanceStore {
        inner: MemoryStore::new(),
    });
    Inbox::from_shared(store)
});

/// The inbox every adapter's test app must use for
/// [`INBOX_PATH`](crate::INBOX_PATH): clones share one store, which the
/// suite looks into after each case. Event ids starting with
/// `evt_store_down` cannot be stored (503).
#[must_use]
pub fn inbox() -> Inbox {
    INBOX.clone()
}

/// The exact bytes the inbox holds for `event_id`, if any.
pub(crate) async fn stored_body(event_id: &str) -> Result<Option<Vec<u8>>, String> {
    let entry = INBOX
        .store()
        .show(event_id)
        .await
        .map_err(|error| format!("the suite's inbox failed: {error}"))?;
    Ok(entry.map(|entry| entry.body))
}
