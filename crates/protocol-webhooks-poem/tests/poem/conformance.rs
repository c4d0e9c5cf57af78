//! The shared HTTP conformance suite, through Poem's in-process test client
//! and over a real socket.

use core::time::Duration;

use poem::http::StatusCode;
use poem::http::header::CONTENT_LENGTH;
use poem::listener::TcpAcceptor;
use poem::test::TestClient;
use poem::{Body, Endpoint, EndpointExt, Response, Route, Server, handler, post};
use protocol_webhooks_conformance::{
    EVENT_PATH, Harness, INBOX_PATH, ONCE_PATH, RAW_PATH, TestRequest, TestResponse, config,
    deduplicator, event_summary, handle_once, inbox,
};
use protocol_webhooks_poem::{ClaimedWebhook, InboxWebhook, RawWebhook, Webhook};

#[handler]
fn on_event(Webhook(event): Webhook) -> Response {
    Response::builder()
        .content_type("application/json")
        .body(event_summary(&event))
}

#[handler]
fn on_raw(RawWebhook(body): RawWebhook) -> Vec<u8> {
    body.into_bytes()
}

#[handler]
fn on_inbox(stored: InboxWebhook) -> InboxWebhook {
    stored
}

#[handler]
async fn on_once(claimed: ClaimedWebhook) -> Response {
    let reply = handle_once(claimed.into_inner()).await;
    let status = StatusCode::from_u16(reply.status).expect("the suite answers valid statuses");
    let response = Response::builder().status(status);
    if reply.body.is_empty() {
        response.finish()
    } else {
        response.content_type("application/json").body(reply.body)
    }
}

/// The suite's four routes, with nothing registered.
fn routes() -> Route {
    Route::new()
        .at(EVENT_PATH, post(on_event))
        .at(RAW_PATH, post(on_raw))
        .at(INBOX_PATH, post(on_inbox))
        .at(ONCE_PATH, post(on_once))
}

fn app() -> impl Endpoint {
    routes().data(config()).data(deduplicator()).data(inbox())
}

/// Sends each case through the app with `poem::test::TestClient`, no socket.
struct InProcess<E>(TestClient<E>);

impl<E: Endpoint> Harness for InProcess<E> {
    async fn send(&self, request: TestRequest) -> TestResponse {
        let mut builder = self.0.post(request.path);
        // Every header value, including the non-ASCII signature case, is
        // carried as sent: `HeaderValue` accepts any byte but controls.
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_slice());
        }
        builder = if request.chunked {
            // A stream body with no Content-Length, as a chunked request
            // reaches a handler.
            let chunks = request.chunks().into_iter().map(Ok::<_, std::io::Error>);
            builder.body(Body::from_bytes_stream(futures_util::stream::iter(chunks)))
        } else {
            // The test client adds no Content-Length itself; a real client
            // would, and the extractors refuse an oversized one unread.
            builder
                .header(CONTENT_LENGTH, request.body.len().to_string())
                .body(request.body)
        };
        let response = builder.send().await.0;
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        let body = response
            .into_body()
            .into_vec()
            .await
            .expect("in-process response body is readable");
        TestResponse::new(status, &headers, body)
    }
}

#[tokio::test]
async fn conformance_in_process() {
    protocol_webhooks_conformance::run(&InProcess(TestClient::new(app()))).await;
}

#[tokio::test]
async fn conformance_without_registration() {
    protocol_webhooks_conformance::run_without_registration(&InProcess(TestClient::new(routes())))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_over_tcp() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("bound address");
    let acceptor = TcpAcceptor::from_tokio(listener).expect("poem acceptor");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
            app(),
            async {
                let _ = stopped.await;
            },
            Some(Duration::from_secs(5)),
        ),
    );

    protocol_webhooks_conformance::run_over_tcp(address).await;

    stop.send(()).expect("server is still running");
    server
        .await
        .expect("server task did not panic")
        .expect("server shut down cleanly");
}
