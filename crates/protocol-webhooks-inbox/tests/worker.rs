//! The worker against real stores: retries, dead entries, leases,
//! concurrency, shutdown, de-duplication.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use protocol_webhooks::dedup::Deduplicator;
use protocol_webhooks_inbox::{
    Delivery, Inbox, InboxStore, MemoryStore, NewEntry, SqliteStore, State, Stopped, Worker,
};
use tokio::sync::oneshot;

fn body(id: &str) -> Vec<u8> {
    format!(r#"{{"id":"{id}","type":"conversation.updated","payload":{{"id":"conv_1"}}}}"#)
        .into_bytes()
}

async fn accept(inbox: &Inbox, id: &str) {
    let accepted = inbox.accept_bytes(&body(id)).await.expect("accept");
    assert_eq!(accepted.event_id(), id);
}

/// A worker tuned for tests: short polls and tiny backoff.
fn fast<H>(worker: Worker<H>) -> Worker<H> {
    worker
        .poll_interval(Duration::from_millis(5))
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
}

/// Runs `worker` until `done` holds for the store (or 10 s), then stops it.
async fn run_until<H, Fut, E>(
    worker: Worker<H>,
    store: Arc<dyn InboxStore>,
    done: impl Fn(&protocol_webhooks_inbox::Stats) -> bool,
) -> Stopped
where
    H: Fn(Delivery) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = store.stats().await.expect("stats");
        if done(&stats) {
            break;
        }
        assert!(Instant::now() < deadline, "timed out; stats {stats:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = stop.send(());
    running.await.expect("worker")
}

async fn show(store: &dyn InboxStore, id: &str) -> (State, u32, Option<String>) {
    let entry = store.show(id).await.expect("show").expect("entry");
    (
        entry.summary.state,
        entry.summary.attempts,
        entry.summary.last_error,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_failing_twice_is_called_three_times_and_ends_done() {
    let dir = tempfile::tempdir().expect("temp dir");
    let inbox = Inbox::open_sqlite(dir.path().join("inbox.sqlite3")).expect("open");
    accept(&inbox, "evt_flaky").await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let worker = fast(inbox.worker(move |delivery: Delivery| {
        let call = counted.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            assert_eq!(delivery.attempt as usize, call, "attempts count up");
            assert_eq!(delivery.id, "evt_flaky");
            if call <= 2 {
                Err(format!("failure {call}"))
            } else {
                Ok(())
            }
        }
    }));
    run_until(worker, Arc::clone(inbox.store()), |s| s.done == 1).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let (state, attempts, error) = show(&**inbox.store(), "evt_flaky").await;
    assert_eq!((state, attempts), (State::Done, 3));
    assert_eq!(
        error.as_deref(),
        Some("failure 2"),
        "the last failure stays visible"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_always_failing_handler_ends_dead_and_a_retry_handles_it_once() {
    let inbox = Inbox::new(MemoryStore::new());
    accept(&inbox, "evt_doomed").await;
    let calls = Arc::new(AtomicUsize::new(0));
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let handler = {
        let (calls, healthy) = (Arc::clone(&calls), Arc::clone(&healthy));
        move |delivery: Delivery| {
            let call = calls.fetch_add(1, Ordering::SeqCst) + 1;
            let healthy = healthy.load(Ordering::SeqCst);
            async move {
                if healthy {
                    Ok(())
                } else {
                    Err(format!("nope {call} at attempt {}", delivery.attempt))
                }
            }
        }
    };
    let worker = fast(inbox.worker(handler.clone())).attempts(3);
    run_until(worker, Arc::clone(inbox.store()), |s| s.dead == 1).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let (state, attempts, error) = show(&**inbox.store(), "evt_doomed").await;
    assert_eq!((state, attempts), (State::Dead, 3));
    assert_eq!(error.as_deref(), Some("nope 3 at attempt 3"));

    healthy.store(true, Ordering::SeqCst);
    assert!(inbox.store().retry("evt_doomed").await.expect("retry"));
    let worker = fast(inbox.worker(handler)).attempts(3);
    run_until(worker, Arc::clone(inbox.store()), |s| s.done == 1).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        4,
        "a retried entry is handled once"
    );
    let (state, attempts, _) = show(&**inbox.store(), "evt_doomed").await;
    assert_eq!((state, attempts), (State::Done, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_a_failure_with_its_message() {
    let inbox = Inbox::new(MemoryStore::new());
    accept(&inbox, "evt_panic").await;
    let worker = fast(inbox.worker(|_: Delivery| async {
        if true {
            panic!("handler exploded");
        }
        Ok::<(), String>(())
    }))
    .attempts(2);
    run_until(worker, Arc::clone(inbox.store()), |s| s.dead == 1).await;
    let (state, attempts, error) = show(&**inbox.store(), "evt_panic").await;
    assert_eq!((state, attempts), (State::Dead, 2));
    assert_eq!(
        error.as_deref(),
        Some("the handler panicked: handler exploded")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_body_that_no_longer_parses_is_dead_at_once() {
    let store = MemoryStore::new();
    let accepted = store
        .accept(NewEntry {
            id: String::from("evt_bad"),
            event_type: String::from("conversation.updated"),
            body: b"not json".to_vec(),
        })
        .await
        .expect("accept");
    assert_eq!(accepted.event_id(), "evt_bad");
    let inbox = Inbox::new(store);
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let worker = fast(inbox.worker(move |_: Delivery| {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Ok::<(), String>(()) }
    }));
    run_until(worker, Arc::clone(inbox.store()), |s| s.dead == 1).await;
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let (_, attempts, error) = show(&**inbox.store(), "evt_bad").await;
    assert_eq!(attempts, 1);
    assert!(
        error
            .expect("error")
            .starts_with("the stored body is not a valid event")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_workers_entry_is_taken_over_and_its_late_outcome_is_refused() {
    // Two workers on two connections to one file, as two processes would be.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("inbox.sqlite3");
    let first = Inbox::new(SqliteStore::open(&path).expect("open"));
    let second = Inbox::new(SqliteStore::open(&path).expect("open again"));
    accept(&first, "evt_slow").await;

    // The first worker's handler outlives its 100 ms lease, then succeeds.
    let first_calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&first_calls);
    let (stop_first, first_stopped) = oneshot::channel::<()>();
    let first_worker = tokio::spawn(
        fast(first.worker(move |_: Delivery| {
            counted.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::time::sleep(Duration::from_millis(600)).await;
                Ok::<(), String>(())
            }
        }))
        .lease(Duration::from_millis(100))
        // Busy with its one hung handler, it cannot take the entry back.
        .concurrency(1)
        .run(async {
            let _ = first_stopped.await;
        }),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while first_calls.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the first worker never took the entry"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // The second worker takes it over once the lease ended, as attempt 2;
    // its handler fails, and with 2 attempts the entry is dead, so no
    // worker takes it again.
    let second_calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&second_calls);
    let second_worker = fast(second.worker(move |_: Delivery| {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), _>("downstream is down") }
    }))
    .lease(Duration::from_secs(30))
    .attempts(2);
    run_until(second_worker, Arc::clone(second.store()), |s| s.dead == 1).await;
    assert_eq!(second_calls.load(Ordering::SeqCst), 1);

    // The first handler now succeeds, but its lease token is stale: the
    // entry keeps the second worker's outcome.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let _ = stop_first.send(());
    first_worker.await.expect("first worker");
    assert_eq!(first_calls.load(Ordering::SeqCst), 1);
    let (state, attempts, error) = show(&**first.store(), "evt_slow").await;
    assert_eq!(
        (state, attempts),
        (State::Dead, 2),
        "not marked done by the stale lease"
    );
    assert_eq!(error.as_deref(), Some("downstream is down"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_than_the_concurrency_runs_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let inbox = Inbox::open_sqlite(dir.path().join("inbox.sqlite3")).expect("open");
    for n in 0..20 {
        accept(&inbox, &format!("evt_{n}")).await;
    }
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (running_in, most_in) = (Arc::clone(&running), Arc::clone(&most));
    let worker = fast(inbox.worker(move |_: Delivery| {
        let (running, most) = (Arc::clone(&running_in), Arc::clone(&most_in));
        async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            running.fetch_sub(1, Ordering::SeqCst);
            Ok::<(), String>(())
        }
    }))
    .concurrency(3);
    run_until(worker, Arc::clone(inbox.store()), |s| s.done == 20).await;
    assert_eq!(
        most.load(Ordering::SeqCst),
        3,
        "the bound is reached and never passed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_handlers_finish_within_the_grace_period() {
    let inbox = Inbox::new(MemoryStore::new());
    accept(&inbox, "evt_a").await;
    accept(&inbox, "evt_b").await;
    let started = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&started);
    let (stop, stopped) = oneshot::channel::<()>();
    let worker = tokio::spawn(
        fast(inbox.worker(move |_: Delivery| {
            counted.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Ok::<(), String>(())
            }
        }))
        .grace(Duration::from_secs(5))
        .run(async {
            let _ = stopped.await;
        }),
    );
    while started.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = stop.send(());
    let outcome = worker.await.expect("worker");
    assert_eq!(outcome.handed_back, 0);
    assert_eq!(inbox.store().stats().await.expect("stats").done, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_hands_back_what_the_grace_period_did_not_finish() {
    let dir = tempfile::tempdir().expect("temp dir");
    let inbox = Inbox::open_sqlite(dir.path().join("inbox.sqlite3")).expect("open");
    accept(&inbox, "evt_a").await;
    accept(&inbox, "evt_b").await;
    let started = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&started);
    let (stop, stopped) = oneshot::channel::<()>();
    let worker = tokio::spawn(
        fast(inbox.worker(move |_: Delivery| {
            counted.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<Result<(), String>>()
        }))
        .grace(Duration::from_millis(100))
        .run(async {
            let _ = stopped.await;
        }),
    );
    while started.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = stop.send(());
    let outcome = worker.await.expect("worker");
    assert_eq!(outcome.handed_back, 2);
    for id in ["evt_a", "evt_b"] {
        let (state, attempts, _) = show(&**inbox.store(), id).await;
        assert_eq!(
            (state, attempts),
            (State::Pending, 0),
            "{id} is handed back uncounted"
        );
    }
    // Handed back means due now: a new worker takes them at once.
    let worker = fast(inbox.worker(|_: Delivery| async { Ok::<(), String>(()) }));
    run_until(worker, Arc::clone(inbox.store()), |s| s.done == 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_dedup_an_event_whose_claim_is_done_is_not_handled_again() {
    // The state a crash leaves between the claim's commit and marking the
    // entry done: the claim is done, the entry is not.
    let dedup = Deduplicator::in_memory();
    dedup
        .claim_id("evt_crashed")
        .await
        .expect("claim")
        .commit()
        .await
        .expect("commit");
    let inbox = Inbox::new(MemoryStore::new());
    accept(&inbox, "evt_crashed").await;
    accept(&inbox, "evt_fresh").await;
    let handled = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&handled);
    let worker = fast(inbox.worker(move |delivery: Delivery| {
        seen.lock().expect("lock").push(delivery.id.clone());
        async { Ok::<(), String>(()) }
    }))
    .dedup(dedup.clone());
    run_until(worker, Arc::clone(inbox.store()), |s| s.done == 2).await;
    assert_eq!(*handled.lock().expect("lock"), ["evt_fresh"]);
    // The handled event's claim was committed too.
    assert!(dedup.claim_id("evt_fresh").await.is_err());
}
