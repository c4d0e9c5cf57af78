//! warp's body stream feeding the core's collector, with bodies no client
//! of the suite can send: one that fails mid-read, one that never ends.

use core::convert::Infallible;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use protocol_webhooks_conformance::capture;
use protocol_webhooks_warp::{RawWebhook, WebhookConfig, raw_webhook, recover};
use tower_service::Service;
use warp::Filter;
use warp::http::{Request, StatusCode};

const SECRET: &str = "whsec_body";

/// Sends `request` through `warp::service`, the pipeline the server runs:
/// `warp::test` only sends whole bodies.
async fn send<B>(config: WebhookConfig, request: Request<B>) -> (StatusCode, Bytes)
where
    B: http_body::Body + Send + Sync + 'static,
    B::Error: Into<Box<dyn core::error::Error + Send + Sync>>,
{
    let route = raw_webhook(config)
        .map(|RawWebhook(body): RawWebhook| body.into_bytes())
        .recover(recover);
    let response = match warp::service(route).call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("response body")
        .to_bytes();
    (status, body)
}

#[tokio::test]
async fn a_body_that_fails_mid_read_is_incomplete_and_logged_once() {
    // warp hands a read error to the filter as its own `warp::Error`: it
    // must become the core's incomplete body, not a rejection of warp's.
    let chunks: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
        Ok(Frame::data(Bytes::from_static(b"{\"id\":\"evt_"))),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset",
        )),
    ];
    let request = Request::post("/")
        .header("x-protocol-signature", "0".repeat(64))
        .body(StreamBody::new(futures_util::stream::iter(chunks)))
        .expect("request");
    let config = WebhookConfig::new(SECRET).expect("config");
    let ((status, body), lines) = capture(send(config, request)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body.as_ref(),
        br#"{"type":"invalid_request","message":"request body could not be read in full"}"#
    );
    let answers: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains(" protocol_webhooks::answer: "))
        .collect();
    assert!(
        matches!(answers[..], [line] if line.contains("reason=\"incomplete_body\"") && line.contains("status=400")),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn an_endless_chunked_body_is_cut_off_at_the_limit() {
    // The limit is the core's, applied while warp's stream is read: a body
    // without `Content-Length` stops being read at the first chunk over it.
    let taken = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&taken);
    let endless = futures_util::stream::repeat_with(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok::<_, Infallible>(Frame::data(Bytes::from_static(&[b' '; 1024])))
    });
    let request = Request::post("/")
        .body(StreamBody::new(endless))
        .expect("request");
    let config = WebhookConfig::new(SECRET)
        .expect("config")
        .with_body_limit(10 * 1024);
    let (status, _) = send(config, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(taken.load(Ordering::SeqCst), 11);
}
