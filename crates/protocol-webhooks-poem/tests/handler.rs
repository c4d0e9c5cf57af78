//! Testing a user's handler without a network: a signed sample event goes
//! through the app in process, as the README shows.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use poem::http::StatusCode;
use poem::test::TestClient;
use poem::web::{Data, Json};
use poem::{Endpoint, EndpointExt, Route, handler, post};
use protocol_webhooks_poem::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_poem::{EventType, Payload, Webhook, WebhookConfig};
use serde_json::{Value, json};

const SECRET: &str = "whsec_handler_test";

/// Counts the events the handler saw, so a test can tell it never ran.
#[derive(Clone, Default)]
struct Handled(Arc<AtomicUsize>);

#[handler]
fn on_webhook(Webhook(event): Webhook, Data(handled): Data<&Handled>) -> Json<Value> {
    handled.0.fetch_add(1, Ordering::SeqCst);
    let text = match &event.payload {
        Payload::Message(message) => message.message.clone(),
        _ => None,
    };
    Json(json!({
        "id": event.id,
        "type": event.event_type.as_str(),
        "text": text,
    }))
}

fn app(handled: &Handled) -> impl Endpoint {
    Route::new()
        .at("/webhooks", post(on_webhook))
        .data(WebhookConfig::new(SECRET).expect("non-empty secret"))
        .data(handled.clone())
}

async fn send(handled: &Handled, request: SignedRequest) -> poem::test::TestResponse {
    TestClient::new(app(handled))
        .post("/webhooks")
        .header(request.header_name(), request.signature())
        .body(request.into_body())
        .send()
        .await
}

#[tokio::test]
async fn handler_sees_the_signed_sample_message() {
    let handled = Handled::default();
    let request = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");

    let response = send(&handled, request).await;

    response.assert_status_is_ok();
    response
        .assert_json(json!({
            "id": "evt_sample",
            "type": "message.created",
            "text": "I’m traveling with my dad. He’s at a meeting. I hate meetings.",
        }))
        .await;
    assert_eq!(handled.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn handler_does_not_run_for_a_request_signed_with_another_secret() {
    let handled = Handled::default();
    let request =
        SignedRequest::sample("whsec_someone_else", &EventType::MessageCreated).expect("sample");

    let response = send(&handled, request).await;

    response.assert_status(StatusCode::UNAUTHORIZED);
    response.assert_content_type("application/json");
    assert_eq!(handled.0.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn handler_does_not_run_for_an_authentic_body_that_is_not_an_event() {
    let handled = Handled::default();
    let request = SignedRequest::new(SECRET, br#"{"id":"evt_1"}"#.to_vec()).expect("signed");

    let response = send(&handled, request).await;

    response.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(handled.0.load(Ordering::SeqCst), 0);
}
