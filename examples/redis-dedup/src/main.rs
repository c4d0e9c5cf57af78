//! Two replicas of an axum receiver share one Redis. The same signed event
//! is delivered to both of them at once, several times, and once more after
//! a pause, as a sender's retry: the handler runs exactly once.
//!
//! ```sh
//! redis-server --port 6390 --save '' --appendonly no &
//! REDIS_URL=redis://127.0.0.1:6390 cargo run -p example-redis-dedup
//! ```
//!
//! One delivery wins the claim and runs the handler; the ones that arrive
//! while it runs get 409 with `Retry-After`, and the retry gets 200
//! `duplicate` without running it:
//!
//! ```text
//! replica a: handler ran for evt_sample
//! replica b  409  Retry-After: 30  {"type":"invalid_request","message":"event is being processed by another delivery; retry in 30 s"}
//! ...
//! replica a  200  Retry-After: -   (handled)
//! retry after a pause:
//! replica b  200  Retry-After: -   {"type":"duplicate","message":"event evt_sample already processed"}
//! the handler ran 1 time(s)
//! ```
//!
//! Exits 0 when the handler ran exactly once, 1 otherwise or when a replica
//! cannot start, and 2 when `REDIS_URL` is not set.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![allow(
    clippy::print_stdout,
    reason = "the report on stdout is what the example shows"
)]

use std::error::Error;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use protocol_webhooks_axum::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_axum::{ClaimedWebhook, Deduplicator, EventType, WebhookConfig};
use protocol_webhooks_redis::RedisStore;
use tokio::task::JoinSet;

const SECRET: &str = "whsec_example";
/// Simultaneous deliveries of the event to each replica.
const DELIVERIES_PER_REPLICA: usize = 3;

/// One replica's state: its own Redis connection, a shared run counter.
#[derive(Clone, FromRef)]
struct Replica {
    #[from_ref(skip)]
    name: &'static str,
    webhooks: WebhookConfig,
    dedup: Deduplicator,
    #[from_ref(skip)]
    handler_runs: Arc<AtomicUsize>,
}

/// The handler: slow enough that the other deliveries arrive while it runs.
async fn on_webhook(
    State(replica): State<Replica>,
    ClaimedWebhook(claimed): ClaimedWebhook,
) -> (StatusCode, &'static str) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    replica.handler_runs.fetch_add(1, Ordering::SeqCst);
    println!("replica {}: handler ran for {}", replica.name, claimed.id);
    if let Err(error) = claimed.commit().await {
        eprintln!("replica {}: commit failed: {error}", replica.name);
    }
    (StatusCode::OK, "(handled)")
}

/// Starts a replica with its own connection to Redis, on a free loopback
/// port.
async fn start(
    name: &'static str,
    url: &str,
    prefix: &str,
    handler_runs: Arc<AtomicUsize>,
) -> Result<SocketAddr, Box<dyn Error>> {
    let store = RedisStore::connect(url).await?.with_prefix(prefix);
    let replica = Replica {
        name,
        webhooks: WebhookConfig::new(SECRET)?,
        // A real service keeps done ids for days; this run needs minutes.
        dedup: Deduplicator::new(store)
            .with_lease(Duration::from_secs(30))
            .with_retention(Duration::from_secs(600)),
        handler_runs,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = Router::new()
        .route("/webhooks", post(on_webhook))
        .with_state(replica);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(address)
}

/// Sends the signed event and prints the answer.
async fn deliver(
    client: reqwest::Client,
    (name, address): (&'static str, SocketAddr),
    event: SignedRequest,
) {
    let answer = client
        .post(format!("http://{address}/webhooks"))
        .header(event.header_name(), event.signature())
        .body(event.into_body())
        .send()
        .await;
    match answer {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("-")
                .to_owned();
            let body = response.text().await.unwrap_or_default();
            println!("replica {name}  {status}  Retry-After: {retry_after:<3} {body}");
        }
        Err(error) => println!("replica {name}  no answer: {error}"),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let Some(url) = std::env::var("REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        eprintln!(
            "example-redis-dedup: set REDIS_URL to a Redis both replicas share, e.g.\n  \
             redis-server --port 6390 --save '' --appendonly no &\n  \
             REDIS_URL=redis://127.0.0.1:6390 cargo run -p example-redis-dedup"
        );
        return ExitCode::from(2);
    };
    // A fresh key namespace per run, so the example can be run again.
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let prefix = format!("example-redis-dedup:{run}:");
    let handler_runs = Arc::new(AtomicUsize::new(0));
    let mut replicas = Vec::new();
    for name in ["a", "b"] {
        match start(name, &url, &prefix, Arc::clone(&handler_runs)).await {
            Ok(address) => replicas.push((name, address)),
            Err(error) => {
                eprintln!("example-redis-dedup: replica {name} cannot start: {error}");
                return ExitCode::FAILURE;
            }
        }
    }

    let Ok(event) = SignedRequest::sample(SECRET, &EventType::MessageCreated) else {
        return ExitCode::FAILURE;
    };
    let client = reqwest::Client::new();
    let mut deliveries = JoinSet::new();
    for _ in 0..DELIVERIES_PER_REPLICA {
        for &replica in &replicas {
            deliveries.spawn(deliver(client.clone(), replica, event.clone()));
        }
    }
    deliveries.join_all().await;

    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("retry after a pause:");
    deliver(client, replicas[1], event).await;

    let runs = handler_runs.load(Ordering::SeqCst);
    println!("the handler ran {runs} time(s)");
    if runs == 1 {
        ExitCode::SUCCESS
    } else {
        eprintln!("example-redis-dedup: expected exactly one handler run");
        ExitCode::FAILURE
    }
}
