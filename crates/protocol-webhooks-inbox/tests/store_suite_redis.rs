//! `RedisStore` passes the same conformance suite as every other store,
//! against a real Redis (`REDIS_URL`), each run under its own key prefix.

#[allow(dead_code)]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use protocol_webhooks::dedup::{ClaimToken, StoreFuture};
use protocol_webhooks_inbox::{
    Accepted, AfterFailure, Entry, EntrySummary, InboxStore, ManualClock, NewEntry, RedisStore,
    State, Stats, Taken, store_suite,
};
use support::{forget, redis_url, unique_prefix};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_passes_the_suite_on_a_manual_clock() {
    let clock = ManualClock::new();
    let prefix = unique_prefix();
    let store = RedisStore::options()
        .prefix(&prefix)
        .clock(clock.clone())
        .open(&redis_url())
        .await
        .unwrap_or_else(|error| panic!("cannot open REDIS_URL: {error:?}"));
    let elapse = |by: Duration| {
        clock.advance(by);
        std::future::ready(())
    };
    store_suite::run(&store, elapse).await;
    forget(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_passes_the_suite_on_the_system_clock() {
    let prefix = unique_prefix();
    let store = RedisStore::options()
        .prefix(&prefix)
        .open(&redis_url())
        .await
        .unwrap_or_else(|error| panic!("cannot open REDIS_URL: {error:?}"));
    store_suite::run(&store, tokio::time::sleep).await;
    forget(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_passes_on_two_connections_sharing_one_inbox() {
    // Every operation alternates between two stores on one prefix, as two
    // replicas would: nothing lives in the process.
    let clock = ManualClock::new();
    let prefix = unique_prefix();
    let mut stores = Vec::new();
    for consumer in ["replica-a", "replica-b"] {
        stores.push(
            RedisStore::options()
                .prefix(&prefix)
                .consumer(consumer)
                .clock(clock.clone())
                .open(&redis_url())
                .await
                .unwrap_or_else(|error| panic!("cannot open REDIS_URL: {error:?}")),
        );
    }
    let store = Alternating::new(stores);
    let elapse = |by: Duration| {
        clock.advance(by);
        std::future::ready(())
    };
    store_suite::run(&store, elapse).await;
    forget(&prefix).await;
}

/// An `InboxStore` that sends each operation to the next of its stores.
struct Alternating {
    stores: Vec<RedisStore>,
    next: AtomicUsize,
}

impl Alternating {
    fn new(stores: Vec<RedisStore>) -> Self {
        Self {
            stores,
            next: AtomicUsize::new(0),
        }
    }

    fn pick(&self) -> &RedisStore {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        &self.stores[n % self.stores.len()]
    }
}

impl InboxStore for Alternating {
    fn accept(&self, entry: NewEntry) -> StoreFuture<'_, Accepted> {
        self.pick().accept(entry)
    }
    fn take(&self, lease: Duration, limit: usize, max: u32) -> StoreFuture<'_, Vec<Taken>> {
        self.pick().take(lease, limit, max)
    }
    fn complete<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        self.pick().complete(id, token)
    }
    fn fail<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
        error: &'a str,
        after: AfterFailure,
    ) -> StoreFuture<'a, ()> {
        self.pick().fail(id, token, error, after)
    }
    fn release<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
        delay: Duration,
    ) -> StoreFuture<'a, ()> {
        self.pick().release(id, token, delay)
    }
    fn stats(&self) -> StoreFuture<'_, Stats> {
        self.pick().stats()
    }
    fn list(&self, state: Option<State>, limit: usize) -> StoreFuture<'_, Vec<EntrySummary>> {
        self.pick().list(state, limit)
    }
    fn show<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Entry>> {
        self.pick().show(id)
    }
    fn retry<'a>(&'a self, id: &'a str) -> StoreFuture<'a, bool> {
        self.pick().retry(id)
    }
    fn retry_all_dead(&self) -> StoreFuture<'_, u64> {
        self.pick().retry_all_dead()
    }
    fn purge_dead(&self, older_than: Duration) -> StoreFuture<'_, u64> {
        self.pick().purge_dead(older_than)
    }
    fn purge_done(&self, older_than: Duration) -> StoreFuture<'_, u64> {
        self.pick().purge_done(older_than)
    }
}
