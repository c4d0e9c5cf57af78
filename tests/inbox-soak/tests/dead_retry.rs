//! An event whose handler always fails is dead after its attempts, with its
//! error, and `protocol-webhooks inbox show` says so; once the handler is
//! fixed (a restart without `INBOX_FAIL_ID`), `protocol-webhooks inbox
//! retry` brings it back and it is handled, once: one row in the example's
//! table `handled`, which a failed attempt (failing before its
//! transaction) never writes. Other events are not held up by it.

use std::time::{Duration, Instant};

use protocol_webhooks_inbox_soak::{
    Cli, Deliveries, Example, binaries, handled_rows, json, signed_event,
};
use serde_json::Value;

const DOOMED: &str = "evt_soak_doomed";
const OTHERS: [&str; 2] = ["evt_soak_fine_1", "evt_soak_fine_2"];
const ATTEMPTS: u64 = 3;

#[test]
fn a_dead_event_is_retried_by_the_operator_and_handled_once() {
    let binaries = binaries();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = dir.path().join("inbox.sqlite3");
    let attempts = ATTEMPTS.to_string();
    let mut example = Example::new(
        &binaries.example,
        &dir.path().join("example.log"),
        &[
            ("INBOX_PATH", path(&store)),
            ("INBOX_FAIL_ID", DOOMED),
            ("INBOX_ATTEMPTS", &attempts),
            ("INBOX_BACKOFF_MS", "50"),
            ("INBOX_BACKOFF_MAX_MS", "200"),
            ("INBOX_POLL_MS", "50"),
        ],
    );
    let cli = Cli::new(&binaries.cli, &store);
    example.start();
    deliver(&example.url(), &[DOOMED, OTHERS[0], OTHERS[1]]);

    let dead = wait_for(&cli, DOOMED, "dead", &example);
    assert_eq!(dead["attempts"].as_u64(), Some(ATTEMPTS), "{dead}");
    let error = dead["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("INBOX_FAIL_ID"), "{dead}");
    // What the operator reads.
    let shown = cli.inbox(&["show", DOOMED]);
    assert!(shown.status.success(), "{shown:?}");
    let shown = String::from_utf8_lossy(&shown.stdout);
    let state_line = shown.lines().find(|line| line.starts_with("state"));
    assert_eq!(
        state_line.map(|line| line.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["state", "dead"]),
        "{shown}"
    );
    assert!(shown.contains(error), "{shown}");
    for id in OTHERS {
        wait_for(&cli, id, "done", &example);
    }
    // Each row commits with its event's done, so both are there by now.
    let mut rows = handled_rows(&store);
    rows.sort();
    assert_eq!(rows, OTHERS.map(str::to_owned));

    // The handler is fixed: restart without the failure.
    assert!(example.terminate().success(), "{}", example.tail());
    example.set_env("INBOX_FAIL_ID", None);
    example.start();
    // A dead entry stays dead until the operator retries it.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(cli.show(DOOMED)["state"], "dead");
    let retried = cli.inbox(&["retry", DOOMED]);
    assert!(retried.status.success(), "{retried:?}");
    assert_eq!(String::from_utf8_lossy(&retried.stdout), "retried 1\n");

    let done = wait_for(&cli, DOOMED, "done", &example);
    assert_eq!(done["attempts"].as_u64(), Some(1), "fresh attempts: {done}");
    // A done entry is not retried again.
    let again = cli.inbox(&["retry", DOOMED]);
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    assert!(example.terminate().success(), "{}", example.tail());

    let rows = handled_rows(&store);
    let runs = |id: &str| rows.iter().filter(|row| *row == id).count();
    eprintln!(
        "dead then retried: {DOOMED} handled {} time(s), the others {:?}; inbox {}",
        runs(DOOMED),
        OTHERS.map(runs),
        cli.stats()
    );
    assert_eq!(runs(DOOMED), 1, "{rows:?}");
    assert_eq!(OTHERS.map(runs), [1, 1], "{rows:?}");
    let stats = cli.stats();
    assert_eq!(
        (stats["done"].as_u64(), stats["dead"].as_u64()),
        (Some(3), Some(0)),
        "{stats}"
    );
}

/// Delivers each event once; each must be answered 202.
fn deliver(url: &str, ids: &[&str]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let deliveries = Deliveries::new(url);
    let deadline = Instant::now() + Duration::from_secs(30);
    for (index, id) in ids.iter().enumerate() {
        let delivered = runtime
            .block_on(deliveries.deliver(&signed_event(id, index), deadline))
            .expect("delivered");
        assert_eq!((delivered.status, delivered.requests), (202, 1), "{id}");
    }
}

/// Waits until the entry `id` is in `state`, and gives it.
fn wait_for(cli: &Cli, id: &str, state: &str, example: &Example) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let output = cli.inbox(&["show", id, "--json"]);
        let entry = output.status.success().then(|| json(&output));
        if let Some(entry) = &entry
            && entry["state"] == state
        {
            return entry.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{id} is not {state} after 30 s: {entry:?}\n{}",
            example.tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn path(path: &std::path::Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}
