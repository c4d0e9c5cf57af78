//! The shared HTTP conformance suite, run through axum's in-process service
//! and again over a real 127.0.0.1 socket served by `axum::serve`. There is
//! no run without registration: in axum a route whose state lacks the
//! configuration does not compile (the `compile_fail` examples on `Webhook`
//! and `ClaimedWebhook`).

use core::convert::Infallible;
use core::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use protocol_webhooks_axum::{
    ClaimedWebhook, Deduplicator, InboxWebhook, RawWebhook, Webhook, WebhookConfig,
};
use protocol_webhooks_conformance::{
    EVENT_PATH, Harness, INBOX_PATH, ONCE_PATH, RAW_PATH, TestRequest, TestResponse, event_summary,
    handle_once,
};
use protocol_webhooks_inbox::Inbox;
use tower::ServiceExt as _;

/// The suite's configuration, its shared de-duplicator and inbox.
#[derive(Clone, FromRef)]
struct SuiteState {
    config: WebhookConfig,
    dedup: Deduplicator,
    inbox: Inbox,
}

/// Exactly the four routes the suite documents, under its configuration.
fn app() -> Router {
    Router::new()
        .route(EVENT_PATH, post(on_event))
        .route(RAW_PATH, post(on_raw))
        .route(INBOX_PATH, post(on_inbox))
        .route(ONCE_PATH, post(on_once))
        .with_state(SuiteState {
            config: protocol_webhooks_conformance::config(),
            dedup: protocol_webhooks_conformance::deduplicator(),
            inbox: protocol_webhooks_conformance::inbox(),
        })
}

async fn on_event(Webhook(event): Webhook) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        event_summary(&event),
    )
}

async fn on_raw(RawWebhook(body): RawWebhook) -> Vec<u8> {
    body.into_bytes()
}

async fn on_inbox(stored: InboxWebhook) -> InboxWebhook {
    stored
}

async fn on_once(ClaimedWebhook(claimed): ClaimedWebhook) -> Response {
    let reply = handle_once(claimed).await;
    let status = StatusCode::from_u16(reply.status).expect("the suite answers valid statuses");
    if reply.body.is_empty() {
        return status.into_response();
    }
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        reply.body,
    )
        .into_response()
}

/// Sends each case through the router as a `tower::Service`, with no socket.
struct InProcess(Router);

impl Harness for InProcess {
    async fn send(&self, request: TestRequest) -> TestResponse {
        let mut builder = Request::post(request.path);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_slice());
        }
        let body = if request.chunked {
            // A stream has no size hint and no Content-Length: the adapter
            // sees what hyper hands it for `Transfer-Encoding: chunked`.
            let chunks = request.chunks().into_iter().map(Ok::<_, Infallible>);
            Body::from_stream(futures_util::stream::iter(chunks))
        } else {
            builder = builder.header(CONTENT_LENGTH, request.body.len());
            Body::from(request.body)
        };
        let http_request = builder.body(body).expect("suite requests are valid HTTP");
        let response = match self.0.clone().oneshot(http_request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("in-memory response body")
            .to_vec();
        TestResponse::new(parts.status.as_u16(), &parts.headers, body)
    }
}

#[tokio::test]
async fn conformance_in_process() {
    protocol_webhooks_conformance::run(&InProcess(app())).await;
}

#[tokio::test]
async fn conformance_over_tcp() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("bound address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, app())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );

    protocol_webhooks_conformance::run_over_tcp(address).await;

    stop.send(()).expect("server is still running");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server shuts down")
        .expect("server task")
        .expect("server ran without I/O errors");
}
