//! Every store passes the one conformance suite.

use std::time::Duration;

use protocol_webhooks_inbox::{ManualClock, MemoryStore, SqliteStore, store_suite};

fn manual_elapse(clock: &ManualClock) -> impl Fn(Duration) -> std::future::Ready<()> + '_ {
    move |by| {
        clock.advance(by);
        std::future::ready(())
    }
}

#[tokio::test]
async fn memory_store_passes_the_suite() {
    let clock = ManualClock::new();
    let store = MemoryStore::new().with_clock(clock.clone());
    store_suite::run(&store, manual_elapse(&clock)).await;
}

#[tokio::test]
async fn sqlite_store_passes_the_suite_on_a_manual_clock() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new();
    let store = SqliteStore::options()
        .clock(clock.clone())
        .open(dir.path().join("inbox.sqlite3"))
        .expect("open");
    store_suite::run(&store, manual_elapse(&clock)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_passes_the_suite_on_the_system_clock() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("inbox.sqlite3")).expect("open");
    store_suite::run(&store, tokio::time::sleep).await;
}

#[tokio::test]
async fn sqlite_store_passes_the_suite_without_group_commit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new();
    let store = SqliteStore::options()
        .clock(clock.clone())
        .max_group(1)
        .open(dir.path().join("inbox.sqlite3"))
        .expect("open");
    store_suite::run(&store, manual_elapse(&clock)).await;
}

#[tokio::test]
async fn the_suite_passes_again_on_a_reopened_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("inbox.sqlite3");
    let clock = ManualClock::new();
    {
        let store = SqliteStore::options()
            .clock(clock.clone())
            .open(&path)
            .expect("open");
        store_suite::run(&store, manual_elapse(&clock)).await;
    }
    let store = SqliteStore::options()
        .clock(clock.clone())
        .open(&path)
        .expect("reopen");
    store_suite::run(&store, manual_elapse(&clock)).await;
}
