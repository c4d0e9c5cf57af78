//! Two replicas of a receiver share one Redis; the sender delivers the same
//! event to both at once, and retries. The handler runs exactly once.
//!
//! ```sh
//! redis-server --port 6390 --save '' --appendonly no &
//! REDIS_URL=redis://127.0.0.1:6390 cargo run -p example-redis-dedup
//! ```
//!
//! `deliver` is what a framework adapter does with each request: verify,
//! claim, run the handler, commit, and answer.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use protocol_webhooks::WebhookConfig;
use protocol_webhooks::dedup::Deduplicator;
use protocol_webhooks::events::{Event, EventType};
use protocol_webhooks::testing::SignedRequest;
use protocol_webhooks_redis::RedisStore;
use tracing::{info, warn};
use tracing_subscriber::EnvFilter;

const SECRET: &str = "whsec_example";

/// One replica: its own connection to the shared Redis.
#[derive(Clone)]
struct Replica {
    name: &'static str,
    config: WebhookConfig,
    dedup: Deduplicator,
    handled: Arc<AtomicUsize>,
}

/// The handler: slow enough that the concurrent deliveries overlap it.
async fn handle(replica: &Replica, event: &Event) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(200)).await;
    replica.handled.fetch_add(1, Ordering::SeqCst);
    info!(replica = replica.name, id = %event.id, "handled");
    Ok(())
}

/// One request: the answer's status and `Retry-After`.
async fn deliver(replica: &Replica, body: &[u8], signature: &str) -> (u16, Option<u64>) {
    let event = match replica
        .config
        .verify_event(body, Some(signature.as_bytes()))
    {
        Ok(event) => event,
        Err(rejection) => return (rejection.status(), rejection.retry_after()),
    };
    let claimed = match replica.dedup.claim(event).await {
        Ok(claimed) => claimed,
        Err(rejection) => {
            info!(
                replica = replica.name,
                reason = rejection.reason(),
                "not handled"
            );
            return (rejection.status(), rejection.retry_after());
        }
    };
    match handle(replica, &claimed).await {
        Ok(()) => {
            // The work is done whatever the commit says: answer 200.
            if let Err(error) = claimed.commit().await {
                warn!(%error, "commit failed; a redelivery may run the handler again");
            }
            (200, None)
        }
        // Dropping the claim releases it, so the sender's retry is handled.
        Err(error) => {
            warn!(%error, "handler failed");
            (500, None)
        }
    }
}

async fn replica(name: &'static str, url: &str, prefix: &str) -> Result<Replica, String> {
    let store = RedisStore::connect(url)
        .await
        .map_err(|error| format!("cannot connect to {url}: {error}"))?
        .with_prefix(prefix);
    Ok(Replica {
        name,
        config: WebhookConfig::new(SECRET).map_err(|error| error.to_string())?,
        // A real service keeps done ids for days; this demo needs an hour.
        dedup: Deduplicator::new(store)
            .with_lease(Duration::from_secs(30))
            .with_retention(Duration::from_secs(3600)),
        handled: Arc::default(),
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();

    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    // A fresh namespace per run, so the example can be run again.
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let prefix = format!("example-redis-dedup:{run}:");
    let replicas = match (
        replica("a", &url, &prefix).await,
        replica("b", &url, &prefix).await,
    ) {
        (Ok(a), Ok(b)) => [a, b],
        (Err(error), _) | (_, Err(error)) => {
            warn!(
                "{error}; start one with `redis-server --port 6390 --save '' --appendonly no` \
                   and set REDIS_URL=redis://127.0.0.1:6390"
            );
            return ExitCode::FAILURE;
        }
    };
    let Ok(request) = SignedRequest::sample(SECRET, &EventType::MessageCreated) else {
        return ExitCode::FAILURE;
    };

    // Six simultaneous deliveries of one event, alternating replicas.
    let deliveries: Vec<_> = (0..6)
        .map(|n| {
            let replica = replicas[n % 2].clone();
            let (body, signature) = (request.body().to_vec(), request.signature().to_owned());
            tokio::spawn(async move { deliver(&replica, &body, &signature).await })
        })
        .collect();
    for delivery in deliveries {
        match delivery.await {
            Ok((status, retry_after)) => info!(status, retry_after, "answered"),
            Err(error) => warn!(%error, "delivery task failed"),
        }
    }
    // The sender's retry after the 409s: answered 200 without the handler.
    let (status, _) = deliver(&replicas[1], request.body(), request.signature()).await;
    info!(status, "retry answered");

    let handled: usize = replicas
        .iter()
        .map(|r| r.handled.load(Ordering::SeqCst))
        .sum();
    info!(handled, "handler runs in total");
    if handled == 1 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
