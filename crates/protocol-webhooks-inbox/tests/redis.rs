//! `RedisStore` against a real Redis: the key layout, several workers on
//! one inbox, a worker killed mid-handler, Redis stopped and restarted,
//! waiting for replicas. The shared server comes from `REDIS_URL`; tests
//! that stop Redis run their own `redis-server`.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use protocol_webhooks::dedup::StoreError;
use protocol_webhooks_inbox::redis::{self, AsyncCommands};
use protocol_webhooks_inbox::{
    AcceptError, Accepted, Delivery, Inbox, InboxStore, NewEntry, RedisStore, State, Stats,
};
use protocol_webhooks_test_redis::{PrivateRedis, free_port};
use support::{forget, raw, redis_url, unique_prefix};
use tokio::sync::oneshot;

fn body(id: &str) -> Vec<u8> {
    format!(r#"{{"id":"{id}","type":"message.created","payload":{{"id":"msg_{id}"}}}}"#)
        .into_bytes()
}

/// A store on the shared server under `prefix`, as one replica opens it.
async fn replica(prefix: &str, consumer: &str) -> RedisStore {
    RedisStore::options()
        .prefix(prefix)
        .consumer(consumer)
        .open(&redis_url())
        .await
        .unwrap_or_else(|error| panic!("cannot open REDIS_URL: {error:?}"))
}

/// Waits until `done` holds for the store's stats, for at most `within`.
async fn wait_for(store: &dyn InboxStore, within: Duration, done: impl Fn(&Stats) -> bool) {
    let deadline = Instant::now() + within;
    loop {
        let stats = store.stats().await.expect("stats");
        if done(&stats) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out; stats {stats:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exact_body_is_kept_and_the_stream_holds_only_due_entries() {
    let prefix = unique_prefix();
    let store = replica(&prefix, "one").await;
    let body: Vec<u8> = vec![0x00, 0xff, b'{', 0x80, b'\n', 0xfe];
    let accepted = store
        .accept(NewEntry {
            id: String::from("evt_bytes"),
            event_type: String::from("message.created"),
            body: body.clone(),
        })
        .await
        .expect("accept");
    assert_eq!(
        accepted,
        Accepted::Stored {
            event_id: String::from("evt_bytes")
        }
    );
    let mut connection = raw(&redis_url()).await;
    let entry_key = format!("{{{prefix}}}:entry:evt_bytes");
    let stored: Vec<u8> = connection.hget(&entry_key, "body").await.expect("HGET");
    assert_eq!(stored, body, "the body is kept byte for byte");
    let state: String = connection.hget(&entry_key, "state").await.expect("HGET");
    assert_eq!(state, "pending");
    let stream = store.stream_key().to_owned();
    assert_eq!(stream, format!("{{{prefix}}}:stream"));
    let length: usize = redis::cmd("XLEN")
        .arg(&stream)
        .query_async(&mut connection)
        .await
        .expect("XLEN");
    assert_eq!(length, 1, "the accepted entry is in the stream");

    let taken = store
        .take(Duration::from_secs(60), 10, 3)
        .await
        .expect("take");
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].body, body, "take hands out the exact bytes");
    let pending: redis::Value = redis::cmd("XPENDING")
        .arg(&stream)
        .arg(store.group())
        .query_async(&mut connection)
        .await
        .expect("XPENDING");
    let redis::Value::Array(summary) = pending else {
        panic!("XPENDING summary: {pending:?}");
    };
    assert_eq!(summary.first(), Some(&redis::Value::Int(1)), "{summary:?}");

    store
        .complete("evt_bytes", &taken[0].token)
        .await
        .expect("complete");
    let length: usize = redis::cmd("XLEN")
        .arg(&stream)
        .query_async(&mut connection)
        .await
        .expect("XLEN");
    assert_eq!(length, 0, "a done entry's message is deleted");
    let pending: redis::Value = redis::cmd("XPENDING")
        .arg(&stream)
        .arg(store.group())
        .query_async(&mut connection)
        .await
        .expect("XPENDING");
    let redis::Value::Array(summary) = pending else {
        panic!("XPENDING summary: {pending:?}");
    };
    assert_eq!(summary.first(), Some(&redis::Value::Int(0)), "acknowledged");
    assert_eq!(
        store
            .show("evt_bytes")
            .await
            .expect("show")
            .map(|e| e.summary.state),
        Some(State::Done)
    );
    forget(&prefix).await;
}

/// A handler that records which worker handled which event, how often.
type Seen = Arc<Mutex<HashMap<String, Vec<&'static str>>>>;

fn recording(
    name: &'static str,
    seen: Seen,
) -> impl Fn(Delivery) -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>
+ Send
+ Sync
+ 'static {
    move |delivery: Delivery| {
        let seen = Arc::clone(&seen);
        Box::pin(async move {
            // Long enough that both workers have handlers running.
            tokio::time::sleep(Duration::from_millis(5)).await;
            seen.lock()
                .expect("lock")
                .entry(delivery.event.id.clone())
                .or_default()
                .push(name);
            Ok(())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_redis_both_progress_and_handle_each_event_once() {
    const EVENTS: usize = 200;
    let prefix = unique_prefix();
    let inboxes = [
        Inbox::new(replica(&prefix, "worker-a").await),
        Inbox::new(replica(&prefix, "worker-b").await),
    ];
    let seen: Seen = Arc::default();
    let mut stops = Vec::new();
    let mut workers = Vec::new();
    for (inbox, name) in inboxes.iter().zip(["a", "b"]) {
        let (stop, stopped) = oneshot::channel::<()>();
        stops.push(stop);
        workers.push(tokio::spawn(
            inbox
                .worker(recording(name, Arc::clone(&seen)))
                .concurrency(4)
                .poll_interval(Duration::from_millis(10))
                .run(async {
                    let _ = stopped.await;
                }),
        ));
    }
    // Receivers on both replicas accept; each delivery arrives twice.
    for n in 0..EVENTS {
        let id = format!("evt_{n}");
        for inbox in [&inboxes[n % 2], &inboxes[(n + 1) % 2]] {
            let _accepted = inbox.accept_bytes(&body(&id)).await.expect("accept");
        }
    }
    wait_for(&**inboxes[0].store(), Duration::from_secs(30), |stats| {
        stats.done == EVENTS as u64
    })
    .await;
    for stop in stops {
        let _ = stop.send(());
    }
    for worker in workers {
        worker.await.expect("worker");
    }
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), EVENTS, "every event was handled");
    let twice: Vec<_> = seen.iter().filter(|(_, by)| by.len() != 1).collect();
    assert!(twice.is_empty(), "handled more than once: {twice:?}");
    let by_a = seen.values().filter(|by| by[0] == "a").count();
    let by_b = EVENTS - by_a;
    assert!(
        by_a > 0 && by_b > 0,
        "both workers make progress: a {by_a}, b {by_b}"
    );
    let stats = inboxes[1].store().stats().await.expect("stats");
    assert_eq!(stats.total(), EVENTS as u64, "{stats:?}");
    forget(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_entries_are_taken_over_after_the_lease() {
    const EVENTS: usize = 6;
    let lease = Duration::from_secs(1);
    let prefix = unique_prefix();
    let doomed = Inbox::new(replica(&prefix, "doomed").await);
    let survivor = Inbox::new(replica(&prefix, "survivor").await);
    for n in 0..EVENTS {
        let _accepted = doomed
            .accept_bytes(&body(&format!("evt_{n}")))
            .await
            .expect("accept");
    }

    // The first worker takes every entry, its handlers hang, and it is
    // killed: its task is aborted, nothing is handed back.
    let started = Arc::new(tokio::sync::Semaphore::new(0));
    let hung = {
        let started = Arc::clone(&started);
        doomed
            .worker(move |_delivery: Delivery| {
                started.add_permits(1);
                std::future::pending::<Result<(), String>>()
            })
            .concurrency(EVENTS)
            .lease(lease)
            .poll_interval(Duration::from_millis(10))
    };
    let killed = tokio::spawn(hung.run(std::future::pending()));
    let all_started = started.acquire_many(EVENTS as u32);
    tokio::time::timeout(Duration::from_secs(10), all_started)
        .await
        .expect("the first worker took every entry")
        .expect("semaphore")
        .forget();
    let taken_at = Instant::now();
    killed.abort();
    assert!(killed.await.expect_err("aborted").is_cancelled());
    let stats = survivor.store().stats().await.expect("stats");
    assert_eq!(stats.in_flight, EVENTS as u64, "{stats:?}");

    let attempts: Arc<Mutex<Vec<(String, u32, Duration)>>> = Arc::default();
    let (stop, stopped) = oneshot::channel::<()>();
    let worker = {
        let attempts = Arc::clone(&attempts);
        survivor
            .worker(move |delivery: Delivery| {
                attempts.lock().expect("lock").push((
                    delivery.event.id.clone(),
                    delivery.attempt,
                    taken_at.elapsed(),
                ));
                std::future::ready(Ok::<(), String>(()))
            })
            .poll_interval(Duration::from_millis(20))
            .run(async {
                let _ = stopped.await;
            })
    };
    let worker = tokio::spawn(worker);
    wait_for(&**survivor.store(), Duration::from_secs(10), |stats| {
        stats.done == EVENTS as u64
    })
    .await;
    let _ = stop.send(());
    worker.await.expect("worker");
    let attempts = attempts.lock().expect("lock").clone();
    assert_eq!(attempts.len(), EVENTS, "{attempts:?}");
    for (id, attempt, after) in attempts.iter() {
        assert_eq!(*attempt, 2, "{id}: the takeover is the second attempt");
        assert!(
            *after >= lease - Duration::from_millis(100),
            "{id} was taken over after {after:?}, before its lease ended"
        );
    }
    forget(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_redis_fails_accepts_quickly_and_a_restarted_one_keeps_them() {
    // Append-only file with `appendfsync always`: what the inbox requires
    // of Redis for an accept to survive a Redis crash.
    let mut server = PrivateRedis::start_durable();
    let store = RedisStore::options()
        .timeout(Duration::from_secs(1))
        .open(&server.url())
        .await
        .expect("open");
    let inbox = Inbox::new(store);
    let before = inbox
        .accept_bytes(&body("evt_before"))
        .await
        .expect("accept");
    assert!(matches!(before, Accepted::Stored { .. }));

    server.kill();
    let started = Instant::now();
    let refused = inbox.accept_bytes(&body("evt_during")).await;
    let waited = started.elapsed();
    let Err(AcceptError::Store { error, .. }) = refused else {
        panic!("an accept against a stopped Redis must fail, got {refused:?}");
    };
    assert!(
        matches!(error, StoreError::Unavailable(Some(_))),
        "{error:?}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "the accept took {waited:?}"
    );
    let answer = inbox
        .accept_bytes(&body("evt_during"))
        .await
        .expect_err("still stopped")
        .answer();
    assert_eq!(answer.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "two accepts took {:?}",
        started.elapsed()
    );
    assert!(
        inbox
            .store()
            .take(Duration::from_secs(60), 10, 3)
            .await
            .is_err()
    );

    server.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    let accepted = loop {
        match inbox.accept_bytes(&body("evt_during")).await {
            Ok(accepted) => break accepted,
            Err(AcceptError::Store { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(other) => panic!("accepts must work again after the restart: {other:?}"),
        }
    };
    assert!(matches!(accepted, Accepted::Stored { .. }), "{accepted:?}");
    // The entry accepted before the crash is still there, and due.
    let entry = inbox
        .store()
        .show("evt_before")
        .await
        .expect("show")
        .expect("the accept before the crash survived it");
    assert_eq!(entry.body, body("evt_before"));
    let mut taken: Vec<String> = inbox
        .store()
        .take(Duration::from_secs(60), 10, 3)
        .await
        .expect("take")
        .into_iter()
        .map(|taken| taken.id)
        .collect();
    taken.sort();
    assert_eq!(taken, ["evt_before", "evt_during"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_is_an_error_without_the_password() {
    let port = free_port();
    let url = format!("redis://:hunter2-secret@127.0.0.1:{port}");
    let started = Instant::now();
    let error = RedisStore::options()
        .timeout(Duration::from_millis(1500))
        .open(&url)
        .await
        .expect_err("nobody listens");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_no_secret(&error);
    assert!(matches!(error, StoreError::Unavailable(Some(_))));

    // A server that refuses the password.
    let server = PrivateRedis::start();
    let url = format!("redis://:hunter2-secret@127.0.0.1:{}", server.port());
    let error = RedisStore::open(&url).await.expect_err("wrong password");
    assert_no_secret(&error);

    // A store opened lazily answers each operation with the error.
    let lazy = RedisStore::options()
        .timeout(Duration::from_millis(500))
        .open_lazy(&format!("redis://:hunter2-secret@127.0.0.1:{port}"))
        .expect("lazy");
    let error = lazy.stats().await.expect_err("nobody listens");
    assert_no_secret(&error);
}

fn assert_no_secret(error: &StoreError) {
    let mut texts = vec![format!("{error}"), format!("{error:?}")];
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        texts.push(cause.to_string());
        source = cause.source();
    }
    for text in texts {
        assert!(!text.contains("hunter2"), "the password leaked: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_can_wait_for_replicas() {
    let primary = PrivateRedis::start();
    let replica = PrivateRedis::start_with(&[
        "--save",
        "",
        "--appendonly",
        "no",
        "--replicaof",
        "127.0.0.1",
        &primary.port().to_string(),
    ]);
    let waiting = RedisStore::options()
        .wait_replicas(1, Duration::from_secs(2))
        .open(&primary.url())
        .await
        .expect("open");
    // The replica may still be syncing: its first acknowledgement can take
    // a moment.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match waiting.accept(entry("evt_replicated")).await {
            Ok(_) => break,
            Err(StoreError::Unavailable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    let mut on_replica = raw(&replica.url()).await;
    let state: Option<String> = on_replica
        .hget(
            format!("{{{}}}:entry:evt_replicated", waiting.prefix()),
            "state",
        )
        .await
        .expect("HGET");
    assert_eq!(
        state.as_deref(),
        Some("pending"),
        "the replica has the entry"
    );
    // With the script cache emptied, the pipeline with `WAIT` loads the
    // scripts again and is sent once more.
    flush_scripts(&primary.url()).await;
    assert!(matches!(
        waiting.accept(entry("evt_after_flush")).await,
        Ok(Accepted::Stored { .. })
    ));
    drop(replica);

    // With the replica gone, the accept fails after the wait: a 503.
    let started = Instant::now();
    let refused = waiting.accept(entry("evt_alone")).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(Some(_)))),
        "{refused:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    let cause = std::error::Error::source(&refused.expect_err("refused"))
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(cause.contains("replicas acknowledged"), "{cause}");
    // The primary has it; a redelivery finds it.
    let plain = RedisStore::open(&primary.url()).await.expect("open");
    assert!(matches!(
        plain.accept(entry("evt_alone")).await,
        Ok(Accepted::AlreadyStored { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_are_loaded_on_first_use_and_again_after_a_flush() {
    let prefix = unique_prefix();
    let store = RedisStore::options()
        .prefix(&prefix)
        .open_lazy(&redis_url())
        .expect("open_lazy");
    assert!(matches!(
        store.accept(entry("evt_first")).await,
        Ok(Accepted::Stored { .. })
    ));
    flush_scripts(&redis_url()).await;
    assert!(matches!(
        store.accept(entry("evt_first")).await,
        Ok(Accepted::AlreadyStored { .. })
    ));
    assert!(matches!(
        store.accept(entry("evt_second")).await,
        Ok(Accepted::Stored { .. })
    ));
    flush_scripts(&redis_url()).await;
    let taken = store
        .take(Duration::from_secs(60), 10, 3)
        .await
        .expect("take");
    let ids: Vec<&str> = taken.iter().map(|taken| taken.id.as_str()).collect();
    assert_eq!(ids, ["evt_first", "evt_second"]);
    flush_scripts(&redis_url()).await;
    let stats = store.stats().await.expect("stats");
    assert_eq!(stats.get(State::InFlight), 2, "{stats:?}");
    forget(&prefix).await;
}

/// `SCRIPT FLUSH`: what a Redis restart does to the script cache.
async fn flush_scripts(url: &str) {
    let mut connection = raw(url).await;
    let () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut connection)
        .await
        .expect("SCRIPT FLUSH");
}

/// A store on `server` whose scripts are loaded already, so that what
/// follows sends accepts only.
async fn with_scripts_loaded(server: &PrivateRedis) -> RedisStore {
    let store = RedisStore::options()
        .prefix(unique_prefix())
        .open(&server.url())
        .await
        .expect("open");
    store.stats().await.expect("stats");
    store
}

fn entry(id: &str) -> NewEntry {
    NewEntry {
        id: id.to_owned(),
        event_type: String::from("message.created"),
        body: body(id),
    }
}

/// Concurrent accepts share script calls, and an id sent twice in one
/// batch is stored once: a server of its own counts the calls.
#[tokio::test(flavor = "current_thread")]
async fn concurrent_accepts_share_script_calls_and_each_id_is_stored_once() {
    const EVENTS: usize = 200;
    let server = PrivateRedis::start();
    let store = with_scripts_loaded(&server).await;
    let calls_before = script_calls(&server.url()).await;
    let mut accepts = tokio::task::JoinSet::new();
    for n in 0..2 * EVENTS {
        let store = store.clone();
        let id = format!("evt_batch_{}", n / 2);
        accepts.spawn(async move { store.accept(entry(&id)).await });
    }
    let outcomes = accepts.join_all().await;
    let calls = script_calls(&server.url()).await - calls_before;
    let stored = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Ok(Accepted::Stored { .. })))
        .count();
    let known = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Ok(Accepted::AlreadyStored { .. })))
        .count();
    assert_eq!((stored, known), (EVENTS, EVENTS), "{outcomes:?}");
    assert!(
        calls * 4 <= 2 * EVENTS as u64,
        "{} accepts took {calls} script calls",
        2 * EVENTS
    );
    let stats = store.stats().await.expect("stats");
    assert_eq!(stats.get(State::Pending), EVENTS as u64, "{stats:?}");
}

#[tokio::test]
async fn a_batch_with_known_ids_stores_only_the_new_ones_as_fresh_entries() {
    let prefix = unique_prefix();
    let store = replica(&prefix, "accepts").await;
    let accept_all = |ids: std::ops::Range<usize>| {
        let mut accepts = tokio::task::JoinSet::new();
        for n in ids {
            let store = store.clone();
            accepts.spawn(async move { store.accept(entry(&format!("evt_mixed_{n}"))).await });
        }
        accepts.join_all()
    };
    let first = accept_all(0..100).await;
    assert!(
        first
            .iter()
            .all(|outcome| matches!(outcome, Ok(Accepted::Stored { .. })))
    );
    let second = accept_all(50..250).await;
    let mut stored: Vec<String> = Vec::new();
    let mut known: Vec<String> = Vec::new();
    for outcome in second {
        match outcome {
            Ok(Accepted::Stored { event_id }) => stored.push(event_id),
            Ok(Accepted::AlreadyStored { event_id }) => known.push(event_id),
            Err(error) => panic!("accept failed: {error}"),
        }
    }
    let ids = |range: std::ops::Range<usize>| -> std::collections::BTreeSet<String> {
        range.map(|n| format!("evt_mixed_{n}")).collect()
    };
    assert_eq!(
        stored
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        ids(100..250)
    );
    assert_eq!(
        known.into_iter().collect::<std::collections::BTreeSet<_>>(),
        ids(50..100)
    );

    let listed = store.list(None, 1_000).await.expect("list");
    assert_eq!(listed.len(), 250);
    for summary in &listed {
        assert_eq!(summary.state, State::Pending);
        assert_eq!(summary.attempts, 0, "{summary:?}");
        assert_eq!(summary.updated_at, summary.received_at, "{summary:?}");
        assert_eq!(summary.due_at, summary.received_at, "{summary:?}");
    }
    let shown = store
        .show("evt_mixed_7")
        .await
        .expect("show")
        .expect("stored");
    assert_eq!(shown.summary.attempts, 0);
    assert_eq!(shown.summary.due_at, shown.summary.received_at);
    forget(&prefix).await;
}

/// An accept whose caller has gone while it waited for its batch is left
/// out of the batch, so a refused event never looks stored, and its
/// redelivery is stored as new. Redis is frozen while the four calls the
/// batcher sends at once are under way, so the next accepts queue.
#[tokio::test(flavor = "current_thread")]
async fn an_accept_whose_caller_has_gone_before_its_batch_is_sent_is_not_stored() {
    let server = PrivateRedis::start();
    // Its scripts are loaded before Redis is frozen.
    let store = with_scripts_loaded(&server).await;
    let accept = |id: &str| {
        let store = store.clone();
        let entry = entry(id);
        tokio::spawn(async move { store.accept(entry).await })
    };
    let pause = || tokio::time::sleep(Duration::from_millis(50));

    server.pause();
    let mut under_way = Vec::new();
    for n in 0..4 {
        // Each goes alone: the batcher sends at once what is queued.
        under_way.push((format!("evt_sent_{n}"), accept(&format!("evt_sent_{n}"))));
        pause().await;
    }
    let gone = accept("evt_gone");
    pause().await;
    gone.abort();
    assert!(gone.await.expect_err("aborted").is_cancelled());
    let waiting = accept("evt_waiting");
    pause().await;
    server.resume();

    under_way.push((String::from("evt_waiting"), waiting));
    for (id, task) in under_way {
        let outcome = task.await.expect("joined").expect("accepted");
        assert_eq!(outcome, Accepted::Stored { event_id: id });
    }
    assert!(store.show("evt_gone").await.expect("show").is_none());
    let redelivered = accept("evt_gone").await.expect("joined").expect("accepted");
    assert_eq!(
        redelivered,
        Accepted::Stored {
            event_id: String::from("evt_gone")
        }
    );
}

/// `EVALSHA` calls the server has run so far.
async fn script_calls(url: &str) -> u64 {
    let mut connection = raw(url).await;
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut connection)
        .await
        .expect("INFO commandstats");
    info.lines()
        .find_map(|line| line.strip_prefix("cmdstat_evalsha:calls="))
        .and_then(|rest| rest.split(',').next())
        .and_then(|calls| calls.parse().ok())
        .unwrap_or(0)
}
