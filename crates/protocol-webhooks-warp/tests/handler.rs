//! A user's handler tested without a network, as the README shows.

use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use protocol_webhooks_warp::protocol_webhooks::SignatureError;
use protocol_webhooks_warp::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_warp::{
    EventType, Payload, Rejection, Webhook, WebhookConfig, WebhookRejection, recover, webhook,
};
use warp::Filter;

const SECRET: &str = "whsec_handler";

/// What a user writes: one answer per resource.
async fn on_webhook(Webhook(event): Webhook) -> Result<impl warp::Reply, warp::Rejection> {
    let handled = match &event.payload {
        Payload::Message(message) => format!("message {}", message.id),
        Payload::Contact(contact) => format!("contact {}", contact.id),
        _ => format!("other {}", event.event_type),
    };
    Ok(handled)
}

fn routes(
    config: WebhookConfig,
) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
    warp::path!("webhooks")
        .and(warp::post())
        .and(webhook(config))
        .and_then(on_webhook)
        .recover(recover)
}

fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET).expect("non-empty secret")
}

#[tokio::test]
async fn a_signed_sample_reaches_the_handler() {
    let request = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("signed");
    let response = warp::test::request()
        .method("POST")
        .path("/webhooks")
        .header(request.header_name(), request.signature())
        .body(request.body())
        .reply(&routes(config()))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.body().as_ref(), b"message SIuAFUNKdSYHZF2w");
}

#[tokio::test]
async fn the_filter_alone_yields_the_parsed_event() {
    let request = SignedRequest::sample(SECRET, &EventType::ContactDeleted).expect("signed");
    let Webhook(event) = warp::test::request()
        .method("POST")
        .header(request.header_name(), request.signature())
        .body(request.body())
        .filter(&webhook(config()))
        .await
        .expect("verified");
    assert_eq!(event.id, "evt_sample");
    assert_eq!(event.event_type, EventType::ContactDeleted);
    assert!(matches!(event.payload, Payload::Contact(_)));
}

#[tokio::test]
async fn a_refused_request_never_reaches_the_handler() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = {
        let calls = Arc::clone(&calls);
        warp::path!("webhooks")
            .and(warp::post())
            .and(webhook(config()))
            .map(move |Webhook(event): Webhook| {
                calls.fetch_add(1, Ordering::SeqCst);
                event.id
            })
            .recover(recover)
    };
    let request =
        SignedRequest::sample("whsec_someone_else", &EventType::GroupCreated).expect("signed");
    let response = warp::test::request()
        .method("POST")
        .path("/webhooks")
        .header(request.header_name(), request.signature())
        .body(request.body())
        .reply(&counted)
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.body().as_ref(),
        br#"{"type":"invalid_request","message":"x-protocol-signature does not match the request body"}"#
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_rejection_is_typed() {
    let rejection = warp::test::request()
        .method("POST")
        .body(b"{}")
        .filter(&webhook(config()))
        .await
        .expect_err("unsigned");
    let webhook_rejection = rejection
        .find::<WebhookRejection>()
        .expect("a webhook rejection");
    let answer = webhook_rejection.answer();
    assert_eq!(answer.status(), 401);
    assert_eq!(answer.reason(), "signature_missing");
    assert!(matches!(
        answer.rejection(),
        Some(Rejection::Signature(SignatureError::Missing))
    ));
    assert_eq!(
        webhook_rejection.to_string(),
        "missing x-protocol-signature header"
    );
}

#[tokio::test]
async fn other_rejections_pass_through_recover() {
    let response = warp::test::request()
        .method("POST")
        .path("/elsewhere")
        .body(b"{}")
        .reply(&routes(config()))
        .await;
    assert_eq!(response.status(), 404);
}
