//! Finding the shared test Redis, and cleaning up after a test on it.

use protocol_webhooks::dedup::ClaimToken;
use protocol_webhooks_inbox::redis::{self, AsyncCommands};

/// The shared test server's URL, from `REDIS_URL`.
pub(crate) fn redis_url() -> String {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "these tests need a real Redis: set REDIS_URL, e.g.\n  \
             redis-server --port 6390 --save '' --appendonly no &\n  \
             REDIS_URL=redis://127.0.0.1:6390 cargo test -p protocol-webhooks-inbox --all-features\n\
             (`cargo xtask ci` starts one and sets REDIS_URL itself)"
        ),
    }
}

/// A key prefix no other test or run uses, so tests can share one server.
pub(crate) fn unique_prefix() -> String {
    let token = ClaimToken::random().expect("randomness");
    format!("protocol-webhooks-inbox-test:{}", token.to_hex())
}

/// A plain connection, to look at the keys.
pub(crate) async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect")
}

/// Deletes every key of the inbox under `prefix`, so the shared server does
/// not fill up with test data.
pub(crate) async fn forget(prefix: &str) {
    let mut connection = raw(&redis_url()).await;
    let keys: Vec<String> = {
        let mut iter = connection
            .scan_match::<_, String>(format!("{{{prefix}}}:*"))
            .await
            .expect("SCAN");
        let mut keys = Vec::new();
        while let Some(key) = futures_next(&mut iter).await {
            keys.push(key);
        }
        keys
    };
    if !keys.is_empty() {
        let _: i64 = connection.del(keys).await.expect("DEL");
    }
}

async fn futures_next<T>(iter: &mut redis::AsyncIter<'_, T>) -> Option<T>
where
    T: redis::FromRedisValue + Unpin + Send,
{
    iter.next_item().await.transpose().expect("SCAN item")
}
