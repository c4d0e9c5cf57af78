//! `claimed_webhook` where the conformance suite cannot look: handlers that
//! fail, panic or are dropped, and the exact answers for other deliveries.

use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::sync::Arc;

use protocol_webhooks_warp::protocol_webhooks::dedup::{
    ClaimOutcome, ClaimToken, EventStore, StoreError, StoreFuture,
};
use protocol_webhooks_warp::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_warp::{
    ClaimedWebhook, Deduplicator, EventType, Payload, Rejection, WebhookConfig, WebhookRejection,
    claimed_webhook, recover,
};
use warp::Filter;
use warp::http::StatusCode;
use warp::http::header::{CONTENT_TYPE, RETRY_AFTER};
use warp::test::RequestBuilder;

const SECRET: &str = "whsec_claimed";

fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET).expect("non-empty secret")
}

/// A signed delivery of the sample `message.created` event (id `evt_sample`).
fn delivery() -> RequestBuilder {
    let request = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("signed");
    warp::test::request()
        .method("POST")
        .path("/webhooks")
        .header(request.header_name(), request.signature())
        .body(request.body())
}

/// A route whose handler counts its runs and commits.
fn committing(
    dedup: Deduplicator,
    runs: &Arc<AtomicUsize>,
) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone + 'static {
    let runs = Arc::clone(runs);
    warp::path!("webhooks")
        .and(warp::post())
        .and(claimed_webhook(config(), dedup))
        .then(move |claimed: ClaimedWebhook| {
            let runs = Arc::clone(&runs);
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                let id = claimed.id.clone();
                claimed.commit().await.expect("commit");
                id
            }
        })
        .recover(recover)
}

#[tokio::test]
async fn a_redelivery_is_answered_200_without_running_the_handler() {
    let runs = Arc::new(AtomicUsize::new(0));
    let route = committing(Deduplicator::in_memory(), &runs);

    let first = delivery().reply(&route).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.body().as_ref(), b"evt_sample");

    let again = delivery().reply(&route).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(
        again.body().as_ref(),
        br#"{"type":"duplicate","message":"event evt_sample already processed"}"#
    );
    assert!(again.headers().get(RETRY_AFTER).is_none());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_handler_sees_the_event_through_the_claim() {
    let dedup = Deduplicator::in_memory();
    let claimed = delivery()
        .filter(&claimed_webhook(config(), dedup.clone()))
        .await
        .expect("claimed");
    assert_eq!(claimed.id, "evt_sample");
    assert!(matches!(claimed.payload, Payload::Message(_)));
    assert_eq!(claimed.guard().event_id(), "evt_sample");

    let (event, guard) = claimed.into_inner().into_parts();
    assert_eq!(event.event_type, EventType::MessageCreated);
    // Still held until the guard goes: another delivery is told to wait.
    let busy = dedup.claim_id("evt_sample").await.expect_err("held");
    assert_eq!(busy.status(), 409);
    guard.commit().await.expect("commit");
    let done = dedup.claim_id("evt_sample").await.expect_err("done");
    assert_eq!(done.status(), 200);
}

/// A handler that fails on its first run in a way `make_fail` chooses, and
/// succeeds (committing) after.
fn failing_first<R, F>(
    dedup: Deduplicator,
    runs: &Arc<AtomicUsize>,
    make_fail: F,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone + Send + 'static
where
    R: warp::Reply,
    F: Fn(ClaimedWebhook) -> Result<R, warp::Rejection> + Clone + Send + Sync + 'static,
{
    let runs = Arc::clone(runs);
    warp::path!("webhooks")
        .and(warp::post())
        .and(claimed_webhook(config(), dedup))
        .and_then(move |claimed: ClaimedWebhook| {
            let runs = Arc::clone(&runs);
            let make_fail = make_fail.clone();
            async move {
                if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                    return make_fail(claimed).map(warp::Reply::into_response);
                }
                claimed.commit().await.expect("commit");
                Ok(warp::Reply::into_response("done"))
            }
        })
        .recover(recover)
        .map(warp::Reply::into_response)
}

/// The handler's own failure.
#[derive(Debug)]
struct HandlerFailed;

impl warp::reject::Reject for HandlerFailed {}

/// After a first delivery whose handler failed, the next runs the handler
/// and commits, and the one after that is a duplicate.
async fn assert_redelivery_runs_the_handler<F>(route: &F, runs: &AtomicUsize)
where
    F: Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone + 'static,
{
    let retried = delivery().reply(route).await;
    assert_eq!(retried.status(), StatusCode::OK);
    assert_eq!(retried.body().as_ref(), b"done");
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    let again = delivery().reply(route).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert!(again.body().starts_with(br#"{"type":"duplicate","#));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_handler_that_answers_an_error_releases_the_claim() {
    let runs = Arc::new(AtomicUsize::new(0));
    let route = failing_first(Deduplicator::in_memory(), &runs, |claimed| {
        drop(claimed);
        Ok(StatusCode::INTERNAL_SERVER_ERROR)
    });
    let failed = delivery().reply(&route).await;
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_redelivery_runs_the_handler(&route, &runs).await;
}

#[tokio::test]
async fn a_handler_that_rejects_releases_the_claim() {
    let runs = Arc::new(AtomicUsize::new(0));
    let route = failing_first(Deduplicator::in_memory(), &runs, |_claimed| {
        Err::<StatusCode, _>(warp::reject::custom(HandlerFailed))
    });
    let failed = delivery().reply(&route).await;
    // `recover` leaves the handler's own rejection to warp, which answers
    // an unknown custom rejection with 500.
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_redelivery_runs_the_handler(&route, &runs).await;
}

#[tokio::test]
async fn a_handler_that_panics_releases_the_claim() {
    let runs = Arc::new(AtomicUsize::new(0));
    let route = failing_first(
        Deduplicator::in_memory(),
        &runs,
        |_claimed| -> Result<StatusCode, _> { panic!("the handler failed") },
    );
    // Run where a server runs a request: on its own task, which the panic
    // ends, unwinding through the claim.
    let panicking = tokio::spawn({
        let route = route.clone();
        async move { delivery().reply(&route).await }
    });
    let outcome = panicking.await;
    assert!(outcome.is_err_and(|error| error.is_panic()));
    assert_redelivery_runs_the_handler(&route, &runs).await;
}

#[tokio::test]
async fn a_dropped_request_releases_the_claim() {
    let runs = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(tokio::sync::Notify::new());
    let route = {
        let runs = Arc::clone(&runs);
        let started = Arc::clone(&started);
        warp::path!("webhooks")
            .and(warp::post())
            .and(claimed_webhook(config(), Deduplicator::in_memory()))
            .then(move |claimed: ClaimedWebhook| {
                let first = runs.fetch_add(1, Ordering::SeqCst) == 0;
                let started = Arc::clone(&started);
                async move {
                    if first {
                        // Hangs holding the claim until the request is dropped,
                        // as when the client goes away mid-handler.
                        started.notify_one();
                        core::future::pending::<()>().await;
                    }
                    claimed.commit().await.expect("commit");
                    warp::Reply::into_response("done")
                }
            })
            .recover(recover)
            .map(warp::Reply::into_response)
    };
    let hanging = delivery().reply(&route);
    tokio::select! {
        _ = hanging => panic!("the first handler never finishes"),
        () = started.notified() => {}
    }
    // `hanging` was dropped by `select!`, with the handler's future.
    assert_redelivery_runs_the_handler(&route, &runs).await;
}

#[tokio::test]
async fn a_delivery_while_another_holds_the_claim_gets_409_with_retry_after() {
    let runs = Arc::new(AtomicUsize::new(0));
    let dedup = Deduplicator::in_memory().with_lease(Duration::from_secs(30));
    let route = committing(dedup.clone(), &runs);

    let held = dedup.claim_id("evt_sample").await.expect("claimed");
    let busy = delivery().reply(&route).await;
    assert_eq!(busy.status(), StatusCode::CONFLICT);
    assert_eq!(busy.headers()[CONTENT_TYPE], "application/json");
    // The rest of the 30 s lease, rounded up.
    let seconds: u64 = busy.headers()[RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!((29..=30).contains(&seconds), "Retry-After: {seconds}");
    assert_eq!(
        busy.body().as_ref(),
        format!(
            r#"{{"type":"invalid_request","message":"event is being processed by another delivery; retry in {seconds} s"}}"#
        )
        .as_bytes()
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    // The other delivery failed: its claim is released and this one runs.
    drop(held);
    let retried = delivery().reply(&route).await;
    assert_eq!(retried.status(), StatusCode::OK);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// A store that cannot be reached.
#[derive(Debug)]
struct Unreachable;

impl EventStore for Unreachable {
    fn claim<'a>(&'a self, _: &'a str, _: Duration) -> StoreFuture<'a, ClaimOutcome> {
        Box::pin(async { Err(StoreError::unavailable("connection refused")) })
    }

    fn commit<'a>(&'a self, _: &'a str, _: &'a ClaimToken, _: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::unavailable("connection refused")) })
    }

    fn release<'a>(&'a self, _: &'a str, _: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::unavailable("connection refused")) })
    }

    fn release_detached(&self, _: String, _: ClaimToken) {}
}

#[tokio::test]
async fn an_unreachable_store_gets_503_with_retry_after() {
    let runs = Arc::new(AtomicUsize::new(0));
    let route = committing(Deduplicator::new(Unreachable), &runs);
    let response = delivery().reply(&route).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(response.headers()[RETRY_AFTER], "5");
    assert_eq!(
        response.body().as_ref(),
        br#"{"type":"api_error","message":"event cannot be processed right now; retry later"}"#
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_forged_delivery_claims_nothing() {
    let runs = Arc::new(AtomicUsize::new(0));
    let dedup = Deduplicator::in_memory();
    let route = committing(dedup.clone(), &runs);
    let request =
        SignedRequest::sample("whsec_someone_else", &EventType::MessageCreated).expect("signed");
    let forged = warp::test::request()
        .method("POST")
        .path("/webhooks")
        .header(request.header_name(), request.signature())
        .body(request.body())
        .reply(&route)
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert!(forged.headers().get(RETRY_AFTER).is_none());
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    // The id is free: the forged request never reached the store.
    let claim = dedup.claim_id("evt_sample").await;
    assert!(claim.is_ok(), "{claim:?}");
}

#[tokio::test]
async fn a_missing_configuration_is_answered_as_every_adapter_does() {
    // warp takes the configuration and the deduplicator as filter arguments,
    // so they cannot be missing; a filter of the application's own that finds
    // its settings missing can still reject with the core's rejection.
    let route = warp::path!("webhooks")
        .and_then(|| async {
            Err::<String, _>(warp::reject::custom(WebhookRejection::from(
                Rejection::MissingConfiguration {
                    missing: "WebhookConfig",
                },
            )))
        })
        .recover(recover);
    let response = warp::test::request().path("/webhooks").reply(&route).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    assert!(response.headers().get(RETRY_AFTER).is_none());
    assert_eq!(
        response.body().as_ref(),
        br#"{"type":"api_error","message":"webhook configuration is missing"}"#
    );
}
