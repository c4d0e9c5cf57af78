//! What the extractors do beyond the shared suite: a missing configuration,
//! body streams that fail or never end, odd header bytes, and the rejection
//! type's own API.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use poem::error::ResponseError;
use poem::http::header::{CONNECTION, CONTENT_LENGTH, RETRY_AFTER};
use poem::http::{HeaderValue, StatusCode};
use poem::test::{TestClient, TestResponse};
use poem::{Body, Endpoint, EndpointExt, IntoResponse, Route, handler, post};
use protocol_webhooks_poem::protocol_webhooks::dedup::StoreError;
use protocol_webhooks_poem::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_poem::protocol_webhooks::{ANSWER_CONTENT_TYPE, SignatureError};
use protocol_webhooks_poem::{
    Answer, Event, EventType, RawWebhook, Rejection, Unclaimed, Webhook, WebhookConfig,
    WebhookRejection,
};
use serde_json::json;

const SECRET: &str = "whsec_extractor_test";
const LIMIT: usize = 16;
const CHUNK: &[u8] = b"12345678";

#[handler]
fn on_event(Webhook(event): Webhook) -> String {
    event.id
}

#[handler]
fn on_raw(RawWebhook(body): RawWebhook) -> Vec<u8> {
    body.into_bytes()
}

fn routes() -> Route {
    Route::new()
        .at("/webhooks", post(on_event))
        .at("/webhooks/raw", post(on_raw))
}

fn app() -> impl Endpoint {
    let config = WebhookConfig::new(SECRET)
        .expect("non-empty secret")
        .with_body_limit(LIMIT);
    routes().data(config)
}

/// A body of `count` chunks that records how many were read.
fn counted_body(count: usize) -> (Body, Arc<AtomicUsize>) {
    let read = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&read);
    let chunks = futures_util::stream::iter((0..count).map(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok::<_, io::Error>(CHUNK)
    }));
    (Body::from_bytes_stream(chunks), read)
}

async fn assert_rejection(response: TestResponse, status: StatusCode, message: &str) {
    response.assert_status(status);
    response.assert_content_type("application/json");
    response
        .assert_json(json!({"type": "invalid_request", "message": message}))
        .await;
}

#[tokio::test]
async fn missing_configuration_is_the_cores_500_and_the_body_is_not_read() {
    let client = TestClient::new(routes());
    let request = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("sample");
    for path in ["/webhooks", "/webhooks/raw"] {
        let (body, read) = counted_body(3);
        let response = client
            .post(path)
            .header(request.header_name(), request.signature())
            .body(body)
            .send()
            .await;
        response.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
        response.assert_content_type("application/json");
        response
            .assert_json(json!({
                "type": "api_error",
                "message": "webhook configuration is missing",
            }))
            .await;
        assert_eq!(read.load(Ordering::SeqCst), 0, "{path}");
    }
}

#[tokio::test]
async fn configuration_on_the_whole_app_is_found() {
    let request = SignedRequest::sample(SECRET, &EventType::GroupDeleted).expect("sample");
    let app = Route::new()
        .nest("/api", routes())
        .data(WebhookConfig::new(SECRET).expect("non-empty secret"));
    let response = TestClient::new(app)
        .post("/api/webhooks")
        .header(request.header_name(), request.signature())
        .body(request.into_body())
        .send()
        .await;
    response.assert_status_is_ok();
    response.assert_text("evt_sample").await;
}

#[tokio::test]
async fn a_body_stream_failing_mid_read_is_an_incomplete_body() {
    for path in ["/webhooks", "/webhooks/raw"] {
        let chunks: [Result<&'static [u8], io::Error>; 2] = [
            Ok(br#"{"id":"#),
            Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "peer went away",
            )),
        ];
        let body = Body::from_bytes_stream(futures_util::stream::iter(chunks));
        let response = TestClient::new(app())
            .post(path)
            .header("x-protocol-signature", "0".repeat(64))
            .body(body)
            .send()
            .await;
        assert_rejection(
            response,
            StatusCode::BAD_REQUEST,
            "request body could not be read in full",
        )
        .await;
    }
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_stops_being_read() {
    let (body, read) = counted_body(1_000);
    let response = TestClient::new(app())
        .post("/webhooks")
        .body(body)
        .send()
        .await;
    // The rest of the body is left unread on the connection.
    response.assert_header(CONNECTION, "close");
    assert_rejection(
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "request body is larger than the limit of 16 bytes",
    )
    .await;
    // Two chunks fill the limit; the third is refused and nothing follows.
    assert_eq!(read.load(Ordering::SeqCst), LIMIT / CHUNK.len() + 1);
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_unread() {
    let (body, read) = counted_body(3);
    let response = TestClient::new(app())
        .post("/webhooks/raw")
        .header(CONTENT_LENGTH, (LIMIT + 1).to_string())
        .body(body)
        .send()
        .await;
    response.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(read.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_body_at_the_limit_in_chunks_is_verified() {
    let body = CHUNK.repeat(LIMIT / CHUNK.len());
    let request = SignedRequest::new(SECRET, body.clone()).expect("signed");
    let (stream, read) = counted_body(LIMIT / CHUNK.len());
    let response = TestClient::new(app())
        .post("/webhooks/raw")
        .header(request.header_name(), request.signature())
        .body(stream)
        .send()
        .await;
    response.assert_status_is_ok();
    response.assert_bytes(body).await;
    assert_eq!(read.load(Ordering::SeqCst), LIMIT / CHUNK.len());
}

#[tokio::test]
async fn a_header_value_that_is_not_visible_ascii_is_malformed_not_missing() {
    let value = HeaderValue::from_bytes(&[0xff; 64]).expect("obs-text is a valid header value");
    let response = TestClient::new(app())
        .post("/webhooks/raw")
        .header("X-PROTOCOL-SIGNATURE", value)
        .body("{}")
        .send()
        .await;
    assert_rejection(
        response,
        StatusCode::UNAUTHORIZED,
        "malformed x-protocol-signature header: expected 64 hexadecimal digits",
    )
    .await;
}

#[test]
fn webhook_rejection_keeps_the_core_answer() {
    let rejection = WebhookRejection::from(Rejection::Signature(SignatureError::Mismatch));
    assert_eq!(ResponseError::status(&rejection), StatusCode::UNAUTHORIZED);
    assert_eq!(rejection.answer().reason(), "signature_mismatch");
    assert!(matches!(
        rejection.answer().rejection(),
        Some(Rejection::Signature(SignatureError::Mismatch))
    ));
    assert_eq!(
        rejection.to_string(),
        "x-protocol-signature does not match the request body"
    );
    let source = core::error::Error::source(&rejection).expect("the core rejection");
    assert_eq!(source.to_string(), rejection.to_string());
    let answer = rejection.into_inner();
    assert_eq!(answer.status(), 401);

    let duplicate = WebhookRejection::from(Unclaimed::Duplicate {
        event_id: "evt_done".into(),
    });
    assert_eq!(ResponseError::status(&duplicate), StatusCode::OK);
    assert_eq!(duplicate.answer().event_id(), Some("evt_done"));
    assert!(duplicate.answer().rejection().is_none());
}

#[tokio::test]
async fn webhook_rejection_answers_with_the_core_status_body_and_headers() {
    let cases = [
        (
            Answer::from(Rejection::PayloadTooLarge { limit: 3 }),
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            Some("close"),
        ),
        (
            Answer::from(Rejection::IncompleteBody),
            StatusCode::BAD_REQUEST,
            None,
            Some("close"),
        ),
        (
            Answer::from(Rejection::Signature(SignatureError::Missing)),
            StatusCode::UNAUTHORIZED,
            None,
            None,
        ),
        (
            Answer::from(Rejection::MissingConfiguration {
                missing: "WebhookConfig",
            }),
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            None,
        ),
        (
            Answer::from(Unclaimed::Duplicate {
                event_id: "evt_done".into(),
            }),
            StatusCode::OK,
            None,
            None,
        ),
        (
            Answer::from(Unclaimed::InProgress {
                event_id: "evt_busy".into(),
                retry_after: Duration::from_millis(12_001),
            }),
            StatusCode::CONFLICT,
            Some("13"),
            None,
        ),
        (
            Answer::from(Unclaimed::StoreUnavailable {
                event_id: "evt_later".into(),
                error: StoreError::Unavailable(None),
            }),
            StatusCode::SERVICE_UNAVAILABLE,
            Some("5"),
            None,
        ),
    ];
    for (answer, status, retry_after, connection) in cases {
        let expected_body = answer.body();
        let response = WebhookRejection::from(answer).into_response();
        assert_eq!(response.status(), status);
        assert_eq!(response.content_type(), Some(ANSWER_CONTENT_TYPE));
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|value| value.to_str().expect("ASCII"))
        };
        assert_eq!(header(RETRY_AFTER), retry_after, "{status}");
        assert_eq!(header(CONNECTION), connection, "{status}");
        assert_eq!(
            response.headers().len(),
            1 + usize::from(retry_after.is_some()) + usize::from(connection.is_some()),
            "{status}"
        );
        let body = response.into_body().into_string().await.expect("body");
        assert_eq!(body, expected_body);
    }
}

#[test]
fn webhook_derefs_to_its_event() {
    let body =
        br#"{"id":"evt_deref","type":"contact.created","payload":{"id":"WAz8eIbvDR60rouK"}}"#;
    let webhook = Webhook(Event::from_slice(body).expect("valid event"));
    assert_eq!(webhook.id, "evt_deref");
    assert_eq!(webhook.resource_id(), Some("WAz8eIbvDR60rouK"));
    assert_eq!(webhook.into_inner().event_type, EventType::ContactCreated);
}
