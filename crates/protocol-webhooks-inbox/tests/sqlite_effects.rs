//! Handler effects in the inbox's own SQLite file, written in the
//! transaction that marks the entry done (`SqliteStore::complete_in`):
//! both commit together or neither does, a lease taken over cannot commit,
//! and the worker leaves such entries to the handler's transaction.

use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use protocol_webhooks::dedup::Deduplicator;
use protocol_webhooks_inbox::rusqlite::{Connection, Transaction, TransactionBehavior, params};
use protocol_webhooks_inbox::{
    Delivery, Inbox, InboxStore, ManualClock, SqliteStore, State, Stats, StoreError, Worker,
};
use tokio::sync::oneshot;
use tracing::field::{Field, Visit};
use tracing::{Level, span};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const EFFECTS: &str = "CREATE TABLE effects (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL)";
const COMPLETED: &str = "inbox: completed in the handler's transaction";

fn body(id: &str) -> Vec<u8> {
    format!(r#"{{"id":"{id}","type":"conversation.updated","payload":{{"id":"conv_1"}}}}"#)
        .into_bytes()
}

/// A store on a fresh file holding the `effects` table too.
fn store(dir: &tempfile::TempDir, clock: Option<&ManualClock>) -> SqliteStore {
    let path = dir.path().join("inbox.sqlite3");
    let mut options = SqliteStore::options();
    if let Some(clock) = clock {
        options = options.clock(clock.clone());
    }
    let store = options.open(path).expect("open");
    store
        .connection()
        .expect("connection")
        .execute_batch(EFFECTS)
        .expect("the effects table");
    store
}

/// An IMMEDIATE transaction on a new connection, as handlers open them.
fn begin(conn: &mut Connection) -> Transaction<'_> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .expect("BEGIN IMMEDIATE")
}

fn write_effect(tx: &Transaction<'_>, delivery: &Delivery) {
    tx.execute(
        "INSERT INTO effects (event_id) VALUES (?1)",
        params![delivery.id],
    )
    .expect("the effect");
}

/// What the worker awaits for each delivery.
type Handled = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

/// A handler as the docs show one, off the async runtime: on a connection of
/// its own, an IMMEDIATE transaction gets the event's effect and the
/// entry's done, then `finish` commits it, or not.
fn completing_handler<F>(
    store: &SqliteStore,
    finish: F,
) -> impl Fn(Delivery) -> Handled + Send + Sync + 'static
where
    F: Fn(&SqliteStore, Transaction<'_>, &Delivery) -> Result<(), BoxError> + Send + Sync + 'static,
{
    let (store, finish) = (store.clone(), Arc::new(finish));
    move |delivery: Delivery| {
        let (store, finish) = (store.clone(), Arc::clone(&finish));
        Box::pin(async move {
            tokio::task::spawn_blocking(move || -> Result<(), BoxError> {
                let mut conn = store.connection()?;
                let tx = begin(&mut conn);
                write_effect(&tx, &delivery);
                store.complete_in(&tx, &delivery)?;
                finish(&store, tx, &delivery)
            })
            .await?
        })
    }
}

/// What another connection sees: the entry's state and the effect rows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    state: String,
    effects: Vec<String>,
}

fn seen(store: &SqliteStore, id: &str) -> Seen {
    let conn = store.connection().expect("a reader");
    let state = conn
        .query_row(
            "SELECT state FROM inbox_entries WHERE id = ?1",
            params![id],
            |row| row.get(0),
        )
        .expect("the entry");
    let effects = conn
        .prepare("SELECT event_id FROM effects ORDER BY seq")
        .expect("select")
        .query_map([], |row| row.get(0))
        .expect("effects")
        .collect::<Result<_, _>>()
        .expect("effect rows");
    Seen { state, effects }
}

fn seen_done(id: &str, effects: usize) -> Seen {
    Seen {
        state: State::Done.to_string(),
        effects: vec![id.to_owned(); effects],
    }
}

/// The events logged on the thread running a test.
#[derive(Debug, Default, Clone)]
struct Logs(Arc<Mutex<Vec<(Level, String)>>>);

impl Logs {
    fn count(&self, message: &str) -> usize {
        let events = self.0.lock().expect("logs");
        events.iter().filter(|(_, text)| text == message).count()
    }

    /// Warnings and errors: the paths a clean run never takes.
    fn warnings(&self) -> Vec<(Level, String)> {
        let events = self.0.lock().expect("logs");
        events
            .iter()
            .filter(|(level, _)| *level <= Level::WARN)
            .cloned()
            .collect()
    }
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for Logs {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        let level = *event.metadata().level();
        self.0.lock().expect("logs").push((level, message.0));
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// Runs `test` on a one-thread runtime whose logs (the worker's tasks
/// included) are collected.
fn with_logs<F: Future<Output = ()>>(test: impl FnOnce(Logs) -> F) -> Logs {
    let logs = Logs::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tracing::subscriber::with_default(logs.clone(), || runtime.block_on(test(logs.clone())));
    logs
}

fn fast<H>(worker: Worker<H>) -> Worker<H> {
    worker
        .poll_interval(Duration::from_millis(5))
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
}

/// Waits until `done` holds for the store's stats (at most 10 s).
async fn wait_for(store: &dyn InboxStore, done: impl Fn(&Stats) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = store.stats().await.expect("stats");
        if done(&stats) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out; stats {stats:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs `worker` until `done` holds, then stops it.
async fn run_until<H, Fut, E>(worker: Worker<H>, inbox: &Inbox, done: impl Fn(&Stats) -> bool)
where
    H: Fn(Delivery) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
{
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    wait_for(&**inbox.store(), done).await;
    let _ = stop.send(());
    let stopped = running.await.expect("worker");
    assert_eq!(stopped.handed_back, 0);
}

async fn accept(inbox: &Inbox, id: &str) {
    let accepted = inbox.accept_bytes(&body(id)).await.expect("accept");
    assert_eq!(accepted.event_id(), id);
}

/// A store in `dir` and its inbox, holding one accepted event, `evt_1`.
async fn holding_one_event(
    dir: &tempfile::TempDir,
    clock: Option<&ManualClock>,
) -> (SqliteStore, Inbox) {
    let store = store(dir, clock);
    let inbox = Inbox::new(store.clone());
    accept(&inbox, "evt_1").await;
    (store, inbox)
}

#[test]
fn the_effect_and_the_done_commit_together() {
    let logs = with_logs(|_| async {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, inbox) = holding_one_event(&dir, None).await;
        let before_commit = Arc::new(Mutex::new(Vec::new()));
        let worker = fast(inbox.worker(completing_handler(&store, {
            let before_commit = Arc::clone(&before_commit);
            move |store, tx, delivery| {
                // Written, not committed: another connection sees neither
                // the effect nor the done.
                before_commit
                    .lock()
                    .expect("seen")
                    .push(seen(store, &delivery.id));
                tx.commit()?;
                Ok(())
            }
        })));
        run_until(worker, &inbox, |stats| stats.done == 1).await;

        let in_flight = Seen {
            state: State::InFlight.to_string(),
            effects: Vec::new(),
        };
        assert_eq!(*before_commit.lock().expect("seen"), [in_flight]);
        assert_eq!(seen(&store, "evt_1"), seen_done("evt_1", 1));
        let entry = inbox.store().show("evt_1").await.expect("show");
        assert_eq!(entry.expect("entry").summary.attempts, 1);
    });
    assert_eq!(logs.count(COMPLETED), 1);
    assert_eq!(logs.warnings(), []);
}

#[test]
fn a_rolled_back_transaction_leaves_the_entry_in_flight_until_its_lease_ends() {
    let logs = with_logs(|_| async {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = ManualClock::new();
        let (store, inbox) = holding_one_event(&dir, Some(&clock)).await;
        let calls = Arc::new(AtomicUsize::new(0));
        let lease = Duration::from_secs(30);
        let worker = fast(inbox.worker(completing_handler(&store, {
            let calls = Arc::clone(&calls);
            move |_, tx, delivery| {
                if delivery.attempt == 1 {
                    // Rolled back, yet the handler answers Ok.
                    drop(tx);
                } else {
                    tx.commit()?;
                }
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        })))
        .lease(lease);
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(worker.run(async {
            let _ = stopped.await;
        }));

        let deadline = Instant::now() + Duration::from_secs(10);
        while calls.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < deadline, "the handler never ran");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Many polls later: neither the rolled-back done nor the worker
        // marked it done, and nothing of the effect is visible.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let in_flight = Seen {
            state: State::InFlight.to_string(),
            effects: Vec::new(),
        };
        assert_eq!(seen(&store, "evt_1"), in_flight);
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // Once the lease ended, the worker takes it again.
        clock.advance(lease + Duration::from_secs(1));
        wait_for(&**inbox.store(), |stats| stats.done == 1).await;
        let _ = stop.send(());
        running.await.expect("worker");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(seen(&store, "evt_1"), seen_done("evt_1", 1));
        let entry = inbox.store().show("evt_1").await.expect("show");
        assert_eq!(entry.expect("entry").summary.attempts, 2);
    });
    assert_eq!(logs.count(COMPLETED), 2);
    assert_eq!(logs.warnings(), []);
}

/// The first attempt's handler, paused by the test between the start of
/// its attempt and its transaction.
struct Paused {
    started: Option<oneshot::Sender<()>>,
    go: Option<mpsc::Receiver<()>>,
    completed: Option<oneshot::Sender<Result<(), StoreError>>>,
}

#[test]
fn a_lease_taken_over_cannot_complete_and_its_rollback_leaves_no_effect() {
    let logs = with_logs(|_| async {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = ManualClock::new();
        let (store, inbox) = holding_one_event(&dir, Some(&clock)).await;
        let (started, first_started) = oneshot::channel();
        let (go, first_go) = mpsc::channel();
        let (completed, first_completed) = oneshot::channel();
        let paused = Arc::new(Mutex::new(Paused {
            started: Some(started),
            go: Some(first_go),
            completed: Some(completed),
        }));
        let lease = Duration::from_secs(1);
        let worker = fast(inbox.worker({
            let store = store.clone();
            move |delivery: Delivery| {
                let (store, paused) = (store.clone(), Arc::clone(&paused));
                async move {
                    tokio::task::spawn_blocking(move || -> Result<(), BoxError> {
                        let mut paused = paused.lock().expect("paused");
                        let (Some(started), Some(go), Some(completed)) = (
                            paused.started.take(),
                            paused.go.take(),
                            paused.completed.take(),
                        ) else {
                            return Err("only the first attempt runs here".into());
                        };
                        let _ = started.send(());
                        go.recv()?;
                        let mut conn = store.connection()?;
                        let tx = begin(&mut conn);
                        write_effect(&tx, &delivery);
                        let outcome = store.complete_in(&tx, &delivery);
                        let lost = outcome.is_err();
                        let _ = completed.send(outcome);
                        if lost {
                            // Dropped: rolled back, the effect with it.
                            return Err("the lease was taken over".into());
                        }
                        tx.commit()?;
                        Ok(())
                    })
                    .await?
                }
            }
        }))
        .lease(lease)
        // Busy with its paused handler, it cannot take the entry back.
        .concurrency(1);
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(worker.run(async {
            let _ = stopped.await;
        }));

        first_started.await.expect("the first attempt started");
        // The lease ends and another worker takes the entry over.
        clock.advance(lease + Duration::from_secs(1));
        let taken = inbox
            .store()
            .take(Duration::from_secs(60), 1, 5)
            .await
            .expect("take");
        assert_eq!(taken.len(), 1, "the ended lease is taken over");
        go.send(()).expect("resume the first attempt");
        let outcome = first_completed.await.expect("the first attempt completed");
        assert!(matches!(outcome, Err(StoreError::LostClaim)), "{outcome:?}");
        let in_flight = Seen {
            state: State::InFlight.to_string(),
            effects: Vec::new(),
        };
        assert_eq!(seen(&store, "evt_1"), in_flight);

        // The outcome is the new holder's.
        let new_holder = &taken[0];
        assert_eq!(new_holder.attempt, 2);
        inbox
            .store()
            .complete(&new_holder.id, &new_holder.token)
            .await
            .expect("the new holder completes");
        let _ = stop.send(());
        running.await.expect("worker");
        assert_eq!(seen(&store, "evt_1"), seen_done("evt_1", 0));
    });
    assert_eq!(logs.count(COMPLETED), 0);
}

/// Runs a worker over `events` events, every handler writing its effect
/// and the done in one transaction; gives the logs.
fn every_event_once(events: usize, dedup: Option<&Deduplicator>) -> Logs {
    with_logs(|_| async {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store(&dir, None);
        let inbox = Inbox::new(store.clone());
        let ids: Vec<String> = (0..events).map(|n| format!("evt_{n:03}")).collect();
        for id in &ids {
            accept(&inbox, id).await;
        }
        let mut worker = fast(inbox.worker(completing_handler(&store, |_, tx, _| {
            tx.commit()?;
            Ok(())
        })))
        .concurrency(4);
        if let Some(dedup) = dedup {
            worker = worker.dedup(dedup.clone());
        }
        run_until(worker, &inbox, |stats| stats.done == events as u64).await;

        let stats = inbox.store().stats().await.expect("stats");
        assert_eq!((stats.done, stats.total()), (events as u64, events as u64));
        for summary in inbox.store().list(None, events).await.expect("list") {
            assert_eq!(
                (summary.state, summary.attempts),
                (State::Done, 1),
                "{summary:?}"
            );
        }
        let conn = store.connection().expect("a reader");
        let mut effects: Vec<String> = conn
            .prepare("SELECT event_id FROM effects")
            .expect("select")
            .query_map([], |row| row.get(0))
            .expect("effects")
            .collect::<Result<_, _>>()
            .expect("effect rows");
        effects.sort();
        assert_eq!(effects, ids, "exactly one effect row per event");
        if let Some(dedup) = dedup {
            for id in &ids {
                assert!(dedup.claim_id(id).await.is_err(), "{id}'s claim is done");
            }
        }
    })
}

#[test]
fn a_worker_completing_in_its_handlers_transactions_handles_every_event_once() {
    let logs = every_event_once(40, None);
    assert_eq!(logs.count(COMPLETED), 40);
    assert_eq!(logs.count("inbox: event handled"), 0, "no second complete");
    assert_eq!(logs.warnings(), []);
}

#[test]
fn completing_in_the_handlers_transaction_works_with_dedup() {
    let dedup = Deduplicator::in_memory();
    let logs = every_event_once(20, Some(&dedup));
    assert_eq!(logs.count(COMPLETED), 20);
    assert_eq!(logs.warnings(), []);
}

#[test]
fn a_delivery_shows_its_lease_without_the_token() {
    let logs = with_logs(|_| async {
        let dir = tempfile::tempdir().expect("temp dir");
        let (_, inbox) = holding_one_event(&dir, None).await;
        let shown = Arc::new(Mutex::new(Vec::new()));
        let worker = fast(inbox.worker({
            let shown = Arc::clone(&shown);
            move |delivery: Delivery| {
                shown.lock().expect("shown").push((
                    delivery.lease().event_id().to_owned(),
                    format!("{delivery:?}"),
                ));
                async { Ok::<(), String>(()) }
            }
        }));
        run_until(worker, &inbox, |stats| stats.done == 1).await;
        let shown = shown.lock().expect("shown");
        let [(id, debug)] = &shown[..] else {
            panic!("one delivery: {shown:?}");
        };
        assert_eq!(id, "evt_1");
        assert!(
            debug.contains(r#"event_id: "evt_1", token: <token>"#),
            "{debug}"
        );
        assert!(!debug.contains("ClaimToken"), "{debug}");
    });
    // Without `complete_in`, the worker marks the entry done itself.
    assert_eq!(logs.count("inbox: event handled"), 1);
    assert_eq!(logs.count(COMPLETED), 0);
}
