//! `RedisStore` against a real Redis (`REDIS_URL`): the store contract, and
//! replicas racing, failing, dying and losing Redis.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use protocol_webhooks::dedup::Unclaimed;
use protocol_webhooks::dedup::{ClaimOutcome, Deduplicator, EventStore, StoreError, store_suite};
use protocol_webhooks_redis::RedisStore;
use protocol_webhooks_redis::redis::{self, AsyncCommands, AsyncConnectionConfig, Client};
use protocol_webhooks_test_redis::PrivateRedis;
use support::{redis_url, replica, unique_prefix};

/// A deduplicator whose done-marks outlive the test, not the default week,
/// so a developer's long-lived test Redis does not fill up.
fn dedup(store: RedisStore) -> Deduplicator {
    Deduplicator::new(store).with_retention(Duration::from_secs(600))
}

/// Two replicas of one service: separate connections, one prefix.
async fn two_replicas() -> (RedisStore, RedisStore) {
    let prefix = unique_prefix();
    (replica(&prefix).await, replica(&prefix).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_passes_the_store_suite() {
    let store = replica(&unique_prefix()).await;
    store_suite::run(&store, tokio::time::sleep).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_namespaced_and_expire() {
    let prefix = unique_prefix();
    let store = replica(&prefix).await;
    let ClaimOutcome::Claimed(token) = store
        .claim("evt", Duration::from_secs(60))
        .await
        .expect("claim")
    else {
        panic!("a new id is claimed");
    };
    let client = Client::open(redis_url()).expect("url");
    let mut raw = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let key = format!("{prefix}evt");
    let value: Option<String> = raw.get(&key).await.expect("GET");
    assert_eq!(value, Some(format!("claimed:{}", token.to_hex())));
    let ttl: i64 = raw.pttl(&key).await.expect("PTTL");
    assert!((59_000..=60_000).contains(&ttl), "lease expiry {ttl} ms");

    store
        .commit("evt", &token, Duration::from_secs(3600))
        .await
        .expect("commit");
    let value: Option<String> = raw.get(&key).await.expect("GET");
    assert_eq!(value.as_deref(), Some("done"));
    let ttl: i64 = raw.pttl(&key).await.expect("PTTL");
    assert!(
        (3_599_000..=3_600_000).contains(&ttl),
        "retention expiry {ttl} ms"
    );

    // Another service's prefix does not see this service's events.
    let other = replica(&unique_prefix()).await;
    assert!(matches!(
        other.claim("evt", Duration::from_secs(60)).await,
        Ok(ClaimOutcome::Claimed(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_deliveries_to_two_replicas_run_the_handler_once() {
    let (first, second) = two_replicas().await;
    let replicas = [
        dedup(first).with_lease(Duration::from_secs(30)),
        dedup(second).with_lease(Duration::from_secs(30)),
    ];
    let handled = Arc::new(AtomicUsize::new(0));
    let deliveries: Vec<_> = (0..100)
        .map(|delivery| {
            let dedup = replicas[delivery % 2].clone();
            let handled = Arc::clone(&handled);
            tokio::spawn(async move {
                match dedup.claim_id("evt_race").await {
                    Ok(guard) => {
                        handled.fetch_add(1, Ordering::SeqCst);
                        guard.commit().await.expect("commit");
                        200
                    }
                    Err(rejection) => rejection.status(),
                }
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for delivery in deliveries {
        statuses.push(delivery.await.expect("delivery task"));
    }
    assert_eq!(handled.load(Ordering::SeqCst), 1, "the handler ran once");
    assert!(
        statuses.iter().all(|status| [200, 409].contains(status)),
        "every other delivery is answered 200 (done) or 409 (in progress): {statuses:?}"
    );
    for dedup in &replicas {
        let again = dedup.claim_id("evt_race").await.expect_err("done");
        assert!(matches!(again, Unclaimed::Duplicate { .. }));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_claims_on_two_connections_have_one_winner() {
    let (first, second) = two_replicas().await;
    let stores = [first, second];
    let claims: Vec<_> = (0..100)
        .map(|claim| {
            let store = stores[claim % 2].clone();
            tokio::spawn(async move { store.claim("evt", Duration::from_secs(30)).await })
        })
        .collect();
    let mut winners = 0;
    for claim in claims {
        match claim.await.expect("claim task") {
            Ok(ClaimOutcome::Claimed(_)) => winners += 1,
            Ok(ClaimOutcome::InProgress { retry_after }) => {
                assert!(retry_after <= Duration::from_secs(30));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_handler_releases_so_the_redelivery_runs_once() {
    let (first, second) = two_replicas().await;
    let (first, second) = (dedup(first), dedup(second));
    let handled = AtomicUsize::new(0);

    // Replica one: the handler fails, and the claim is dropped uncommitted.
    let guard = first.claim_id("evt").await.expect("claimed");
    let failed: Result<(), &str> = Err("downstream timeout");
    assert!(failed.is_err());
    drop(guard);

    // The sender retries at replica two, which processes it.
    let guard = claim_soon(&second, "evt").await;
    handled.fetch_add(1, Ordering::SeqCst);
    guard.commit().await.expect("commit");

    // Further retries, at either replica, do not run the handler.
    for dedup in [&first, &second, &first] {
        let again = dedup.claim_id("evt").await.expect_err("done");
        assert_eq!(again.status(), 200);
    }
    assert_eq!(handled.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_releases() {
    let (first, second) = two_replicas().await;
    let first = dedup(first);
    let task = tokio::spawn(async move {
        let _guard = first.claim_id("evt").await.expect("claimed");
        panic!("handler panicked");
    });
    assert!(task.await.expect_err("panicked").is_panic());
    let guard = claim_soon(&dedup(second), "evt").await;
    guard.commit().await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_handler_is_taken_over_after_the_lease() {
    let (first, second) = two_replicas().await;
    let lease = Duration::from_secs(1);
    let first = dedup(first).with_lease(lease);
    let second_store = second.clone();
    let second = dedup(second).with_lease(lease);

    // Replica one dies mid-handler: no destructor runs, nothing is released.
    let killed = first.claim_id("evt").await.expect("claimed");
    std::mem::forget(killed);

    let busy = second.claim_id("evt").await.expect_err("still leased");
    let Unclaimed::InProgress { retry_after, .. } = busy else {
        panic!("expected 409, got {busy:?}");
    };
    assert!(retry_after <= lease);
    assert_eq!(busy.retry_after(), Some(1));

    tokio::time::sleep(lease + Duration::from_millis(200)).await;
    let takeover = second.claim_id("evt").await.expect("the lease expired");
    takeover.commit().await.expect("commit");
    assert_eq!(
        second.claim_id("evt").await.expect_err("done").status(),
        200
    );

    // A slow holder whose lease expired cannot commit over the new holder.
    let ClaimOutcome::Claimed(stale) = second_store.claim("evt2", lease).await.expect("claim")
    else {
        panic!("a new id is claimed");
    };
    tokio::time::sleep(lease + Duration::from_millis(200)).await;
    let ClaimOutcome::Claimed(current) = second_store
        .claim("evt2", Duration::from_secs(30))
        .await
        .expect("claim")
    else {
        panic!("the expired claim is free");
    };
    assert!(matches!(
        second_store
            .commit("evt2", &stale, Duration::from_secs(60))
            .await,
        Err(StoreError::LostClaim)
    ));
    second_store.release("evt2", &stale).await.expect("release");
    assert!(matches!(
        second_store.claim("evt2", lease).await,
        Ok(ClaimOutcome::InProgress { .. })
    ));
    second_store
        .commit("evt2", &current, Duration::from_secs(60))
        .await
        .expect("the current holder commits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_redis_is_answered_503_quickly_and_the_event_is_processed_after_restart() {
    let mut redis = PrivateRedis::start();
    let store = RedisStore::connect(&redis.url()).await.expect("connect");
    let dedup = dedup(store.clone());
    dedup
        .claim_id("evt_before")
        .await
        .expect("claimed")
        .commit()
        .await
        .expect("commit");

    redis.kill();
    let started = Instant::now();
    let outcome = store.claim("evt", Duration::from_secs(60)).await;
    assert!(
        matches!(outcome, Err(StoreError::Unavailable(Some(_)))),
        "expected Unavailable, got {outcome:?}"
    );
    let rejection = dedup.claim_id("evt").await.expect_err("unavailable");
    assert!(matches!(rejection, Unclaimed::StoreUnavailable { .. }));
    assert_eq!(rejection.status(), 503);
    assert_eq!(rejection.retry_after(), Some(5));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "two operations against a stopped Redis took {:?}",
        started.elapsed()
    );

    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    let guard = loop {
        match dedup.claim_id("evt").await {
            Ok(guard) => break guard,
            Err(Unclaimed::StoreUnavailable { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(other) => panic!("expected the event to be processed after the restart: {other:?}"),
        }
    };
    guard.commit().await.expect("commit");
    assert_eq!(dedup.claim_id("evt").await.expect_err("done").status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_is_answered_503_within_the_timeout() {
    let redis = PrivateRedis::start();
    let store = RedisStore::connect(&redis.url()).await.expect("connect");
    let dedup = dedup(store);
    drop(dedup.claim_id("evt_warm_up").await.expect("claimed"));

    redis.pause();
    let started = Instant::now();
    let rejection = dedup.claim_id("evt").await.expect_err("no answer");
    let waited = started.elapsed();
    redis.resume();
    assert!(
        matches!(rejection, Unclaimed::StoreUnavailable { .. }),
        "{rejection:?}"
    );
    assert_eq!(rejection.status(), 503);
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");

    // Once Redis answers again the redelivery is processed, well before
    // the 60 s lease of a claim that may have reached the frozen server.
    let guard = claim_soon(&dedup, "evt").await;
    guard.commit().await.expect("commit");
}

/// Keeps a private server busy for `busy` with a script that spins, as a
/// slow or overloaded Redis would be; returns once the script has started.
async fn keep_busy(redis: &PrivateRedis, busy: Duration) -> tokio::task::JoinHandle<()> {
    const SPIN: &str = "local t = redis.call('TIME') \
        local start = t[1] * 1000000 + t[2] \
        repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > tonumber(ARGV[1]) \
        return 1";
    let client = Client::open(redis.url()).expect("url");
    let config = AsyncConnectionConfig::new().set_response_timeout(None);
    let mut connection = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .expect("connect");
    let micros = u64::try_from(busy.as_micros()).expect("short");
    let task = tokio::spawn(async move {
        let done: i64 = redis::cmd("EVAL")
            .arg(SPIN)
            .arg(0)
            .arg(micros)
            .query_async(&mut connection)
            .await
            .expect("the spinning script");
        assert_eq!(done, 1);
    });
    // Let the script reach the server before anything else is sent.
    tokio::time::sleep(Duration::from_millis(200)).await;
    task
}

/// Claims until the id is free again, well within its 60 s lease.
async fn claim_soon(dedup: &Deduplicator, id: &str) -> protocol_webhooks::dedup::ClaimGuard {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match dedup.claim_id(id).await {
            Ok(guard) => return guard,
            Err(Unclaimed::InProgress { .. } | Unclaimed::StoreUnavailable { .. })
                if Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(other) => panic!("expected {id} to be claimable again: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_whose_answer_is_lost_is_released_once_redis_catches_up() {
    let redis = PrivateRedis::start();
    let store = RedisStore::connect(&redis.url())
        .await
        .expect("connect")
        .with_timeout(Duration::from_millis(300));
    let dedup = dedup(store.clone()).with_lease(Duration::from_secs(60));
    drop(dedup.claim_id("evt_warm_up").await.expect("claimed"));

    // The claim is sent, Redis is too busy to answer in time: 503. Redis
    // runs the claim later, and the store's release right after it.
    let busy = keep_busy(&redis, Duration::from_millis(1500)).await;
    let rejection = dedup.claim_id("evt").await.expect_err("timed out");
    assert!(
        matches!(
            &rejection,
            Unclaimed::StoreUnavailable {
                error: StoreError::Unavailable(Some(_)),
                ..
            }
        ),
        "{rejection:?}"
    );
    busy.await.expect("busy script");
    claim_soon(&dedup, "evt")
        .await
        .commit()
        .await
        .expect("commit");

    // The same when the request is dropped while its claim is in flight.
    let busy = keep_busy(&redis, Duration::from_millis(1500)).await;
    let dropped = tokio::time::timeout(Duration::from_millis(100), dedup.claim_id("evt2")).await;
    assert!(
        dropped.is_err(),
        "the claim cannot finish while Redis is busy"
    );
    busy.await.expect("busy script");
    claim_soon(&dedup, "evt2")
        .await
        .commit()
        .await
        .expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_is_unavailable_within_the_timeout() {
    // A port nobody listens on: connections are refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let store = RedisStore::connect_lazy(&format!("redis://127.0.0.1:{port}"))
        .expect("valid url")
        .with_timeout(Duration::from_millis(1500));
    let started = Instant::now();
    let outcome = store.claim("evt", Duration::from_secs(60)).await;
    assert!(
        matches!(outcome, Err(StoreError::Unavailable(Some(_)))),
        "{outcome:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        RedisStore::connect(&format!("redis://127.0.0.1:{port}"))
            .await
            .is_err()
    );
}
