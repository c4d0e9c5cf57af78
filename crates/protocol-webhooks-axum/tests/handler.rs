//! A user's handler tested without a network: signed sample requests go
//! through the router's in-process pipeline, as the README shows.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{Request, StatusCode};
use axum::response::Response;
use axum::routing::post;
use protocol_webhooks_axum::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_axum::{EventType, Payload, Webhook, WebhookConfig};
use tower::ServiceExt as _;

const SECRET: &str = "whsec_handler_test";

/// An application state holding more than the webhook configuration.
#[derive(Clone, FromRef)]
struct AppState {
    webhooks: WebhookConfig,
    handled: Arc<AtomicUsize>,
}

/// Answers with the id of the message's conversation, or of the resource.
async fn on_webhook(State(handled): State<Arc<AtomicUsize>>, Webhook(event): Webhook) -> String {
    handled.fetch_add(1, Ordering::SeqCst);
    match event.payload {
        Payload::Message(message) => message.conversation_id.unwrap_or_default(),
        Payload::Contact(contact) => contact.username.unwrap_or_default(),
        other => other.id().unwrap_or_default().to_owned(),
    }
}

fn app() -> (Router, Arc<AtomicUsize>) {
    let handled = Arc::new(AtomicUsize::new(0));
    let state = AppState {
        webhooks: WebhookConfig::new(SECRET).expect("non-empty secret"),
        handled: Arc::clone(&handled),
    };
    let router = Router::new()
        .route("/webhooks", post(on_webhook))
        .with_state(state);
    (router, handled)
}

fn post_webhook(body: impl Into<Body>, signature: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/webhooks").header("content-type", "application/json");
    if let Some(signature) = signature {
        request = request.header("x-protocol-signature", signature);
    }
    request.body(body.into()).expect("valid request")
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response: Response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("in-memory body");
    (
        status,
        String::from_utf8(body.to_vec()).expect("UTF-8 body"),
    )
}

#[tokio::test]
async fn signed_sample_reaches_the_handler_with_its_typed_payload() {
    let (router, handled) = app();
    let request = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let (status, body) = send(
        &router,
        post_webhook(request.body().to_vec(), Some(request.signature())),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Protocol's documented example message belongs to this conversation.
    assert_eq!(body, "xgQQXg3hrtjh7AvZ");
    assert_eq!(handled.load(Ordering::SeqCst), 1);

    let request = SignedRequest::sample(SECRET, &EventType::ContactUpdated).expect("sample");
    let (status, body) = send(
        &router,
        post_webhook(request.body().to_vec(), Some(request.signature())),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "FrankMcCallister")
    );
    assert_eq!(handled.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_handler_never_runs_for_a_refused_request() {
    let (router, handled) = app();
    let request = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");

    let mut tampered = request.body().to_vec();
    tampered[10] ^= 1;
    let forged =
        SignedRequest::sample("whsec_someone_else", &EventType::MessageCreated).expect("sample");
    let not_an_event = SignedRequest::new(SECRET, b"{}".to_vec()).expect("signed");

    for (request, status, reason) in [
        (
            post_webhook(tampered, Some(request.signature())),
            401,
            "tampered",
        ),
        (post_webhook(request.body().to_vec(), None), 401, "unsigned"),
        (
            post_webhook(forged.body().to_vec(), Some(forged.signature())),
            401,
            "another secret",
        ),
        (
            post_webhook(not_an_event.body().to_vec(), Some(not_an_event.signature())),
            400,
            "not an event",
        ),
    ] {
        let (got, body) = send(&router, request).await;
        assert_eq!(got.as_u16(), status, "{reason}: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).expect("JSON rejection");
        assert_eq!(json["type"], "invalid_request", "{reason}");
    }
    assert_eq!(handled.load(Ordering::SeqCst), 0);
}
