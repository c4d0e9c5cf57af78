//! Redis is SIGKILLed while events arrive, stays down for a few seconds,
//! and is started again on the same port and data (append-only file,
//! `appendfsync always`). One receiver and one worker, the handler failing
//! a fifth of its attempts.
//!
//! While Redis is down the receiver cannot store an event, so it must not
//! acknowledge one: every request sent after the kill and answered before
//! the restart must get a 503 with `Retry-After` (or no answer), never a
//! 2xx. A 2xx answered just before the kill was written and synced by
//! Redis before its answer, so it survives: the check for it is that every
//! event acknowledged at any time is handled at the end. The clients
//! deliver each event again until a 2xx, so once Redis is back every event
//! is stored and handled.
//!
//! A handler running when Redis died has pushed its event's id onto
//! `{prefix}:handled` and marked the event done, or neither: both are one
//! script, which Redis writes to its append-only file as one
//! `MULTI`/`EXEC`, dropping an unfinished one when it loads the file. The
//! worker takes an event with neither again after its lease. So every
//! event acknowledged must be in the list exactly once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use protocol_webhooks_inbox_soak::{
    Answer, Deliveries, Example, Handled, PrivateRedis, RedisInbox, Report, binaries, deliver_all,
    event_id, redis_example_env,
};

/// Events sent.
const EVENTS: usize = 800;
/// Concurrent clients.
const CLIENTS: usize = 8;
/// What a client waits between two events: the sending lasts a few
/// seconds, across the outage.
const PACE: Duration = Duration::from_millis(15);
/// Handlers the worker runs at once.
const CONCURRENCY: usize = 4;
/// When Redis is killed, after the first event.
const KILL_AFTER: Duration = Duration::from_millis(1_000);
/// How long Redis stays down.
const OUTAGE: Duration = Duration::from_secs(3);
/// The whole run's limit.
const DEADLINE: Duration = Duration::from_secs(90);

#[test]
fn no_event_is_acknowledged_while_redis_is_down_and_none_is_lost() {
    let binaries = binaries();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut redis = PrivateRedis::start_durable();
    let url = redis.url();
    let prefix = format!("inbox-outage-{}", std::process::id());
    let inbox = RedisInbox::new(&url, &prefix);
    let env = |role| redis_example_env(role, &url, &prefix, CONCURRENCY);
    let mut receiver = Example::new(
        &binaries.example,
        &dir.path().join("receiver.log"),
        &env("receiver"),
    );
    let mut worker = Example::worker(
        &binaries.example,
        &dir.path().join("worker.log"),
        &env("worker"),
    );
    receiver.start();
    worker.start();
    let started = Instant::now();
    let deadline = started + DEADLINE;

    // The outage: Redis killed `KILL_AFTER` into the sending, started
    // again `OUTAGE` later. The times bracket the outage: a request sent
    // after `down` and answered before `up` met no Redis.
    let outage = std::thread::spawn(move || {
        std::thread::sleep(KILL_AFTER);
        redis.kill();
        let down = Instant::now();
        std::thread::sleep(OUTAGE);
        let up = Instant::now();
        redis.restart();
        (redis, down, up)
    });
    let answers = Arc::new(Mutex::new(Vec::new()));
    let outcomes = deliver_all(
        &[Deliveries::new(&receiver.url())],
        EVENTS,
        CLIENTS,
        PACE,
        deadline,
        Some(&answers),
    );
    let (redis, down, up) = outage.join().expect("the outage thread");

    while inbox.busy() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let elapsed = started.elapsed();
    let receiver_status = receiver.terminate();
    let worker_status = worker.terminate();
    let stopped_cleanly = receiver_status.success()
        && worker_status.success()
        && worker.count_lines("worker stopped") > 0;
    let stats = inbox.stats().unwrap_or_else(|error| panic!("{error}"));

    // Every answer to a request that met no Redis.
    let answers = answers.lock().expect("answers");
    let during: Vec<&(String, Answer)> = answers
        .iter()
        .filter(|(_, answer)| answer.sent >= down && answer.answered <= up)
        .collect();
    let count = |matches: &dyn Fn(&Answer) -> bool| {
        during.iter().filter(|(_, answer)| matches(answer)).count()
    };
    let unavailable = count(&|answer| answer.status == Some(503) && answer.retry_after);
    let no_answer = count(&|answer| answer.status.is_none());
    let acknowledged_while_down: Vec<&String> = during
        .iter()
        .filter(|(_, answer)| answer.status.is_some_and(|status| status < 300))
        .map(|(id, _)| id)
        .collect();
    let other: Vec<Option<u16>> = during
        .iter()
        .map(|(_, answer)| answer)
        .filter(|answer| {
            answer.status.is_some() && !(answer.status == Some(503) && answer.retry_after)
        })
        .map(|answer| answer.status)
        .collect();

    let sent: HashSet<String> = (0..EVENTS).map(event_id).collect();
    let mut report = Report {
        sent: EVENTS,
        kills: 1,
        starts: redis.starts(),
        concurrency: CONCURRENCY,
        exactly_once: true,
        inbox: stats,
        stopped_cleanly,
        elapsed,
        ..Report::default()
    };
    let acknowledged = report.tally(outcomes);
    let handled = inbox
        .handled()
        .unwrap_or_else(|error| panic!("the handled ids: {error}"));
    report.handled = Handled::count(&sent, &acknowledged, &handled);
    eprintln!(
        "Redis outage: SIGKILLed {KILL_AFTER:?} into the sending, down {:.1?}",
        up - down
    );
    eprintln!("  requests while down        {}", during.len());
    eprintln!("  ... 503 with Retry-After   {unavailable}");
    eprintln!("  ... no answer              {no_answer}");
    eprintln!(
        "  ... 2xx                    {}",
        acknowledged_while_down.len()
    );
    eprintln!("  ... anything else          {}", other.len());
    eprintln!("(the kill below is Redis's; starts are redis-server's)\n{report}");

    let mut problems = report.problems();
    if !acknowledged_while_down.is_empty() {
        problems.push(format!(
            "{} requests were answered 2xx while Redis was down: {:?}",
            acknowledged_while_down.len(),
            &acknowledged_while_down[..acknowledged_while_down.len().min(10)]
        ));
    }
    if !other.is_empty() {
        problems.push(format!(
            "answers while Redis was down that are no 503 with Retry-After: {:?}",
            &other[..other.len().min(10)]
        ));
    }
    if unavailable == 0 {
        problems.push("no request was answered 503 while Redis was down".to_owned());
    }
    assert!(
        problems.is_empty(),
        "{}\nthe receiver's last log lines:\n{}\nthe worker's:\n{}\nredis-server:\n{}",
        problems.join("\n"),
        receiver.tail(),
        worker.tail(),
        redis.tail()
    );
}
