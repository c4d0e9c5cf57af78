//! What the extractors leave in the logs: one line per answer with its class
//! only, at the level of its reason: a refused request is a warning, a
//! duplicate or a busy event routine information, a client that went away a
//! debug line, and a server or store fault an error.

use core::time::Duration;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use actix_http::BoxedPayloadStream;
use actix_web::dev::{Payload, Service, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, test, web};
use futures_util::stream;
use protocol_webhooks_actix_web::protocol_webhooks::dedup::{
    ClaimOutcome, ClaimToken, EventStore, StoreFuture,
};
use protocol_webhooks_actix_web::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_actix_web::{
    ClaimedWebhook, Deduplicator, EventType, StoreError, WebhookConfig,
};

const SECRET: &str = "whsec_logging_test";

/// Log output, shared with the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Captures this thread's logs until the guard is dropped. The actix
    /// test runtime handles requests on the test's own thread.
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        // A callsite first hit on another test's thread, with no subscriber there,
        // may have cached "never"; recompute with this thread's subscriber live.
        tracing::callsite::rebuild_interest_cache();
        guard
    }

    fn lines_with(&self, needle: &str) -> Vec<String> {
        self.text()
            .lines()
            .filter(|line| line.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

async fn commits(claimed: ClaimedWebhook) -> HttpResponse {
    match claimed.commit().await {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(error) => HttpResponse::InternalServerError().body(error.to_string()),
    }
}

async fn send<S>(app: &S, signed: &SignedRequest, signature: &str) -> u16
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let request = test::TestRequest::post()
        .uri("/once")
        .insert_header((signed.header_name(), signature))
        .set_payload(signed.body().to_vec())
        .to_request();
    test::call_service(app, request).await.status().as_u16()
}

fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET).expect("non-empty secret")
}

/// The one line of each answer, with the message every answer line has.
fn answer_lines(captured: &Captured) -> Vec<String> {
    captured
        .text()
        .lines()
        .filter(|line| line.contains(" protocol_webhooks::answer: "))
        .map(str::to_owned)
        .collect()
}

fn assert_fields(line: &str, fields: &[&str], logs: &str) {
    for field in fields {
        assert!(line.contains(field), "{field} missing from {line}\n{logs}");
    }
}

#[actix_web::test]
async fn each_answer_is_one_line_at_its_level_without_secrets() {
    let captured = Captured::default();
    let _guard = captured.install();
    let dedup = Deduplicator::in_memory();
    let app = test::init_service(
        App::new()
            .app_data(config())
            .app_data(dedup.clone())
            .route("/once", web::post().to(commits)),
    )
    .await;
    let processed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let busy = SignedRequest::new(
        SECRET,
        br#"{"id":"evt_busy","type":"contact.created","payload":{"id":"c"}}"#.to_vec(),
    )
    .expect("signed");
    let forged = SignedRequest::sample("whsec_forger", &EventType::MessageCreated).expect("sample");
    let not_an_event = SignedRequest::new(SECRET, "[]").expect("signed");
    let _held = dedup.claim_id("evt_busy").await.expect("the id is free");

    assert_eq!(send(&app, &processed, processed.signature()).await, 200);
    assert_eq!(send(&app, &processed, processed.signature()).await, 200);
    assert_eq!(send(&app, &busy, busy.signature()).await, 409);
    assert_eq!(send(&app, &processed, forged.signature()).await, 401);
    assert_eq!(
        send(&app, &not_an_event, not_an_event.signature()).await,
        400
    );

    let logs = captured.text();
    let lines = answer_lines(&captured);
    assert_eq!(lines.len(), 4, "{logs}");
    assert_fields(
        &lines[0],
        &[
            " INFO ",
            "webhook already processed",
            "reason=\"duplicate\"",
            "status=200",
            "event_id=\"evt_sample\"",
        ],
        &logs,
    );
    assert_fields(
        &lines[1],
        &[
            " INFO ",
            "webhook being processed by another delivery",
            "reason=\"in_progress\"",
            "status=409",
            "event_id=\"evt_busy\"",
        ],
        &logs,
    );
    assert_fields(
        &lines[2],
        &[" WARN ", "reason=\"signature_mismatch\"", "status=401"],
        &logs,
    );
    assert_fields(
        &lines[3],
        &[" WARN ", "reason=\"invalid_event\"", "status=400"],
        &logs,
    );
    // Before the signature is checked, an event id is not to be trusted.
    assert!(!lines[2].contains("event_id"), "{logs}");
    assert!(captured.lines_with(" ERROR ").is_empty(), "{logs}");
    for secret_material in [
        SECRET,
        "whsec_forger",
        processed.signature(),
        forged.signature(),
    ] {
        assert!(
            !logs.contains(secret_material),
            "logs leak {secret_material}: {logs}"
        );
    }
}

#[actix_web::test]
async fn a_body_too_large_is_a_warning_and_a_cut_body_a_debug_line() {
    let captured = Captured::default();
    let _guard = captured.install();
    let app = test::init_service(
        App::new()
            .app_data(config().with_body_limit(8))
            .app_data(Deduplicator::in_memory())
            .route("/once", web::post().to(commits)),
    )
    .await;
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    assert_eq!(send(&app, &signed, signed.signature()).await, 413);

    let chunks: BoxedPayloadStream = Box::pin(stream::iter([
        Ok(Bytes::from_static(b"{")),
        Err(PayloadError::Incomplete(None)),
    ]));
    let (request, _) = test::TestRequest::post()
        .uri("/once")
        .insert_header((signed.header_name(), signed.signature()))
        .to_request()
        .replace_payload(Payload::from(chunks));
    assert_eq!(test::call_service(&app, request).await.status(), 400);

    let logs = captured.text();
    let lines = answer_lines(&captured);
    assert_eq!(lines.len(), 2, "{logs}");
    assert_fields(
        &lines[0],
        &[" WARN ", "reason=\"payload_too_large\"", "status=413"],
        &logs,
    );
    assert_fields(
        &lines[1],
        &[" DEBUG ", "reason=\"incomplete_body\"", "status=400"],
        &logs,
    );
}

#[actix_web::test]
async fn a_missing_deduplicator_is_one_error_naming_it() {
    let captured = Captured::default();
    let _guard = captured.install();
    let app = test::init_service(
        App::new()
            .app_data(config())
            .route("/once", web::post().to(commits)),
    )
    .await;
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");

    assert_eq!(send(&app, &signed, signed.signature()).await, 500);

    let logs = captured.text();
    let errors = captured.lines_with(" ERROR ");
    assert_eq!(errors.len(), 1, "{logs}");
    assert_fields(
        &errors[0],
        &[
            "webhook refused",
            "reason=\"missing_configuration\"",
            "status=500",
            "missing=\"Deduplicator\"",
        ],
        &logs,
    );
    assert!(captured.lines_with(" WARN ").is_empty(), "{logs}");
}

#[actix_web::test]
async fn a_missing_webhook_config_is_one_error_naming_it() {
    let captured = Captured::default();
    let _guard = captured.install();
    let app = test::init_service(
        App::new()
            .app_data(Deduplicator::in_memory())
            .route("/once", web::post().to(commits)),
    )
    .await;
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");

    assert_eq!(send(&app, &signed, signed.signature()).await, 500);

    let logs = captured.text();
    let lines = answer_lines(&captured);
    assert_eq!(lines.len(), 1, "{logs}");
    assert_fields(
        &lines[0],
        &[
            " ERROR ",
            "reason=\"missing_configuration\"",
            "status=500",
            "missing=\"WebhookConfig\"",
        ],
        &logs,
    );
}

/// A store that cannot be reached, as a stopped Redis.
struct Unreachable;

impl EventStore for Unreachable {
    fn claim<'a>(&'a self, _: &'a str, _: Duration) -> StoreFuture<'a, ClaimOutcome> {
        Box::pin(async { Err(StoreError::unavailable("redis://:hunter2@db refused")) })
    }

    fn commit<'a>(&'a self, _: &'a str, _: &'a ClaimToken, _: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::unavailable("redis://:hunter2@db refused")) })
    }

    fn release<'a>(&'a self, _: &'a str, _: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::unavailable("redis://:hunter2@db refused")) })
    }

    fn release_detached(&self, _: String, _: ClaimToken) {}
}

#[actix_web::test]
async fn an_unreachable_store_is_an_error_without_its_details() {
    let captured = Captured::default();
    let _guard = captured.install();
    let app = test::init_service(
        App::new()
            .app_data(config())
            .app_data(Deduplicator::new(Unreachable))
            .route("/once", web::post().to(commits)),
    )
    .await;
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");

    assert_eq!(send(&app, &signed, signed.signature()).await, 503);

    let logs = captured.text();
    let lines = answer_lines(&captured);
    assert_eq!(lines.len(), 1, "{logs}");
    assert_fields(
        &lines[0],
        &[
            " ERROR ",
            "reason=\"store_unavailable\"",
            "status=503",
            "event_id=\"evt_sample\"",
        ],
        &logs,
    );
    assert!(!logs.contains("hunter2"), "{logs}");
}
