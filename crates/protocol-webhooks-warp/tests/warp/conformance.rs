//! The shared HTTP conformance suite, in process and over a real socket.

use core::convert::Infallible;
use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;

use http_body_util::{BodyExt, StreamBody};
use protocol_webhooks_conformance::{self as conformance, Harness, TestRequest, TestResponse};
use protocol_webhooks_warp::{
    ClaimedWebhook, InboxWebhook, RawWebhook, Webhook, WebhookConfig, claimed_webhook,
    inbox_webhook, raw_webhook, recover, webhook,
};
use tower_service::Service;
use warp::Filter;
use warp::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use warp::http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use warp::reply::Reply;

/// The four routes the suite documents, answering rejections through
/// `recover`.
fn app(
    config: &WebhookConfig,
) -> impl Filter<Extract = (impl Reply,), Error = warp::Rejection> + Clone + Send + Sync + 'static {
    let events = warp::path!("webhooks")
        .and(warp::post())
        .and(webhook(config.clone()))
        .map(|Webhook(event): Webhook| {
            warp::reply::with_header(
                conformance::event_summary(&event),
                CONTENT_TYPE,
                "application/json",
            )
        });
    let raw = warp::path!("webhooks" / "raw")
        .and(warp::post())
        .and(raw_webhook(config.clone()))
        .map(|RawWebhook(body): RawWebhook| body.into_bytes());
    let inbox = warp::path!("webhooks" / "inbox")
        .and(warp::post())
        .and(inbox_webhook(config.clone(), conformance::inbox()))
        .map(|stored: InboxWebhook| stored);
    let once = warp::path!("webhooks" / "once")
        .and(warp::post())
        .and(claimed_webhook(config.clone(), conformance::deduplicator()))
        .then(on_once);
    events.or(raw).or(inbox).or(once).recover(recover)
}

/// The once route's handler: the suite's own, answered through warp.
async fn on_once(claimed: ClaimedWebhook) -> warp::reply::Response {
    let reply = conformance::handle_once(claimed.into_inner()).await;
    let status = StatusCode::from_u16(reply.status).expect("the suite's statuses are valid");
    if reply.body.is_empty() {
        return status.into_response();
    }
    let body = warp::reply::with_header(reply.body, CONTENT_TYPE, "application/json");
    warp::reply::with_status(body, status).into_response()
}

/// Sends requests through warp's in-process pipeline.
///
/// `warp::test::request()` always sends a `Content-Length` (its `body` sets
/// one and nothing removes it), so it cannot represent a chunked body; and
/// its `header` replaces a header of the same name, so it cannot send the
/// signature header twice. Those requests therefore go through
/// `warp::service`, the same filter pipeline the server runs, with every
/// header added as its own entry: a chunked one as a stream with no
/// `Content-Length`, any other as a single chunk with its `Content-Length`.
struct InProcess<F> {
    app: F,
}

impl<F, R> Harness for InProcess<F>
where
    F: Filter<Extract = (R,), Error = warp::Rejection> + Clone + Send + Sync + 'static,
    R: Reply + Send,
{
    async fn send(&self, request: TestRequest) -> TestResponse {
        if request.chunked || request.repeats_a_header() {
            return self.send_through_service(request).await;
        }
        let mut builder = warp::test::request().method("POST").path(request.path);
        for (name, value) in &request.headers {
            builder = builder.header(header_name(name), header_value(value));
        }
        let response = builder.body(&request.body).reply(&self.app).await;
        TestResponse::new(
            response.status().as_u16(),
            response.headers(),
            response.body().to_vec(),
        )
    }
}

impl<F, R> InProcess<F>
where
    F: Filter<Extract = (R,), Error = warp::Rejection> + Clone + Send + Sync + 'static,
    R: Reply + Send,
{
    async fn send_through_service(&self, request: TestRequest) -> TestResponse {
        let mut http_request = Request::post(request.path);
        let chunks = if request.chunked {
            request.chunks()
        } else {
            http_request = http_request.header(CONTENT_LENGTH, request.body.len());
            vec![bytes::Bytes::copy_from_slice(&request.body)]
        };
        let chunks = chunks
            .into_iter()
            .map(|chunk| Ok::<_, Infallible>(http_body::Frame::data(chunk)));
        let body = StreamBody::new(futures_util::stream::iter(chunks));
        // `http::request::Builder::header` adds: a repeated name stays repeated.
        for (name, value) in &request.headers {
            http_request = http_request.header(header_name(name), header_value(value));
        }
        let http_request = http_request.body(body).expect("request builds");
        let mut service = warp::service(self.app.clone());
        let response: Response<_> = match service.call(http_request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .map(|collected| collected.to_bytes().to_vec())
            .expect("response body");
        TestResponse::new(status, &headers, body)
    }
}

fn header_name(name: &str) -> HeaderName {
    HeaderName::from_bytes(name.as_bytes()).expect("suite header names are valid")
}

fn header_value(value: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(value).expect("suite header values are valid")
}

#[tokio::test]
async fn conformance_in_process() {
    let harness = InProcess {
        app: app(&conformance::config()),
    };
    conformance::run(&harness).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_over_tcp() {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind 127.0.0.1:0");
    let address: SocketAddr = listener.local_addr().expect("local address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        warp::serve(app(&conformance::config()))
            .incoming(listener)
            .graceful(async {
                let _ = stopped.await;
            })
            .run(),
    );

    conformance::run_over_tcp(address).await;

    stop.send(()).expect("server is still running");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server shuts down within 10 s")
        .expect("server task ends without panicking");
}
