//! Exactly-once handling with the in-memory store: the answers a receiver
//! gets through `Deduplicator`.

#![cfg(all(feature = "events", feature = "dedup"))]

use std::sync::Arc;
use std::time::Duration;

use protocol_webhooks::Answer;
use protocol_webhooks::dedup::{
    ClaimOutcome, ClaimToken, ClaimedEvent, Deduplicator, EventStore, ManualClock, MemoryStore,
    StoreError, StoreFuture, Unclaimed,
};
use protocol_webhooks::events::{Event, EventType};
use protocol_webhooks::samples::sample_body;

fn event(id: &str) -> Event {
    Event::from_slice(&sample_body(&EventType::MessageCreated, id)).expect("sample event")
}

/// A deduplicator over a memory store on a manual clock, and the clock.
fn manual() -> (Deduplicator, ManualClock) {
    let clock = ManualClock::new();
    let store = MemoryStore::new().with_clock(clock.clone());
    (Deduplicator::new(store), clock)
}

async fn claim(dedup: &Deduplicator, id: &str) -> Result<ClaimedEvent, Unclaimed> {
    dedup.claim(event(id)).await
}

#[tokio::test]
async fn first_delivery_runs_then_redeliveries_are_answered_200() {
    let dedup = Deduplicator::in_memory();
    let claimed = claim(&dedup, "evt_1").await.expect("first delivery wins");
    assert_eq!(claimed.id, "evt_1");
    assert_eq!(claimed.guard().event_id(), "evt_1");
    claimed.commit().await.expect("commit");

    let again = claim(&dedup, "evt_1").await.expect_err("already processed");
    assert!(matches!(&again, Unclaimed::Duplicate { event_id } if event_id == "evt_1"));
    assert_eq!(again.status(), 200);
    assert_eq!(
        Answer::from(again).body(),
        r#"{"type":"duplicate","message":"event evt_1 already processed"}"#
    );
    let _claimed = claim(&dedup, "evt_2")
        .await
        .expect("another event is independent");
}

#[tokio::test]
async fn a_concurrent_delivery_is_answered_409_with_the_remaining_lease() {
    let (dedup, clock) = manual();
    let dedup = dedup.with_lease(Duration::from_secs(30));
    let _held = claim(&dedup, "evt").await.expect("claimed");
    clock.advance(Duration::from_millis(10_500));
    let busy = claim(&dedup, "evt").await.expect_err("in progress");
    assert!(matches!(
        busy,
        Unclaimed::InProgress { retry_after, .. } if retry_after == Duration::from_millis(19_500)
    ));
    assert_eq!(busy.status(), 409);
    assert_eq!(busy.retry_after(), Some(20));
}

#[tokio::test]
async fn a_failed_handler_releases_so_the_redelivery_runs_once() {
    let dedup = Deduplicator::in_memory();
    let claimed = claim(&dedup, "evt").await.expect("claimed");
    let handler_failed = true;
    if handler_failed {
        drop(claimed);
    }
    let retry = claim(&dedup, "evt")
        .await
        .expect("the redelivery is processed");
    retry.commit().await.expect("commit");
    assert_eq!(claim(&dedup, "evt").await.expect_err("done").status(), 200);
}

#[tokio::test]
async fn an_explicit_release_frees_the_id() {
    let dedup = Deduplicator::in_memory();
    let (event, guard) = claim(&dedup, "evt").await.expect("claimed").into_parts();
    assert_eq!(event.id, "evt");
    guard.release().await.expect("release");
    let _claimed = claim(&dedup, "evt").await.expect("claimable again");
}

#[tokio::test]
async fn a_panicking_handler_releases() {
    let dedup = Deduplicator::in_memory();
    let task = tokio::spawn({
        let dedup = dedup.clone();
        async move {
            let claimed = claim(&dedup, "evt").await.expect("claimed");
            if claimed.id == "evt" {
                panic!("handler panicked");
            }
            claimed.commit().await
        }
    });
    assert!(task.await.expect_err("the handler panicked").is_panic());
    let _claimed = claim(&dedup, "evt")
        .await
        .expect("released during unwinding");
}

#[tokio::test]
async fn a_dropped_request_releases() {
    let dedup = Deduplicator::in_memory();
    let (claimed_tx, claimed_rx) = tokio::sync::oneshot::channel();
    let request = tokio::spawn({
        let dedup = dedup.clone();
        async move {
            let claimed = claim(&dedup, "evt").await.expect("claimed");
            let _ = claimed_tx.send(());
            // A slow handler, cancelled when the client goes away.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            claimed.commit().await
        }
    });
    claimed_rx.await.expect("the request claimed the event");
    assert_eq!(claim(&dedup, "evt").await.expect_err("busy").status(), 409);
    request.abort();
    assert!(request.await.expect_err("aborted").is_cancelled());
    let _claimed = claim(&dedup, "evt")
        .await
        .expect("released when the request was dropped");
}

#[tokio::test]
async fn a_killed_holder_is_taken_over_after_the_lease() {
    let (dedup, clock) = manual();
    let dedup = dedup.with_lease(Duration::from_secs(60));
    let killed = claim(&dedup, "evt").await.expect("claimed");
    // A process killed mid-handler runs no destructor.
    std::mem::forget(killed);
    clock.advance(Duration::from_secs(59));
    assert_eq!(claim(&dedup, "evt").await.expect_err("busy").status(), 409);
    clock.advance(Duration::from_secs(1));
    let takeover = claim(&dedup, "evt").await.expect("the lease expired");
    takeover.commit().await.expect("commit");
}

#[tokio::test]
async fn a_holder_past_its_lease_cannot_commit() {
    let (dedup, clock) = manual();
    let dedup = dedup.with_lease(Duration::from_secs(5));
    let slow = claim(&dedup, "evt").await.expect("claimed");
    clock.advance(Duration::from_secs(6));
    let newer = claim(&dedup, "evt").await.expect("the lease expired");
    assert!(matches!(slow.commit().await, Err(StoreError::LostClaim)));
    // The slow holder's guard is gone and did not release the newer claim.
    assert_eq!(claim(&dedup, "evt").await.expect_err("busy").status(), 409);
    newer.commit().await.expect("the newer holder commits");
}

#[tokio::test]
async fn done_ids_are_forgotten_after_the_retention() {
    let (dedup, clock) = manual();
    let dedup = dedup.with_retention(Duration::from_secs(3600));
    claim(&dedup, "evt")
        .await
        .expect("claimed")
        .commit()
        .await
        .expect("commit");
    clock.advance(Duration::from_secs(3599));
    assert_eq!(claim(&dedup, "evt").await.expect_err("done").status(), 200);
    clock.advance(Duration::from_secs(1));
    let _claimed = claim(&dedup, "evt").await.expect("forgotten");
}

#[tokio::test]
async fn a_full_store_is_answered_503() {
    let dedup = Deduplicator::new(MemoryStore::new().with_max_entries(1));
    let _held = claim(&dedup, "a").await.expect("claimed");
    let full = claim(&dedup, "b").await.expect_err("full");
    assert!(matches!(
        &full,
        Unclaimed::StoreUnavailable {
            error: StoreError::Full { max_entries: 1 },
            ..
        }
    ));
    assert_eq!(full.status(), 503);
    assert_eq!(full.retry_after(), Some(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_on_threads_have_one_winner() {
    let dedup = Deduplicator::in_memory();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let dedup = dedup.clone();
            tokio::spawn(async move {
                match claim(&dedup, "evt").await {
                    // Held until the end so that no later claim can win.
                    Ok(claimed) => Ok(claimed),
                    Err(rejection) => Err(rejection.status()),
                }
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(claimed) => winners.push(claimed),
            Err(status) => assert_eq!(status, 409),
        }
    }
    assert_eq!(winners.len(), 1);
}

#[test]
fn builders_set_and_clamp_durations() {
    let dedup = Deduplicator::in_memory();
    assert_eq!(dedup.lease(), Duration::from_secs(60));
    assert_eq!(dedup.retention(), Duration::from_secs(7 * 24 * 3600));
    let dedup = dedup
        .with_lease(Duration::ZERO)
        .with_retention(Duration::from_secs(1));
    assert_eq!(dedup.lease(), Duration::from_millis(1));
    assert_eq!(dedup.retention(), Duration::from_secs(1));
    assert_eq!(
        format!("{dedup:?}"),
        "Deduplicator { lease: 1ms, retention: 1s, .. }"
    );
}

#[test]
fn futures_and_guards_are_send() {
    fn send<T: Send>(_: &T) {}
    let dedup = Deduplicator::in_memory();
    let claim = dedup.claim(event("evt"));
    send(&claim);
    drop(claim);
    send(&dedup.claim_id("evt"));
}

/// A store that cannot be reached.
struct Unreachable;

impl EventStore for Unreachable {
    fn claim<'a>(&'a self, _: &'a str, _: Duration) -> StoreFuture<'a, ClaimOutcome> {
        Box::pin(async {
            Err(StoreError::unavailable(std::io::Error::from(
                std::io::ErrorKind::ConnectionRefused,
            )))
        })
    }

    fn commit<'a>(&'a self, _: &'a str, _: &'a ClaimToken, _: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::Unavailable(None)) })
    }

    fn release<'a>(&'a self, _: &'a str, _: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::Unavailable(None)) })
    }

    fn release_detached(&self, _: String, _: ClaimToken) {}
}

#[tokio::test]
async fn an_unreachable_store_is_answered_503_and_the_handler_does_not_run() {
    let dedup = Deduplicator::from_shared(Arc::new(Unreachable));
    let rejection = claim(&dedup, "evt").await.expect_err("unavailable");
    assert!(matches!(
        rejection,
        Unclaimed::StoreUnavailable {
            error: StoreError::Unavailable(Some(_)),
            ..
        }
    ));
    assert_eq!(rejection.status(), 503);
    assert_eq!(rejection.retry_after(), Some(5));
    assert_eq!(Answer::from(rejection).error_type(), "api_error");
}
