//! Finding the shared test Redis.

use protocol_webhooks::dedup::ClaimToken;
use protocol_webhooks_redis::RedisStore;

/// The shared test server's URL, from `REDIS_URL`.
pub(crate) fn redis_url() -> String {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "these tests need a real Redis: set REDIS_URL, e.g.\n  \
             redis-server --port 6390 --save '' --appendonly no &\n  \
             REDIS_URL=redis://127.0.0.1:6390 cargo test -p protocol-webhooks-redis\n\
             (`cargo xtask ci` starts one and sets REDIS_URL itself)"
        ),
    }
}

/// A key prefix no other test or run uses, so tests can share one server.
pub(crate) fn unique_prefix() -> String {
    let token = ClaimToken::random().expect("randomness");
    format!("protocol-webhooks-test:{}:", token.to_hex())
}

/// A replica's store: its own connection to the shared test server.
pub(crate) async fn replica(prefix: &str) -> RedisStore {
    RedisStore::connect(&redis_url())
        .await
        .unwrap_or_else(|error| panic!("cannot connect to REDIS_URL: {error}"))
        .with_prefix(prefix)
}
