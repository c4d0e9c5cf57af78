//! The exactly-once extractor where the shared suite cannot look: how often
//! the handler really ran, what a failing, panicking or abandoned handler
//! leaves behind, and what reaches the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, Request, StatusCode};
use axum::routing::post;
use protocol_webhooks_axum::protocol_webhooks::dedup::{EventStore, MemoryStore};
use protocol_webhooks_axum::protocol_webhooks::samples::{SignedRequest, sample_body};
use protocol_webhooks_axum::{ClaimedWebhook, Deduplicator, EventType, WebhookConfig};
use tokio::sync::Notify;
use tower::ServiceExt as _;

const SECRET: &str = "whsec_claimed_test";
const LEASE: Duration = Duration::from_secs(30);

#[derive(Clone, FromRef)]
struct AppState {
    webhooks: WebhookConfig,
    dedup: Deduplicator,
    runs: Runs,
}

/// How often a handler ran, and a signal that it has started.
#[derive(Clone, Default)]
struct Runs {
    count: Arc<AtomicUsize>,
    started: Arc<Notify>,
}

impl Runs {
    /// Counts this run; true for the first one.
    fn first(&self) -> bool {
        self.started.notify_one();
        self.count.fetch_add(1, Ordering::SeqCst) == 0
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// Commits, then answers the event id.
async fn done(claimed: ClaimedWebhook) -> Result<String, StatusCode> {
    let id = claimed.id.clone();
    claimed
        .commit()
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(id)
}

async fn succeeds(State(runs): State<Runs>, claimed: ClaimedWebhook) -> Result<String, StatusCode> {
    runs.first();
    done(claimed).await
}

/// Fails its first run with an error response, as a handler whose database
/// was down would.
async fn errs_first(
    State(runs): State<Runs>,
    claimed: ClaimedWebhook,
) -> Result<String, StatusCode> {
    if runs.first() {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    done(claimed).await
}

async fn panics_first(
    State(runs): State<Runs>,
    claimed: ClaimedWebhook,
) -> Result<String, StatusCode> {
    if runs.first() {
        panic!("the handler's first run panics on purpose");
    }
    done(claimed).await
}

/// Never finishes its first run: only dropping the request ends it.
async fn hangs_first(
    State(runs): State<Runs>,
    claimed: ClaimedWebhook,
) -> Result<String, StatusCode> {
    if runs.first() {
        std::future::pending::<()>().await;
    }
    done(claimed).await
}

fn app_with(dedup: Deduplicator) -> (Router, Runs) {
    let runs = Runs::default();
    let state = AppState {
        webhooks: WebhookConfig::new(SECRET).expect("non-empty secret"),
        dedup,
        runs: runs.clone(),
    };
    let router = Router::new()
        .route("/succeeds", post(succeeds))
        .route("/errs-first", post(errs_first))
        .route("/panics-first", post(panics_first))
        .route("/hangs-first", post(hangs_first))
        .with_state(state);
    (router, runs)
}

fn app() -> (Router, Runs) {
    app_with(Deduplicator::in_memory().with_lease(LEASE))
}

fn delivery(path: &str, signed: &SignedRequest) -> Request<Body> {
    Request::post(path)
        .header(signed.header_name(), signed.signature())
        .body(Body::from(signed.body().to_vec()))
        .expect("valid request")
}

fn sample(id: &str) -> SignedRequest {
    let body = sample_body(&EventType::MessageCreated, id);
    SignedRequest::new(SECRET, body).expect("signed")
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    retry_after: Option<String>,
    body: String,
}

impl Answer {
    /// The `type` of a JSON rejection body.
    fn error_type(&self) -> String {
        let json: serde_json::Value = serde_json::from_str(&self.body).expect("JSON body");
        json["type"].as_str().expect("string type").to_owned()
    }
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|value: &HeaderValue| value.to_str().expect("ASCII header").to_owned())
    };
    let (content_type, retry_after) = (header(CONTENT_TYPE), header(RETRY_AFTER));
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("in-memory body");
    Answer {
        status,
        content_type,
        retry_after,
        body: String::from_utf8(body.to_vec()).expect("UTF-8 body"),
    }
}

#[tokio::test]
async fn the_handler_runs_once_and_redeliveries_get_200_duplicate() {
    let (router, runs) = app();
    let signed = sample("evt_once");

    let first = send(&router, delivery("/succeeds", &signed)).await;
    assert_eq!(
        (first.status, first.body.as_str()),
        (StatusCode::OK, "evt_once")
    );

    for _ in 0..3 {
        let again = send(&router, delivery("/succeeds", &signed)).await;
        assert_eq!(again.status, StatusCode::OK, "{again:?}");
        assert_eq!(again.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            again.body,
            r#"{"type":"duplicate","message":"event evt_once already processed"}"#
        );
        assert_eq!(again.retry_after, None);
    }
    assert_eq!(runs.count(), 1);
}

#[tokio::test]
async fn a_handler_that_errs_releases_the_claim_for_the_redelivery() {
    let (router, runs) = app();
    let signed = sample("evt_errs");

    let failed = send(&router, delivery("/errs-first", &signed)).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);

    let retried = send(&router, delivery("/errs-first", &signed)).await;
    assert_eq!(
        (retried.status, retried.body.as_str()),
        (StatusCode::OK, "evt_errs")
    );
    assert_eq!(runs.count(), 2, "the redelivery ran the handler");

    let again = send(&router, delivery("/errs-first", &signed)).await;
    assert_eq!(again.error_type(), "duplicate");
    assert_eq!(runs.count(), 2);
}

#[tokio::test]
async fn a_handler_that_panics_releases_the_claim_for_the_redelivery() {
    let (router, runs) = app();
    let signed = sample("evt_panics");

    // axum does not catch panics: the request's task dies, as it would in
    // the server's connection task.
    let crashed = tokio::spawn(router.clone().oneshot(delivery("/panics-first", &signed))).await;
    assert!(crashed.is_err_and(|error| error.is_panic()));
    assert_eq!(runs.count(), 1);

    let retried = send(&router, delivery("/panics-first", &signed)).await;
    assert_eq!(
        (retried.status, retried.body.as_str()),
        (StatusCode::OK, "evt_panics")
    );
    assert_eq!(runs.count(), 2, "the redelivery ran the handler");
}

#[tokio::test]
async fn a_delivery_in_progress_gets_409_with_retry_after_until_it_is_dropped() {
    let (router, runs) = app();
    let signed = sample("evt_hangs");

    let first = tokio::spawn(router.clone().oneshot(delivery("/hangs-first", &signed)));
    runs.started.notified().await;

    let busy = send(&router, delivery("/hangs-first", &signed)).await;
    assert_eq!(busy.status, StatusCode::CONFLICT, "{busy:?}");
    assert_eq!(busy.content_type.as_deref(), Some("application/json"));
    assert_eq!(busy.error_type(), "invalid_request");
    let seconds: u64 = busy
        .retry_after
        .as_deref()
        .expect("Retry-After on a 409")
        .parse()
        .expect("whole seconds");
    assert!((1..=LEASE.as_secs()).contains(&seconds), "{seconds}");
    assert_eq!(runs.count(), 1, "the busy delivery did not run the handler");

    // The sender gave up on the first delivery: dropping it releases the claim.
    first.abort();
    assert!(first.await.is_err_and(|error| error.is_cancelled()));

    let retried = send(&router, delivery("/hangs-first", &signed)).await;
    assert_eq!(
        (retried.status, retried.body.as_str()),
        (StatusCode::OK, "evt_hangs")
    );
    assert_eq!(runs.count(), 2);
}

#[tokio::test]
async fn an_unusable_store_gets_503_with_retry_after_and_no_handler() {
    // A store with room for one claim, taken by another event.
    let dedup = Deduplicator::new(MemoryStore::new().with_max_entries(1));
    let _held = dedup.claim_id("evt_other").await.expect("claim");
    let (router, runs) = app_with(dedup);

    let answer = send(&router, delivery("/succeeds", &sample("evt_full"))).await;

    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert_eq!(answer.retry_after.as_deref(), Some("5"));
    assert_eq!(
        answer.body,
        r#"{"type":"api_error","message":"event cannot be processed right now; retry later"}"#
    );
    assert_eq!(runs.count(), 0);
}

#[tokio::test]
async fn refused_requests_claim_nothing() {
    let store = Arc::new(MemoryStore::new());
    let shared: Arc<dyn EventStore> = Arc::clone(&store) as Arc<dyn EventStore>;
    let (router, runs) = app_with(Deduplicator::from_shared(shared));
    let signed = sample("evt_target");
    let forged = SignedRequest::new("whsec_forger", signed.body().to_vec()).expect("signed");
    let not_an_event = SignedRequest::new(
        SECRET,
        br#"{"id":"evt_target","type":"contact.created","payload":{}}"#.to_vec(),
    )
    .expect("signed");

    let answer = send(&router, delivery("/succeeds", &forged)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = send(&router, delivery("/succeeds", &not_an_event)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(store.is_empty(), "a refused request reached the store");

    let answer = send(&router, delivery("/succeeds", &signed)).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, "evt_target")
    );
    assert_eq!(runs.count(), 1);
    assert_eq!(store.len(), 1);
}
