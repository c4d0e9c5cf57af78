//! What a refused request leaves in the logs: one line at the core's level
//! for its reason, with the reason and status, and nothing that helps forge
//! a signature.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::post;
use protocol_webhooks_axum::protocol_webhooks::samples::SignedRequest;
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
    assert!(warnings[0].contains("webhook refused"), "{logs}");
    assert!(
        warnings[0].contains("reason=\"signature_mismatch\""),
        "{logs}"
    );
    assert!(warnings[0].contains("status=401"), "{logs}");
    // The event is not authentic, so its id is not worth logging.
    assert!(!warnings[0].contains("event_id"), "{logs}");
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
async fn a_duplicate_and_a_busy_delivery_are_logged_at_info_with_the_event_id() {
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
    assert!(
        duplicates[0].contains("webhook already processed"),
        "{logs}"
    );
    assert!(duplicates[0].contains("status=200"), "{logs}");
    assert!(duplicates[0].contains("event_id=\"evt_sample\""), "{logs}");
    let busy: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("reason=\"in_progress\""))
        .collect();
    assert_eq!(busy.len(), 1, "{logs}");
    assert!(busy[0].contains(" INFO "), "{logs}");
    assert!(
        busy[0].contains("webhook being processed by another delivery"),
        "{logs}"
    );
    assert!(busy[0].contains("status=409"), "{logs}");
    assert!(busy[0].contains("event_id=\"evt_busy\""), "{logs}");
    assert!(!logs.contains("WARN") && !logs.contains("ERROR"), "{logs}");
}

#[tokio::test]
async fn a_body_cut_short_is_debug_and_an_unusable_store_is_an_error() {
    use axum::extract::FromRef;
    use bytes::Bytes;
    use protocol_webhooks_axum::protocol_webhooks::dedup::MemoryStore;
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
    tracing::callsite::rebuild_interest_cache();

    // Room for one claim, taken by another event.
    let dedup = Deduplicator::new(MemoryStore::new().with_max_entries(1));
    let _held = dedup.claim_id("evt_other").await.expect("claim");
    let app = Router::new()
        .route(
            "/webhooks",
            post(|claimed: ClaimedWebhook| async move {
                let _ = claimed.commit().await;
            }),
        )
        .with_state(State {
            config: WebhookConfig::new(SECRET).expect("non-empty secret"),
            dedup,
        });
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let chunks = vec![
        Ok(Bytes::copy_from_slice(&signed.body()[..20])),
        Err(io::Error::other("connection reset")),
    ];
    let cut_short = Request::post("/webhooks")
        .header("x-protocol-signature", signed.signature())
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .expect("valid request");
    let full_store = Request::post("/webhooks")
        .header("x-protocol-signature", signed.signature())
        .body(Body::from(signed.body().to_vec()))
        .expect("valid request");
    for request in [cut_short, full_store] {
        let _ = app.clone().oneshot(request).await.expect("infallible");
    }

    let logs = captured.text();
    let line = |reason: &str| -> Vec<&str> {
        let field = format!("reason=\"{reason}\"");
        logs.lines().filter(|line| line.contains(&field)).collect()
    };
    let incomplete = line("incomplete_body");
    assert_eq!(incomplete.len(), 1, "{logs}");
    assert!(incomplete[0].contains("DEBUG"), "{logs}");
    assert!(incomplete[0].contains("status=400"), "{logs}");
    let unavailable = line("store_unavailable");
    assert_eq!(unavailable.len(), 1, "{logs}");
    assert!(unavailable[0].contains("ERROR"), "{logs}");
    assert!(unavailable[0].contains("status=503"), "{logs}");
    assert!(unavailable[0].contains("event_id=\"evt_sample\""), "{logs}");
    assert!(!logs.contains("WARN"), "{logs}");
}
