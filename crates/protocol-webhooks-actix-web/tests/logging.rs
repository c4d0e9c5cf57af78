//! What the extractors leave in the logs: one line per refusal with its
//! class only, a duplicate as routine information, and a missing
//! registration as an error.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{App, HttpResponse, test, web};
use protocol_webhooks_actix_web::protocol_webhooks::testing::SignedRequest;
use protocol_webhooks_actix_web::{ClaimedWebhook, Deduplicator, EventType, WebhookConfig};

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

#[actix_web::test]
async fn a_duplicate_is_information_and_other_refusals_are_warnings_without_secrets() {
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
    let _held = dedup.claim_id("evt_busy").await.expect("the id is free");

    assert_eq!(send(&app, &processed, processed.signature()).await, 200);
    assert_eq!(send(&app, &processed, processed.signature()).await, 200);
    assert_eq!(send(&app, &busy, busy.signature()).await, 409);
    assert_eq!(send(&app, &processed, forged.signature()).await, 401);

    let logs = captured.text();
    let duplicates = captured.lines_with("reason=\"duplicate\"");
    assert_eq!(duplicates.len(), 1, "{logs}");
    assert!(duplicates[0].contains(" INFO "), "{logs}");
    assert!(duplicates[0].contains("status=200"), "{logs}");
    assert!(duplicates[0].contains("event_id=evt_sample"), "{logs}");

    let warnings = captured.lines_with(" WARN ");
    assert_eq!(warnings.len(), 2, "{logs}");
    assert!(warnings[0].contains("reason=\"in_progress\""), "{logs}");
    assert!(warnings[0].contains("status=409"), "{logs}");
    assert!(
        warnings[1].contains("reason=\"signature_mismatch\""),
        "{logs}"
    );
    assert!(warnings[1].contains("status=401"), "{logs}");
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
    assert!(errors[0].contains("missing=\"Deduplicator\""), "{logs}");
    assert!(captured.lines_with(" WARN ").is_empty(), "{logs}");
}
