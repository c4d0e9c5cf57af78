//! The inbox on Redis, shared by four processes of the example: two
//! receiver replicas (`ROLE=receiver`, two ports) and two workers
//! (`ROLE=worker`), all on one Redis server of the test's own (append-only
//! file, `appendfsync always`) under one key prefix. Clients spread signed
//! events over both receivers, each delivered again until it is answered
//! 2xx, while any of the four processes is SIGKILLed at random intervals
//! (0.5 to 2 s) and started again, and the handler fails a fifth of its
//! attempts. The kills go on through the workers' drain. Then every event
//! answered 2xx must have been handled exactly once: none lost, none twice.
//!
//! The handler's effect is the event's id pushed onto the list
//! `{prefix}:handled` by `RedisStore::complete_with`, in the one Lua script
//! that marks the event done, and only while the attempt holds the lease.
//! The worker alone is at least once: a kill after an effect and before the
//! done repeats the effect. Here no such moment exists: Redis runs the
//! script whole or not at all, so a killed worker left both the push and
//! the done, or neither, and the event is then handled again after its
//! lease. A late attempt whose lease another took over runs nothing. So
//! the test asserts that no id is in the list twice; a list, not a set, so
//! that a second handling would show rather than be absorbed.
//!
//! `INBOX_SOAK_EVENTS` sets the number of events (default 1,500).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use protocol_webhooks_inbox_soak::{
    Deliveries, Example, Handled, PrivateRedis, REDIS_CI_EVENTS, RedisInbox, Report, Settings,
    binaries, deliver_all, event_id, redis_example_env,
};

/// Handlers each worker process runs at once.
const CONCURRENCY: usize = 4;

#[test]
fn every_acknowledged_event_is_handled_by_replicas_through_sigkills() {
    let settings = Settings::from_env_with(REDIS_CI_EVENTS).expect("soak settings");
    let binaries = binaries();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let redis = PrivateRedis::start_durable();
    let url = redis.url();
    let prefix = format!("inbox-soak-{}", std::process::id());
    let inbox = RedisInbox::new(&url, &prefix);
    let env = |role| redis_example_env(role, &url, &prefix, CONCURRENCY);
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
