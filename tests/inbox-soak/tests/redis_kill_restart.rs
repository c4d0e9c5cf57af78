//! The inbox on Redis, shared by four processes of the example: two
//! receiver replicas (`ROLE=receiver`, two ports) and two workers
//! (`ROLE=worker`), all on one Redis server of the test's own (append-only
//! file, `appendfsync always`) under one key prefix. Clients spread signed
//! events over both receivers, each delivered again until it is answered
//! 2xx, while any of the four processes is SIGKILLed at random intervals
//! (0.5 to 2 s) and started again, and the handler fails a fifth of its
//! attempts. The kills go on through the workers' drain. Then every event
//! answered 2xx must have been handled: none lost.
//!
//! Both workers append to one success log: each line is one `write` of
//! `id\n` on a file opened with `O_APPEND`, which Linux appends whole on a
//! local filesystem, so lines of the two processes do not interleave (a
//! torn line would be counted as unknown and fail the test).
//!
//! Duplicates come from a worker killed between a handler's effect and the
//! inbox's done: counted, and bounded by kills × concurrent handlers per
//! process. A killed receiver makes none.
//!
//! `INBOX_SOAK_EVENTS` sets the number of events (default 1,500).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use protocol_webhooks_inbox_soak::{
    Deliveries, Example, Handled, REDIS_CI_EVENTS, RedisInbox, RedisServer, Report, Settings,
    binaries, deliver_all, event_id, read_lines, redis_example_env,
};

/// Handlers each worker process runs at once.
const CONCURRENCY: usize = 4;

#[test]
fn every_acknowledged_event_is_handled_by_replicas_through_sigkills() {
    let settings = Settings::from_env_with(REDIS_CI_EVENTS).expect("soak settings");
    let binaries = binaries();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let redis_dir = dir.path().join("redis");
    std::fs::create_dir(&redis_dir).expect("the Redis folder");
    let redis = RedisServer::start(&redis_dir);
    let url = redis.url();
    let prefix = format!("inbox-soak-{}", std::process::id());
    let inbox = RedisInbox::new(&url, &prefix);
    let handled_log = dir.path().join("handled.log");
    let env = |role| redis_example_env(role, &url, &prefix, &handled_log, CONCURRENCY);
    let log = |name: &str| dir.path().join(format!("{name}.log"));
    let mut processes = vec![
        Example::new(&binaries.example, &log("receiver-1"), &env("receiver")),
        Example::new(&binaries.example, &log("receiver-2"), &env("receiver")),
        Example::worker(&binaries.example, &log("worker-1"), &env("worker")),
        Example::worker(&binaries.example, &log("worker-2"), &env("worker")),
    ];
    let started = Instant::now();
    let deadline = started + settings.deadline;
    for process in &mut processes {
        process.start();
    }
    let urls = [processes[0].url(), processes[1].url()];

    // The killer: SIGKILL any of the four, start it again, until the
    // deliveries are done, the workers drained the inbox, and there were
    // at least `min_kills` kills.
    let delivered = Arc::new(AtomicBool::new(false));
    let killer = std::thread::spawn({
        let delivered = Arc::clone(&delivered);
        let min_kills = settings.min_kills;
        move || {
            let mut kills = [0; 4];
            loop {
                let wait = Duration::from_millis(fastrand::u64(500..=2_000));
                std::thread::sleep(wait);
                let total: usize = kills.iter().sum();
                let finished =
                    delivered.load(Ordering::SeqCst) && total >= min_kills && inbox.busy() == 0;
                if finished || Instant::now() > deadline {
                    return (processes, kills, inbox);
                }
                let victim = fastrand::usize(..processes.len());
                processes[victim].kill();
                kills[victim] += 1;
                processes[victim].start();
            }
        }
    });

    let outcomes = deliver_all(
        &[Deliveries::new(&urls[0]), Deliveries::new(&urls[1])],
        settings.events,
        settings.clients,
        Duration::ZERO,
        deadline,
        None,
    );
    delivered.store(true, Ordering::SeqCst);
    let (mut processes, kills, inbox) = killer.join().expect("the killer thread");

    while inbox.busy() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let elapsed = started.elapsed();
    let mut stopped_cleanly = true;
    for (index, process) in processes.iter_mut().enumerate() {
        let status = process.terminate();
        let worker_stopped = index < 2 || process.count_lines("worker stopped") > 0;
        stopped_cleanly &= status.success() && worker_stopped;
    }
    let stats = inbox.stats().unwrap_or_else(|error| panic!("{error}"));

    let sent: HashSet<String> = (0..settings.events).map(event_id).collect();
    let mut report = Report {
        sent: settings.events,
        kills: kills.iter().sum(),
        starts: processes.iter().map(Example::starts).sum(),
        concurrency: CONCURRENCY,
        inbox: stats,
        stopped_cleanly,
        elapsed,
        ..Report::default()
    };
    let acknowledged = report.tally(outcomes);
    report.handled = Handled::count(&sent, &acknowledged, &read_lines(&handled_log));
    eprintln!(
        "Redis: 2 receivers + 2 workers, kills per process (receiver 1, receiver 2, \
         worker 1, worker 2): {kills:?}"
    );
    eprintln!("{report}");
    let problems = report.problems();
    let tails: Vec<String> = processes
        .iter()
        .map(|process| {
            process
                .tail()
                .lines()
                .rev()
                .take(10)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    assert!(
        problems.is_empty(),
        "{}\nthe processes' last log lines (newest first):\n{}\nredis-server:\n{}",
        problems.join("\n"),
        tails.join("\n--\n"),
        redis.tail()
    );
}
