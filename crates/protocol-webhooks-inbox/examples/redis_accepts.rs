//! Measures accepts per second into a Redis inbox, from many concurrent
//! tasks, the CPU time this process spends per accept (event parse
//! included), and how long a take-and-complete cycle of all of them takes.
//!
//! `cargo run --release -p protocol-webhooks-inbox --features redis --example redis_accepts -- REDIS_URL [EVENTS] [CONCURRENCY] [TEXT_BYTES]`
//!
//! `TEXT_BYTES` pads each message's text (default 0), e.g. 820 for bodies
//! of about 890 bytes, the size of the load benchmark's. The runtime has one
//! worker thread, as the load benchmark's server does.
//!
//! Each run uses a fresh key prefix and deletes nothing: point it at a
//! scratch Redis.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use protocol_webhooks_inbox::protocol_webhooks::dedup::ClaimToken;
use protocol_webhooks_inbox::{Inbox, RedisStore};

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: redis_accepts REDIS_URL [EVENTS] [CONCURRENCY] [TEXT_BYTES]")?;
    let events: usize = args.next().map_or(Ok(5_000), |n| n.parse())?;
    let concurrency: usize = args.next().map_or(Ok(64), |n| n.parse())?;
    let text = "x".repeat(args.next().map_or(Ok(0), |n| n.parse())?);
    let prefix = format!("redis-accepts-{}", &ClaimToken::random()?.to_hex()[..12]);
    let store = RedisStore::options().prefix(prefix).open(&url).await?;
    let inbox = Inbox::new(store);

    let started = Instant::now();
    let cpu_before = process_cpu_seconds();
    let mut tasks = Vec::new();
    for task in 0..concurrency {
        let inbox = inbox.clone();
        let text = text.clone();
        tasks.push(tokio::spawn(async move {
            for n in (task..events).step_by(concurrency) {
                let body = format!(
                    r#"{{"id":"evt_{n}","type":"message.created","payload":{{"id":"msg_{n}","text":"{text}"}}}}"#
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
        "accept: {events} from {concurrency} tasks in {elapsed:.2?}: {:.0} accepts/s",
        events as f64 / elapsed.as_secs_f64()
    );
    if let (Some(before), Some(after)) = (cpu_before, process_cpu_seconds()) {
        println!(
            "accept: {:.2} µs of this process's CPU per accept",
            (after - before) * 1e6 / events as f64
        );
    }

    let store = inbox.store();
    let started = Instant::now();
    let mut handled = 0;
    while handled < events {
        let taken = store.take(Duration::from_secs(60), 100, 8).await?;
        if taken.is_empty() {
            break;
        }
        for entry in &taken {
            store.complete(&entry.id, &entry.token).await?;
        }
        handled += taken.len();
    }
    let elapsed = started.elapsed();
    println!(
        "take + complete: {handled} in {elapsed:.2?}: {:.0} entries/s (one worker, batches of 100)",
        handled as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

/// CPU seconds this process used so far (user and system), on Linux.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses; utime
    // and stime are fields 14 and 15, in ticks of 1/100 s.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}
