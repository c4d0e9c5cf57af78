//! A process accepting events into a SQLite inbox is killed with SIGKILL;
//! a fresh process finds every event whose `accept` had returned.
//!
//! The test re-runs its own binary as the child, told apart by an
//! environment variable: the child accepts events from many concurrent
//! tasks and prints each id once its `accept` returned, until it is killed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use protocol_webhooks_inbox::{Accepted, Inbox, State};

const CHILD_ENV: &str = "PROTOCOL_WEBHOOKS_INBOX_DURABILITY_CHILD";
const TEST_NAME: &str = "events_accepted_before_sigkill_are_in_the_file";
/// Printed ids to wait for before the kill: enough to be mid-stream.
const KILL_AFTER: usize = 2_000;

#[test]
fn events_accepted_before_sigkill_are_in_the_file() {
    match std::env::var(CHILD_ENV) {
        Ok(path) => child(&path),
        Err(_) => parent(),
    }
}

fn parent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("inbox.sqlite3");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the child");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut acknowledged = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while acknowledged.len() < KILL_AFTER {
        assert!(
            Instant::now() < deadline,
            "the child acknowledged too few events"
        );
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(id) = line.strip_prefix("accepted ") {
                    acknowledged.push(id.to_owned());
                }
            }
            other => panic!("the child stopped early: {other:?}"),
        }
    }
    // SIGKILL: no destructor, no flush, no orderly close of the file.
    child.kill().expect("kill");
    // Lines already written before the kill still count.
    for line in lines.map_while(Result::ok) {
        if let Some(id) = line.strip_prefix("accepted ") {
            acknowledged.push(id.to_owned());
        }
    }
    let status = child.wait().expect("wait");
    assert!(
        !status.success(),
        "the child was killed, not finished: {status:?}"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let inbox = Inbox::open_sqlite(&path).expect("reopen after the kill");
        let stats = inbox.store().stats().await.expect("stats");
        assert!(
            stats.pending >= acknowledged.len() as u64,
            "{} acknowledged, {stats:?} in the file",
            acknowledged.len()
        );
        for id in &acknowledged {
            let entry = inbox.store().show(id).await.expect("show");
            let entry = entry.unwrap_or_else(|| panic!("acknowledged event {id} was lost"));
            assert_eq!(entry.summary.state, State::Pending);
            assert_eq!(entry.body, body(id), "the exact body survives");
        }
    });
}

fn body(id: &str) -> Vec<u8> {
    format!(r#"{{"id":"{id}","type":"message.created","payload":{{"id":"msg_{id}"}}}}"#)
        .into_bytes()
}

/// Accepts events from 32 concurrent tasks until killed.
fn child(path: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let inbox = Inbox::open_sqlite(path).expect("open");
        let (acks, mut acked) = tokio::sync::mpsc::unbounded_channel::<String>();
        for task in 0..32 {
            let (inbox, acks) = (inbox.clone(), acks.clone());
            tokio::spawn(async move {
                for n in 0u64.. {
                    let id = format!("evt_{task}_{n}");
                    match inbox.accept_bytes(&body(&id)).await {
                        Ok(Accepted::Stored { .. }) => {
                            if acks.send(id).is_err() {
                                return;
                            }
                        }
                        other => panic!("accept {id}: {other:?}"),
                    }
                }
            });
        }
        drop(acks);
        let mut stdout = std::io::stdout().lock();
        while let Some(id) = acked.recv().await {
            // Printed only after the commit holding the event returned.
            writeln!(stdout, "accepted {id}").expect("stdout");
            stdout.flush().expect("flush");
        }
    });
}
