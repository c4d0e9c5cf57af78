//! The in-memory store passes the conformance suite every store must pass.

#![cfg(feature = "store-suite")]

use protocol_webhooks::dedup::{ManualClock, MemoryStore, store_suite};

#[tokio::test]
async fn memory_store_passes_the_store_suite() {
    let clock = ManualClock::new();
    let store = MemoryStore::new().with_clock(clock.clone());
    store_suite::run(&store, |by| {
        clock.advance(by);
        std::future::ready(())
    })
    .await;
}

#[tokio::test]
async fn memory_store_passes_the_store_suite_on_the_system_clock() {
    store_suite::run(&MemoryStore::new(), tokio::time::sleep).await;
}
