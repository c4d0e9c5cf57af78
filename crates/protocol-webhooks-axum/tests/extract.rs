//! Behaviour of the extractors that the shared suite cannot observe from
//! the outside: how much of a body is read, stream failures, header bytes,
//! and the rejection as a value.

use core::convert::Infallible;
use core::time::Duration;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use bytes::Bytes;
use protocol_webhooks_axum::protocol_webhooks::SignatureError;
use protocol_webhooks_axum::protocol_webhooks::dedup::StoreError;
use protocol_webhooks_axum::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_axum::{
    Answer, EventType, RawWebhook, Rejection, Unclaimed, Webhook, WebhookConfig, WebhookRejection,
};
use tower::ServiceExt as _;

const SECRET: &str = "whsec_extract_test";
const LIMIT: usize = 4096;

fn app() -> Router {
    let config = WebhookConfig::new(SECRET)
        .expect("non-empty secret")
        .with_body_limit(LIMIT);
    Router::new()
        .route(
            "/webhooks",
            post(|Webhook(event): Webhook| async move { event.id }),
        )
        .route(
            "/webhooks/raw",
            post(|RawWebhook(body): RawWebhook| async move { body.into_bytes() }),
        )
        .route("/lenient", post(lenient))
        .with_state(config)
}

/// Answers refusals itself, with the failure class as the body.
async fn lenient(outcome: Result<Webhook, WebhookRejection>) -> (StatusCode, String) {
    match outcome {
        Ok(Webhook(event)) => (StatusCode::OK, event.id),
        Err(rejection) => (rejection.status(), rejection.answer().reason().to_owned()),
    }
}

async fn send(request: Request<Body>) -> (StatusCode, Option<String>, String) {
    let response = app().oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("in-memory body");
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn message(body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(body).expect("JSON rejection body");
    assert_eq!(json["type"], "invalid_request");
    json["message"].as_str().expect("string message").to_owned()
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_without_reading_the_body() {
    let polled = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&polled);
    let body = Body::from_stream(futures_util::stream::once(async move {
        flag.store(true, Ordering::SeqCst);
        Ok::<_, Infallible>(Bytes::from_static(b"{}"))
    }));
    let request = Request::post("/webhooks")
        .header(CONTENT_LENGTH, LIMIT + 1)
        .body(body)
        .expect("valid request");

    let (status, content_type, body) = send(request).await;

    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert_eq!(
        message(&body),
        format!("request body is larger than the limit of {LIMIT} bytes")
    );
    assert!(!polled.load(Ordering::SeqCst), "the body was read");
}

#[tokio::test]
async fn an_endless_chunked_body_is_read_only_up_to_the_limit() {
    const CHUNK: usize = 1000;
    let produced = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&produced);
    let endless = futures_util::stream::repeat_with(move || {
        counter.fetch_add(CHUNK, Ordering::SeqCst);
        Ok::<_, Infallible>(Bytes::from_static(&[b' '; CHUNK]))
    });
    let request = Request::post("/webhooks/raw")
        .body(Body::from_stream(endless))
        .expect("valid request");

    let (status, _, _) = send(request).await;

    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // The chunk that crosses the limit is the last one read.
    assert_eq!(
        produced.load(Ordering::SeqCst),
        LIMIT.div_ceil(CHUNK) * CHUNK
    );
}

#[tokio::test]
async fn a_body_that_fails_mid_stream_is_an_incomplete_body() {
    let signed = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("sample");
    let (head, _) = signed.body().split_at(20);
    let chunks = vec![
        Ok(Bytes::copy_from_slice(head)),
        Err(std::io::Error::other("connection reset")),
    ];
    let request = Request::post("/webhooks")
        .header("x-protocol-signature", signed.signature())
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .expect("valid request");

    let (status, content_type, body) = send(request).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert_eq!(message(&body), "request body could not be read in full");
}

#[tokio::test]
async fn a_header_value_that_is_not_ascii_is_malformed_not_missing() {
    let signed = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("sample");
    let mut value = signed.signature().as_bytes().to_vec();
    value[0] = 0xE9;
    let request = Request::post("/lenient")
        .header(
            "X-PROTOCOL-SIGNATURE",
            HeaderValue::from_bytes(&value).expect("obs-text is a valid header value"),
        )
        .body(Body::from(signed.body().to_vec()))
        .expect("valid request");

    let (status, _, body) = send(request).await;

    assert_eq!(
        (status, body.as_str()),
        (StatusCode::UNAUTHORIZED, "signature_malformed")
    );
}

#[tokio::test]
async fn a_handler_may_take_the_rejection_and_answer_itself() {
    let signed = SignedRequest::sample(SECRET, &EventType::GroupCreated).expect("sample");
    let unsigned = Request::post("/lenient")
        .body(Body::from(signed.body().to_vec()))
        .expect("valid request");
    let valid = Request::post("/lenient")
        .header("x-protocol-signature", signed.signature())
        .body(Body::from(signed.body().to_vec()))
        .expect("valid request");

    let (status, _, body) = send(unsigned).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::UNAUTHORIZED, "signature_missing")
    );
    let (status, _, body) = send(valid).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "evt_sample"));
}

#[tokio::test]
async fn the_rejection_renders_the_core_answer_status_body_and_headers() {
    let in_progress = Unclaimed::InProgress {
        event_id: "evt_1".to_owned(),
        retry_after: Duration::from_millis(2001),
    };
    let store_down = Unclaimed::StoreUnavailable {
        event_id: "evt_1".to_owned(),
        error: StoreError::unavailable(std::io::Error::other("redis://:hunter2@db refused")),
    };
    let duplicate = Unclaimed::Duplicate {
        event_id: "evt_1".to_owned(),
    };
    let missing = Rejection::MissingConfiguration {
        missing: "WebhookConfig",
    };
    for (answer, status, retry_after, closes) in [
        (Answer::from(SignatureError::Mismatch), 401, None, false),
        (
            Answer::from(Rejection::PayloadTooLarge { limit: 10 }),
            413,
            None,
            true,
        ),
        (Answer::from(Rejection::IncompleteBody), 400, None, true),
        (Answer::from(missing), 500, None, false),
        (Answer::from(duplicate), 200, None, false),
        (Answer::from(in_progress), 409, Some("3"), false),
        (Answer::from(store_down), 503, Some("5"), false),
    ] {
        assert_eq!(answer.status(), status);
        let json = answer.body();
        let display = answer.to_string();
        let rejection = WebhookRejection::from(answer);
        assert_eq!(rejection.to_string(), display);
        assert_eq!(rejection.status().as_u16(), status);

        let response = rejection.into_response();
        assert_eq!(response.status().as_u16(), status);
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|value: &HeaderValue| value.to_str().expect("ASCII"))
        };
        assert_eq!(header(CONTENT_TYPE), Some("application/json"), "{display}");
        assert_eq!(header(RETRY_AFTER), retry_after, "{display}");
        assert_eq!(header(CONNECTION), closes.then_some("close"), "{display}");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("in-memory body");
        assert_eq!(body, json.as_bytes());
        assert!(!json.contains("hunter2"), "{json}");
    }
}

/// With axum a router whose state lacks the `Deduplicator` (or the
/// `WebhookConfig`) does not compile (see the `compile_fail` example on
/// `ClaimedWebhook`); should the core's `MissingConfiguration` be answered
/// anyway, it is the same 500 as in every other adapter.
#[tokio::test]
async fn missing_configuration_answers_the_same_500_as_every_adapter() {
    let response = WebhookRejection::from(Rejection::MissingConfiguration {
        missing: "Deduplicator",
    })
    .into_response();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers().get(RETRY_AFTER), None);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("in-memory body");
    assert_eq!(
        body,
        r#"{"type":"api_error","message":"webhook configuration is missing"}"#
    );
}

#[test]
fn the_rejection_is_a_transparent_error() {
    use core::error::Error as _;

    let rejection = WebhookRejection::from(Rejection::Signature(SignatureError::Malformed));
    let source = rejection
        .source()
        .expect("the signature error is the cause");
    assert_eq!(source.to_string(), SignatureError::Malformed.to_string());
    assert!(matches!(
        rejection.into_inner().rejection(),
        Some(Rejection::Signature(SignatureError::Malformed))
    ));
}
