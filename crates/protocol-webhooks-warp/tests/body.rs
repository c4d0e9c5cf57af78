//! Body handling through warp's pipeline with bodies only a stream can make.

use core::convert::Infallible;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use protocol_webhooks_warp::{RawWebhook, WebhookConfig, raw_webhook, recover};
use tower_service::Service;
use warp::Filter;
use warp::http::{Request, StatusCode};

const SECRET: &str = "whsec_body";

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
async fn a_body_that_fails_mid_read_is_incomplete() {
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
    let (status, body) = send(WebhookConfig::new(SECRET).expect("config"), request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body.as_ref(),
        br#"{"type":"invalid_request","message":"request body could not be read in full"}"#
    );
}

#[tokio::test]
async fn an_endless_chunked_body_is_cut_off_at_the_limit() {
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

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_reading() {
    let taken = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&taken);
    let endless = futures_util::stream::repeat_with(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok::<_, Infallible>(Frame::data(Bytes::from_static(&[b' '; 1024])))
    });
    let request = Request::post("/")
        .header("content-length", 20 * 1024)
        .header("x-protocol-signature", "0".repeat(64))
        .body(StreamBody::new(endless))
        .expect("request");
    let config = WebhookConfig::new(SECRET)
        .expect("config")
        .with_body_limit(10 * 1024);
    let (status, body) = send(config, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body.as_ref(),
        br#"{"type":"invalid_request","message":"request body is larger than the limit of 10240 bytes"}"#
    );
    assert_eq!(taken.load(Ordering::SeqCst), 0);
}
