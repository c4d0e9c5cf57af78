//! The inbox example is SIGKILLed at random intervals (0.5 to 2 s) and
//! started again on the same SQLite file and port, while clients deliver
//! signed events, each again until it is answered 2xx, and the handler
//! fails a fifth of its attempts. The kills go on through the worker's
//! drain, until nothing is pending or in flight. Then every event answered
//! 2xx must have been handled exactly once: none lost, none twice.
//!
//! The handler's effect is a row of the table `handled` in the inbox's own
//! file, inserted in the same `BEGIN IMMEDIATE` transaction that marks the
//! event done (`SqliteStore::complete_in`). The worker alone is at least
//! once: a kill after an effect and before the done repeats the effect.
//! Here no such moment exists: a kill before the commit leaves neither the
//! row nor the done, and the event is handled again after its lease; a
//! kill after it leaves both, and the event is never taken again. A late
//! attempt whose lease was taken over cannot commit either: its done
//! checks the lease token and it rolls back. So the test asserts that no
//! event has two rows; the table is deliberately not unique on the event
//! id, so a second handling would show rather than be refused.
//!
//! `INBOX_SOAK_EVENTS` sets the number of events (default 3,000);
//! `cargo xtask soak --inbox` runs 10,000 in release.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use protocol_webhooks_inbox_soak::{
    Cli, Deliveries, Example, Handled, Report, Settings, binaries, deliver_all, event_id,
    handled_rows,
};

/// Handlers the example's worker runs at once.
const CONCURRENCY: usize = 4;

#[test]
fn every_acknowledged_event_is_handled_through_sigkills() {
    let settings = Settings::from_env().expect("soak settings");
    let binaries = binaries();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = dir.path().join("inbox.sqlite3");
    let concurrency = CONCURRENCY.to_string();
    let mut example = Example::new(
        &binaries.example,
        &dir.path().join("example.log"),
        &[
            ("INBOX_PATH", path(&store)),
            ("INBOX_FAIL_RATE", "0.2"),
            // A kill costs the attempts it interrupts: plenty, so that no
            // event is dead at the end of a long run.
            ("INBOX_ATTEMPTS", "50"),
            ("INBOX_BACKOFF_MS", "20"),
            ("INBOX_BACKOFF_MAX_MS", "500"),
            // A killed worker's events are taken again after the lease.
            ("INBOX_LEASE_MS", "3000"),
            ("INBOX_POLL_MS", "100"),
            ("INBOX_CONCURRENCY", &concurrency),
        ],
    );
    let cli = Cli::new(&binaries.cli, &store);
    let started = Instant::now();
    let deadline = started + settings.deadline;
    example.start();
    let url = example.url();

    // The killer: SIGKILL, start again, until the deliveries are done, the
    // worker drained the inbox, and there were at least `min_kills` kills.
    let delivered = Arc::new(AtomicBool::new(false));
    let killer = std::thread::spawn({
        let delivered = Arc::clone(&delivered);
        let min_kills = settings.min_kills;
        let cli = cli.clone();
        move || {
            let mut kills = 0;
            loop {
                let wait = Duration::from_millis(fastrand::u64(500..=2_000));
                std::thread::sleep(wait);
                let finished = delivered.load(Ordering::SeqCst)
                    && kills >= min_kills
                    && busy(&cli.stats()) == 0;
                if finished || Instant::now() > deadline {
                    return (example, kills);
                }
                example.kill();
                kills += 1;
                example.start();
            }
        }
    });

    let outcomes = deliver_all(
        &[Deliveries::new(&url)],
        settings.events,
        settings.clients,
        Duration::ZERO,
        deadline,
        None,
    );
    delivered.store(true, Ordering::SeqCst);
    let (mut example, kills) = killer.join().expect("the killer thread");

    // The drain, if the killer stopped at the deadline: every entry done
    // (or dead), nothing pending or in flight.
    while busy(&cli.stats()) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let elapsed = started.elapsed();
    let status = example.terminate();
    let stopped_logged = example
        .log_lines()
        .iter()
        .any(|line| line.contains("worker stopped"));
    let inbox = cli.stats();

    let sent: HashSet<String> = (0..settings.events).map(event_id).collect();
    let mut report = Report {
        sent: settings.events,
        kills,
        starts: example.starts(),
        concurrency: CONCURRENCY,
        exactly_once: true,
        inbox,
        stopped_cleanly: status.success() && stopped_logged,
        elapsed,
        ..Report::default()
    };
    let acknowledged = report.tally(outcomes);
    report.handled = Handled::count(&sent, &acknowledged, &handled_rows(&store));
    eprintln!("{report}");
    let problems = report.problems();
    assert!(
        problems.is_empty(),
        "{}\nthe example's last log lines:\n{}",
        problems.join("\n"),
        example.tail()
    );
    // `problems` covers both; spelled out, as this is what the run proves.
    assert_eq!(report.handled.more_than_once, 0, "{report}");
    assert_eq!(report.handled.lost, Vec::<String>::new(), "{report}");
    assert_eq!(report.handled.once, report.acknowledged, "{report}");
}

/// Entries pending or in flight, from `inbox stats --json`.
fn busy(stats: &serde_json::Value) -> u64 {
    ["pending", "in_flight"]
        .iter()
        .map(|state| stats[state].as_u64().unwrap_or(u64::MAX))
        .fold(0, u64::saturating_add)
}

fn path(path: &std::path::Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}
