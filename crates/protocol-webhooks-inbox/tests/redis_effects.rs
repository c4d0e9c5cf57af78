//! `RedisStore::complete_with` against a real Redis (`REDIS_URL`): the
//! handler's Redis writes and the entry's done in one script, so that they
//! happen together, once, and never for an attempt whose lease ended.

// The private servers are for the tests that stop Redis, not these.
#[allow(dead_code)]
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use protocol_webhooks::dedup::StoreError;
use protocol_webhooks_inbox::redis::{self, AsyncCommands};
use protocol_webhooks_inbox::{Delivery, Inbox, InboxStore, RedisStore, State};
use support::{forget, raw, redis_url, unique_prefix};
use tokio::sync::oneshot;

fn body(id: &str) -> Vec<u8> {
    format!(r#"{{"id":"{id}","type":"message.created","payload":{{"id":"msg_{id}"}}}}"#)
        .into_bytes()
}

async fn open(prefix: &str) -> RedisStore {
    RedisStore::options()
        .prefix(prefix)
        .open(&redis_url())
        .await
        .unwrap_or_else(|error| panic!("cannot open REDIS_URL: {error:?}"))
}

/// `RPUSH key id`: the effect every handler here writes.
fn push(key: &str, id: &str) -> redis::Cmd {
    let mut command = redis::cmd("RPUSH");
    command.arg(key).arg(id);
    command
}

/// Runs a worker on `inbox` with `handler` until `done` entries are done.
async fn run_until_done<H, Fut>(inbox: &Inbox, handler: H, lease: Duration, done: u64)
where
    H: Fn(Delivery) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let (stop, stopped) = oneshot::channel::<()>();
    let worker = tokio::spawn(
        inbox
            .worker(handler)
            .concurrency(4)
            .lease(lease)
            .backoff(Duration::from_millis(10), Duration::from_millis(50))
            .poll_interval(Duration::from_millis(10))
            .run(async {
                let _ = stopped.await;
            }),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stats = inbox.store().stats().await.expect("stats");
        if stats.done == done {
            break;
        }
        assert!(Instant::now() < deadline, "timed out; stats {stats:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(());
    worker.await.expect("worker");
}

async fn list(key: &str) -> Vec<String> {
    let mut connection = raw(&redis_url()).await;
    connection.lrange(key, 0, -1).await.expect("LRANGE")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_effects_and_the_done_happen_together_once_per_event() {
    const EVENTS: usize = 50;
    let prefix = unique_prefix();
    let store = open(&prefix).await;
    let effects = store.key("handled");
    let inbox = Inbox::new(store.clone());
    for n in 0..EVENTS {
        let _accepted = inbox
            .accept_bytes(&body(&format!("evt_{n}")))
            .await
            .expect("accept");
    }
    let handler = {
        let (store, effects) = (store.clone(), effects.clone());
        move |delivery: Delivery| {
            let (store, effects) = (store.clone(), effects.clone());
            async move {
                store
                    .complete_with(&delivery, &[push(&effects, &delivery.id)])
                    .await
                    .map_err(|error| error.to_string())
            }
        }
    };
    run_until_done(&inbox, handler, Duration::from_secs(60), EVENTS as u64).await;
    let mut handled = list(&effects).await;
    handled.sort();
    let mut expected: Vec<String> = (0..EVENTS).map(|n| format!("evt_{n}")).collect();
    expected.sort();
    assert_eq!(handled, expected, "each event's effect exactly once");
    let stats = store.stats().await.expect("stats");
    assert_eq!(stats.get(State::Done), EVENTS as u64, "{stats:?}");
    assert_eq!(stats.get(State::InFlight), 0, "{stats:?}");
    forget(&prefix).await;
}

/// Each attempt's number and what `complete_with` answered it.
type Outcomes = Arc<Mutex<Vec<(u32, Result<(), String>)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_whose_lease_ended_runs_no_effect() {
    let prefix = unique_prefix();
    let store = open(&prefix).await;
    let effects = store.key("handled");
    let inbox = Inbox::new(store.clone());
    let _accepted = inbox.accept_bytes(&body("evt_slow")).await.expect("accept");
    let outcomes: Outcomes = Arc::default();
    let handler = {
        let (store, effects, outcomes) = (store.clone(), effects.clone(), Arc::clone(&outcomes));
        move |delivery: Delivery| {
            let (store, effects, outcomes) =
                (store.clone(), effects.clone(), Arc::clone(&outcomes));
            async move {
                // The first attempt outlives its lease: the second takes
                // the entry over meanwhile and completes it.
                if delivery.attempt == 1 {
                    tokio::time::sleep(Duration::from_millis(1_500)).await;
                }
                let outcome = store
                    .complete_with(&delivery, &[push(&effects, &delivery.id)])
                    .await
                    .map_err(|error| format!("{error:?}"));
                outcomes
                    .lock()
                    .expect("lock")
                    .push((delivery.attempt, outcome.clone()));
                outcome
            }
        }
    };
    run_until_done(&inbox, handler, Duration::from_millis(400), 1).await;
    // The first attempt finishes after the entry was done.
    let deadline = Instant::now() + Duration::from_secs(5);
    while outcomes.lock().expect("lock").len() < 2 {
        assert!(Instant::now() < deadline, "the first attempt never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut outcomes = outcomes.lock().expect("lock").clone();
    outcomes.sort_by_key(|(attempt, _)| *attempt);
    assert_eq!(outcomes[0].0, 1);
    assert_eq!(outcomes[0].1, Err(format!("{:?}", StoreError::LostClaim)));
    assert!(outcomes[1].1.is_ok(), "{outcomes:?}");
    assert_eq!(list(&effects).await, ["evt_slow"], "one effect only");
    forget(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_effect_leaves_the_entry_to_be_handled_again() {
    let prefix = unique_prefix();
    let store = open(&prefix).await;
    let effects = store.key("handled");
    let not_a_counter = store.key("not-a-counter");
    let mut connection = raw(&redis_url()).await;
    let () = connection
        .hset(&not_a_counter, "field", "value")
        .await
        .expect("HSET");
    let inbox = Inbox::new(store.clone());
    let _accepted = inbox
        .accept_bytes(&body("evt_fails"))
        .await
        .expect("accept");
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let handler = {
        let (store, effects, errors) = (store.clone(), effects.clone(), Arc::clone(&errors));
        move |delivery: Delivery| {
            let (store, effects, not_a_counter, errors) = (
                store.clone(),
                effects.clone(),
                not_a_counter.clone(),
                Arc::clone(&errors),
            );
            async move {
                let mut effect = vec![push(&effects, &delivery.id)];
                if delivery.attempt == 1 {
                    // INCR on a hash: Redis refuses it, mid-script.
                    let mut incr = redis::cmd("INCR");
                    incr.arg(&not_a_counter);
                    effect.push(incr);
                }
                let outcome = store.complete_with(&delivery, &effect).await;
                if let Err(error) = &outcome {
                    let cause = std::error::Error::source(error)
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    errors
                        .lock()
                        .expect("lock")
                        .push(format!("{error}: {cause}"));
                }
                outcome.map_err(|error| error.to_string())
            }
        }
    };
    run_until_done(&inbox, handler, Duration::from_secs(60), 1).await;
    let errors = errors.lock().expect("lock").clone();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("WRONGTYPE"), "{errors:?}");
    // Redis has no rollback: the push before the refused command stayed,
    // and the second attempt pushed again. What the docs warn of.
    assert_eq!(list(&effects).await, ["evt_fails", "evt_fails"]);
    let entry = store.show("evt_fails").await.expect("show").expect("entry");
    assert_eq!(entry.summary.state, State::Done);
    assert_eq!(entry.summary.attempts, 2);
    forget(&prefix).await;
}
