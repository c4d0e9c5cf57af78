//! The exactly-once extractor where the conformance suite cannot look: how
//! often the handler really ran, what a panicking or abandoned handler
//! leaves behind, and the answers without a store or a registration.

use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::panic::AssertUnwindSafe;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, RETRY_AFTER};
use actix_web::{App, HttpResponse, test, web};
use futures_util::FutureExt as _;
use protocol_webhooks_actix_web::protocol_webhooks::dedup::{
    ClaimOutcome, ClaimToken, EventStore, ManualClock, MemoryStore, StoreFuture,
};
use protocol_webhooks_actix_web::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_actix_web::{
    ClaimedWebhook, Deduplicator, EventType, StoreError, Unclaimed, WebhookConfig, WebhookRejection,
};

const SECRET: &str = "whsec_claimed_test";
/// `SignedRequest::sample` always uses this id.
const EVENT_ID: &str = "evt_sample";

fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET).expect("non-empty secret")
}

/// How many times a handler got past the extractor.
#[derive(Default)]
struct Runs(AtomicUsize);

impl Runs {
    /// Counts one run and returns its number, from 1.
    fn start(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Succeeds and commits every time.
async fn commits(claimed: ClaimedWebhook, runs: web::Data<Runs>) -> HttpResponse {
    runs.start();
    let id = claimed.id.clone();
    match claimed.commit().await {
        Ok(()) => HttpResponse::Ok().body(id),
        Err(error) => HttpResponse::InternalServerError().body(error.to_string()),
    }
}

/// Fails its first run with an error, succeeds after.
async fn fails_first(
    claimed: ClaimedWebhook,
    runs: web::Data<Runs>,
) -> Result<HttpResponse, actix_web::Error> {
    if runs.start() == 1 {
        // `?` on the handler's own error drops the claim uncommitted.
        return Err(actix_web::error::ErrorInternalServerError(
            "downstream failed",
        ));
    }
    claimed
        .commit()
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok().body("done"))
}

/// Panics on its first run, succeeds after.
async fn panics_first(claimed: ClaimedWebhook, runs: web::Data<Runs>) -> HttpResponse {
    assert!(runs.start() > 1, "the handler panics on its first run");
    match claimed.commit().await {
        Ok(()) => HttpResponse::Ok().body("done"),
        Err(error) => HttpResponse::InternalServerError().body(error.to_string()),
    }
}

/// Never finishes its first run, as when the client goes away mid-handler.
async fn hangs_first(claimed: ClaimedWebhook, runs: web::Data<Runs>) -> HttpResponse {
    if runs.start() == 1 {
        futures_util::future::pending::<()>().await;
    }
    match claimed.commit().await {
        Ok(()) => HttpResponse::Ok().body("done"),
        Err(error) => HttpResponse::InternalServerError().body(error.to_string()),
    }
}

fn signed_request() -> actix_http::Request {
    let signed = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("secret");
    test::TestRequest::post()
        .uri("/once")
        .insert_header((signed.header_name(), signed.signature()))
        .set_payload(signed.into_body())
        .to_request()
}

struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    retry_after: Option<String>,
    body: String,
}

fn header_text(
    response: &ServiceResponse,
    name: impl actix_web::http::header::AsHeaderName,
) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

async fn send<S>(app: &S) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let response = test::call_service(app, signed_request()).await;
    let status = response.status();
    let content_type = header_text(&response, CONTENT_TYPE);
    let retry_after = header_text(&response, RETRY_AFTER);
    let body = test::read_body(response).await;
    Answer {
        status,
        content_type,
        retry_after,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn assert_duplicate(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert_eq!(answer.retry_after, None);
    assert_eq!(
        answer.body,
        r#"{"type":"duplicate","message":"event evt_sample already processed"}"#
    );
}

#[actix_web::test]
async fn commit_makes_redeliveries_duplicates_without_the_handler() {
    let runs = web::Data::new(Runs::default());
    let app = test::init_service(
        App::new()
            .app_data(config())
            .app_data(Deduplicator::in_memory())
            .app_data(runs.clone())
            .route("/once", web::post().to(commits)),
    )
    .await;

    let first = send(&app).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body, EVENT_ID);
    for _ in 0..3 {
        assert_duplicate(&send(&app).await);
    }
    assert_eq!(runs.count(), 1);
}

#[actix_web::test]
async fn handler_error_releases_the_claim() {
    let runs = web::Data::new(Runs::default());
    let app = test::init_service(
        App::new()
            .app_data(config())
            .app_data(Deduplicator::in_memory())
            .app_data(runs.clone())
            .route("/once", web::post().to(fails_first)),
    )
    .await;

    assert_eq!(send(&app).await.status, StatusCode::INTERNAL_SERVER_ERROR);
    let redelivery = send(&app).await;
    assert_eq!(redelivery.status, StatusCode::OK);
    assert_eq!(redelivery.body, "done");
    assert_duplicate(&send(&app).await);
    assert_eq!(runs.count(), 2);
}

#[actix_web::test]
async fn handler_panic_releases_the_claim() {
    let runs = web::Data::new(Runs::default());
    let app = test::init_service(
        App::new()
            .app_data(config())
            .app_data(Deduplicator::in_memory())
            .app_data(runs.clone())
            .route("/once", web::post().to(panics_first)),
    )
    .await;

    // In-process the panic reaches the caller; on a server it ends the
    // connection. Either way the claim is dropped while unwinding.
    let panicked = AssertUnwindSafe(test::call_service(&app, signed_request()))
        .catch_unwind()
        .await;
    assert!(panicked.is_err(), "the first run panics");

    let redelivery = send(&app).await;
    assert_eq!(redelivery.status, StatusCode::OK);
    assert_eq!(redelivery.body, "done");
    assert_eq!(runs.count(), 2);
}

#[actix_web::test]
async fn dropped_request_releases_the_claim() {
    let runs = web::Data::new(Runs::default());
    let app = test::init_service(
        App::new()
            .app_data(config())
            .app_data(Deduplicator::in_memory())
            .app_data(runs.clone())
            .route("/once", web::post().to(hangs_first)),
    )
    .await;

    let abandoned = actix_web::rt::time::timeout(
        Duration::from_millis(200),
        test::call_service(&app, signed_request()),
    )
    .await;
    assert!(abandoned.is_err(), "the first run never answers");
    assert_eq!(runs.count(), 1, "the first run reached the handler");

    let redelivery = send(&app).await;
    assert_eq!(redelivery.status, StatusCode::OK);
    assert_eq!(redelivery.body, "done");
    assert_eq!(runs.count(), 2);
}

#[actix_web::test]
async fn in_progress_elsewhere_is_409_with_the_rest_of_the_lease() {
    let clock = ManualClock::new();
    let dedup = Deduplicator::new(MemoryStore::new().with_clock(clock.clone()))
        .with_lease(Duration::from_secs(30));
    let runs = web::Data::new(Runs::default());
    let app = test::init_service(
        App::new()
            .app_data(config())
            .app_data(dedup.clone())
            .app_data(runs.clone())
            .route("/once", web::post().to(commits)),
    )
    .await;

    // Another replica is handling the event.
    let held = dedup.claim_id(EVENT_ID).await.expect("the id is free");
    let busy = send(&app).await;
    assert_eq!(busy.status, StatusCode::CONFLICT);
    assert_eq!(busy.content_type.as_deref(), Some("application/json"));
    assert_eq!(busy.retry_after.as_deref(), Some("30"));
    assert_eq!(
        busy.body,
        r#"{"type":"invalid_request","message":"event is being processed by another delivery; retry in 30 s"}"#
    );

    clock.advance(Duration::from_millis(20_500));
    assert_eq!(send(&app).await.retry_after.as_deref(), Some("10"));
    assert_eq!(runs.count(), 0);

    // The other replica failed: the next delivery runs the handler.
    drop(held);
    assert_eq!(send(&app).await.status, StatusCode::OK);
    assert_eq!(runs.count(), 1);
}

/// A store that cannot be reached, as a stopped Redis.
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

#[actix_web::test]
async fn unreachable_store_is_503_with_retry_after() {
    let runs = web::Data::new(Runs::default());
    let app = test::init_service(
        App::new()
            .app_data(config())
            .app_data(Deduplicator::new(Unreachable))
            .app_data(runs.clone())
            .route("/once", web::post().to(commits)),
    )
    .await;

    let answer = send(&app).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert_eq!(answer.retry_after.as_deref(), Some("5"));
    assert_eq!(
        answer.body,
        r#"{"type":"api_error","message":"event cannot be processed right now; retry later"}"#
    );
    assert_eq!(runs.count(), 0);
}

#[actix_web::test]
async fn missing_deduplicator_is_a_500_api_error() {
    let runs = web::Data::new(Runs::default());
    let app = test::init_service(
        App::new()
            .app_data(config())
            .app_data(runs.clone())
            .route("/once", web::post().to(commits)),
    )
    .await;

    let answer = send(&app).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert_eq!(answer.retry_after, None);
    assert_eq!(
        answer.body,
        r#"{"type":"api_error","message":"webhook configuration is missing"}"#
    );
    assert_eq!(runs.count(), 0);
}

#[actix_web::test]
async fn missing_webhook_config_is_the_same_500() {
    let runs = web::Data::new(Runs::default());
    let app = test::init_service(
        App::new()
            .app_data(Deduplicator::in_memory())
            .app_data(runs.clone())
            .route("/once", web::post().to(commits)),
    )
    .await;

    let answer = send(&app).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        answer.body,
        r#"{"type":"api_error","message":"webhook configuration is missing"}"#
    );
    assert_eq!(runs.count(), 0);
}

#[actix_web::test]
async fn deduplicator_may_be_registered_as_web_data_per_scope() {
    let runs = web::Data::new(Runs::default());
    let app = test::init_service(
        App::new()
            .app_data(config())
            .app_data(runs.clone())
            .service(
                web::scope("")
                    .app_data(web::Data::new(Deduplicator::in_memory()))
                    .route("/once", web::post().to(commits)),
            ),
    )
    .await;

    assert_eq!(send(&app).await.status, StatusCode::OK);
    assert_duplicate(&send(&app).await);
    assert_eq!(runs.count(), 1);
}

#[actix_web::test]
async fn forged_delivery_neither_claims_nor_runs_the_handler() {
    let dedup = Deduplicator::in_memory();
    let runs = web::Data::new(Runs::default());
    let app = test::init_service(
        App::new()
            .app_data(config())
            .app_data(dedup.clone())
            .app_data(runs.clone())
            .route("/once", web::post().to(commits)),
    )
    .await;

    let forged =
        SignedRequest::sample("whsec_attacker", &EventType::ContactCreated).expect("secret");
    let request = test::TestRequest::post()
        .uri("/once")
        .insert_header((forged.header_name(), forged.signature()))
        .set_payload(forged.into_body())
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // The id is still free: the forged request never claimed it.
    let claim = dedup.claim_id(EVENT_ID).await.expect("the id is free");
    claim.release().await.expect("released");
    assert_eq!(runs.count(), 0);
}

/// A handler that answers refusals itself still sees the typed reason.
async fn inspects(claimed: Result<ClaimedWebhook, actix_web::Error>) -> HttpResponse {
    match claimed {
        Ok(claimed) => match claimed.commit().await {
            Ok(()) => HttpResponse::Created().finish(),
            Err(error) => HttpResponse::InternalServerError().body(error.to_string()),
        },
        Err(error) => match error
            .as_error::<WebhookRejection>()
            .map(WebhookRejection::answer)
        {
            Some(answer) => match answer.unclaimed() {
                Some(Unclaimed::Duplicate { event_id }) => {
                    HttpResponse::Accepted().body(format!("seen {event_id}"))
                }
                _ => HttpResponse::BadRequest().body(answer.reason()),
            },
            None => HttpResponse::InternalServerError().finish(),
        },
    }
}

#[actix_web::test]
async fn duplicate_can_be_inspected_as_a_webhook_rejection() {
    let app = test::init_service(
        App::new()
            .app_data(config())
            .app_data(Deduplicator::in_memory())
            .route("/once", web::post().to(inspects)),
    )
    .await;

    assert_eq!(send(&app).await.status, StatusCode::CREATED);
    let again = send(&app).await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.body, "seen evt_sample");
}
