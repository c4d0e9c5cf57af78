//! Measures accepts per second into a SQLite inbox, with group commit and
//! with one commit (one fsync) per accept.
//!
//! `cargo run --release -p protocol-webhooks-inbox --example group_commit -- [EVENTS] [CONCURRENCY] [DIR]`
#![allow(clippy::print_stdout)]

use std::time::Instant;

use protocol_webhooks_inbox::{Inbox, SqliteStore};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().map_or(Ok(5_000), |n| n.parse())?;
    let concurrency: usize = args.next().map_or(Ok(64), |n| n.parse())?;
    let dir = match args.next() {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    for (name, max_group) in [
        ("group commit", protocol_webhooks_inbox::MAX_GROUP),
        ("one commit per accept", 1),
    ] {
        let path = dir.path().join(format!("inbox-{max_group}.sqlite3"));
        let inbox = Inbox::new(SqliteStore::options().max_group(max_group).open(&path)?);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for task in 0..concurrency {
            let inbox = inbox.clone();
            tasks.push(tokio::spawn(async move {
                for n in (task..events).step_by(concurrency) {
                    let body = format!(
                        r#"{{"id":"evt_{n}","type":"message.created","payload":{{"id":"msg_{n}"}}}}"#
                    );
                    let _accepted = inbox.accept_bytes(body.as_bytes()).await?;
                }
                Ok::<(), protocol_webhooks_inbox::AcceptError>(())
            }));
        }
        for task in tasks {
            task.await??;
        }
        let elapsed = started.elapsed();
        println!(
            "{name}: {events} accepts from {concurrency} tasks in {elapsed:.2?}: {:.0} accepts/s",
            events as f64 / elapsed.as_secs_f64()
        );
    }
    Ok(())
}
