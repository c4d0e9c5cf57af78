//! What a refused request leaves in the logs: one `warn` line with the
//! failure class and status, and nothing that helps forge a signature.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::post;
use protocol_webhooks_axum::protocol_webhooks::testing::SignedRequest;
use protocol_webhooks_axum::{EventType, Webhook, WebhookConfig};
use tower::ServiceExt as _;

const SECRET: &str = "whsec_logging_test";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
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

#[tokio::test]
async fn each_rejection_logs_one_warning_with_its_class_only() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // A callsite first hit on another test's thread, with no subscriber there,
    // may have cached "never"; recompute with this thread's subscriber live.
    tracing::callsite::rebuild_interest_cache();

    let app = Router::new()
        .route(
            "/webhooks",
            post(|Webhook(event): Webhook| async move { event.id }),
        )
        .with_state(WebhookConfig::new(SECRET).expect("non-empty secret"));
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let forged = SignedRequest::sample("whsec_forger", &EventType::MessageCreated).expect("sample");

    let valid = Request::post("/webhooks")
        .header("x-protocol-signature", signed.signature())
        .body(Body::from(signed.body().to_vec()))
        .expect("valid request");
    let mismatched = Request::post("/webhooks")
        .header("x-protocol-signature", forged.signature())
        .body(Body::from(signed.body().to_vec()))
        .expect("valid request");
    for request in [valid, mismatched] {
        let _ = app.clone().oneshot(request).await.expect("infallible");
    }

    let logs = captured.text();
    let warnings: Vec<&str> = logs.lines().filter(|line| line.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{logs}");
    assert!(warnings[0].contains("webhook rejected"), "{logs}");
    assert!(warnings[0].contains("signature_mismatch"), "{logs}");
    assert!(warnings[0].contains("status=401"), "{logs}");
    for secret_material in [
        SECRET,
        "whsec_forger",
        signed.signature(),
        forged.signature(),
    ] {
        assert!(
            !logs.contains(secret_material),
            "logs leak {secret_material}: {logs}"
        );
    }
}

#[tokio::test]
async fn a_duplicate_is_logged_at_info_and_a_busy_delivery_as_a_warning() {
    use axum::extract::FromRef;
    use protocol_webhooks_axum::{ClaimedWebhook, Deduplicator};

    #[derive(Clone, FromRef)]
    struct State {
        config: WebhookConfig,
        dedup: Deduplicator,
    }

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // A callsite first hit on another test's thread, with no subscriber there,
    // may have cached "never"; recompute with this thread's subscriber live.
    tracing::callsite::rebuild_interest_cache();

    let dedup = Deduplicator::in_memory();
    let app = Router::new()
        .route(
            "/webhooks",
            post(|claimed: ClaimedWebhook| async move {
                let _ = claimed.commit().await;
            }),
        )
        .with_state(State {
            config: WebhookConfig::new(SECRET).expect("non-empty secret"),
            dedup: dedup.clone(),
        });
    let processed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let busy = SignedRequest::new(
        SECRET,
        br#"{"id":"evt_busy","type":"contact.created","payload":{"id":"c"}}"#.to_vec(),
    )
    .expect("signed");
    let _held = dedup.claim_id("evt_busy").await.expect("claim");
    let request = |signed: &SignedRequest| {
        Request::post("/webhooks")
            .header("x-protocol-signature", signed.signature())
            .body(Body::from(signed.body().to_vec()))
            .expect("valid request")
    };
    for request in [request(&processed), request(&processed), request(&busy)] {
        let _ = app.clone().oneshot(request).await.expect("infallible");
    }

    let logs = captured.text();
    let duplicates: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("reason=\"duplicate\""))
        .collect();
    assert_eq!(duplicates.len(), 1, "{logs}");
    assert!(duplicates[0].contains(" INFO "), "{logs}");
    assert!(duplicates[0].contains("status=200"), "{logs}");
    let warnings: Vec<&str> = logs.lines().filter(|line| line.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{logs}");
    assert!(warnings[0].contains("reason=\"in_progress\""), "{logs}");
    assert!(warnings[0].contains("status=409"), "{logs}");
}
