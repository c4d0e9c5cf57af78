//! How the extractors read axum's body: what tells them its size before
//! reading, how far a stream is read, what a failing stream becomes, and
//! that axum's own `DefaultBodyLimit` is not the limit that applies.

use core::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::header::{CONNECTION, CONTENT_LENGTH};
use axum::http::{Request, StatusCode};
use axum::response::Response;
use axum::routing::post;
use bytes::Bytes;
use protocol_webhooks_axum::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_axum::{EventType, RawWebhook, Webhook, WebhookConfig};
use tower::ServiceExt as _;

const SECRET: &str = "whsec_axum_body";
const LIMIT: usize = 4096;

fn routes() -> Router<WebhookConfig> {
    Router::new()
        .route(
            "/webhooks",
            post(|Webhook(event): Webhook| async move { event.id }),
        )
        .route(
            "/webhooks/raw",
            post(|RawWebhook(body): RawWebhook| async move { body.into_bytes() }),
        )
}

fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET)
        .expect("non-empty secret")
        .with_body_limit(LIMIT)
}

async fn send(app: Router, request: Request<Body>) -> Response {
    match app.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn signed(path: &str, signed: &SignedRequest, body: Body) -> Request<Body> {
    Request::post(path)
        .header(signed.header_name(), signed.signature())
        .body(body)
        .expect("valid request")
}

/// A body that a middleware re-wrapped has no size hint, so the
/// `Content-Length` header is all that tells its size.
#[tokio::test]
async fn a_declared_length_without_a_size_hint_is_refused_unread() {
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

    let response = send(routes().with_state(config()), request).await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!polled.load(Ordering::SeqCst), "the body was read");
}

#[tokio::test]
async fn an_endless_stream_is_read_only_up_to_the_limit() {
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

    let response = send(routes().with_state(config()), request).await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The chunk that crosses the limit is the last one read.
    assert_eq!(
        produced.load(Ordering::SeqCst),
        LIMIT.div_ceil(CHUNK) * CHUNK
    );
}

/// axum's body error (a connection reset under hyper) is the client's
/// failure, not a bad signature.
#[tokio::test]
async fn a_body_that_fails_mid_stream_is_an_incomplete_body() {
    let sample = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("sample");
    let chunks = vec![
        Ok(Bytes::copy_from_slice(&sample.body()[..20])),
        Err(std::io::Error::other("connection reset")),
    ];
    let body = Body::from_stream(futures_util::stream::iter(chunks));

    let response = send(
        routes().with_state(config()),
        signed("/webhooks", &sample, body),
    )
    .await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()[CONNECTION], "close");
}

#[tokio::test]
async fn axums_default_body_limit_neither_refuses_nor_lifts_the_limit() {
    let sample = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let tight = routes()
        .layer(DefaultBodyLimit::max(16))
        .with_state(config());
    let response = send(
        tight,
        signed("/webhooks", &sample, Body::from(sample.body().to_vec())),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);

    let over = SignedRequest::new(SECRET, vec![b' '; LIMIT + 1]).expect("signed");
    let unlimited = routes()
        .layer(DefaultBodyLimit::disable())
        .with_state(config());
    let response = send(
        unlimited,
        signed("/webhooks/raw", &over, Body::from(over.body().to_vec())),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}
