//! The shared HTTP conformance suite, in-process, over a real socket and
//! without registrations.

use std::net::TcpListener;

use actix_http::BoxedPayloadStream;
use actix_web::dev::{Payload, Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderName, RETRY_AFTER};
use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, HttpServer, test, web};
use futures_util::stream;
use protocol_webhooks_actix_web::{ClaimedWebhook, InboxWebhook, RawWebhook, Webhook};
use protocol_webhooks_conformance::{
    EVENT_PATH, Harness, INBOX_PATH, ONCE_PATH, RAW_PATH, TcpHarness, TestRequest, TestResponse,
};

async fn on_event(Webhook(event): Webhook) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(protocol_webhooks_conformance::event_summary(&event))
}

async fn on_raw(RawWebhook(body): RawWebhook) -> HttpResponse {
    HttpResponse::Ok().body(body.into_bytes())
}

async fn on_inbox(stored: InboxWebhook) -> InboxWebhook {
    stored
}

async fn on_once(claimed: ClaimedWebhook) -> HttpResponse {
    let reply = protocol_webhooks_conformance::handle_once(claimed.into_inner()).await;
    let status = StatusCode::from_u16(reply.status).expect("the suite's statuses are valid");
    if reply.body.is_empty() {
        HttpResponse::build(status).finish()
    } else {
        HttpResponse::build(status)
            .content_type("application/json")
            .body(reply.body)
    }
}

/// The suite's routes with nothing registered.
fn unregistered_routes(config: &mut web::ServiceConfig) {
    config
        .route(EVENT_PATH, web::post().to(on_event))
        .route(RAW_PATH, web::post().to(on_raw))
        .route(INBOX_PATH, web::post().to(on_inbox))
        .route(ONCE_PATH, web::post().to(on_once));
}

fn routes(config: &mut web::ServiceConfig) {
    config
        .app_data(protocol_webhooks_conformance::config())
        .app_data(protocol_webhooks_conformance::deduplicator())
        .app_data(protocol_webhooks_conformance::inbox());
    unregistered_routes(config);
}
fn header_text(response: &ServiceResponse, name: HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Sends each case through actix-web's in-process service pipeline.
struct InProcess<S>(S);

impl<S> Harness for InProcess<S>
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    async fn send(&self, request: TestRequest) -> TestResponse {
        let mut builder = test::TestRequest::post().uri(request.path);
        // Appended, not inserted: the suite sends some headers twice.
        for (name, value) in &request.headers {
            builder = builder.append_header((name.as_str(), value.as_slice()));
        }
        let http_request = if request.chunked {
            // No Content-Length: the body arrives as a stream of chunks, as
            // with `Transfer-Encoding: chunked` on the wire.
            let chunks: BoxedPayloadStream =
                Box::pin(stream::iter(request.chunks().into_iter().map(Ok)));
            let (http_request, _) = builder.to_request().replace_payload(Payload::from(chunks));
            http_request
        } else {
            builder.set_payload(request.body.clone()).to_request()
        };
        let response = test::call_service(&self.0, http_request).await;
        let status = response.status().as_u16();
        let content_type = header_text(&response, CONTENT_TYPE);
        let retry_after = header_text(&response, RETRY_AFTER);
        let body: Bytes = test::read_body(response).await;
        TestResponse {
            status,
            content_type,
            body: body.to_vec(),
            retry_after,
        }
    }
}

#[actix_web::test]
async fn conformance_in_process() {
    let app = test::init_service(App::new().configure(routes)).await;
    protocol_webhooks_conformance::run(&InProcess(app)).await;
}

#[actix_web::test]
async fn conformance_without_registration() {
    let app = test::init_service(App::new().configure(unregistered_routes)).await;
    protocol_webhooks_conformance::run_without_registration(&InProcess(app)).await;
}

#[actix_web::test]
async fn conformance_over_tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address = listener.local_addr().expect("bound address");
    let server = HttpServer::new(|| App::new().configure(routes))
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
    let handle = server.handle();
    let running = actix_web::rt::spawn(server);

    // `run_over_tcp` but for one check: actix-http answers
    // `Expect: 100-continue` with `100 Continue` as soon as it has read the
    // head, before the app runs (`HttpServer` has no hook for its expect
    // service), so an extractor's refusal can only come second. `socket`
    // pins that, so it fails once actix stops asking first.
    protocol_webhooks_conformance::run(&TcpHarness::new(address)).await;
    protocol_webhooks_conformance::truncated_body_does_not_disturb_the_server(address).await;
    protocol_webhooks_conformance::declared_length_over_limit_is_refused_before_the_body(address)
        .await;
    socket::expect_continue_is_answered_100_then_413(address).await;
    protocol_webhooks_conformance::stalled_body_is_refused_at_the_deadline(address).await;
    protocol_webhooks_conformance::repeated_signature_with_a_non_utf8_copy_is_refused(address)
        .await;
    protocol_webhooks_conformance::broken_chunk_framing_is_refused(address).await;
    protocol_webhooks_conformance::chunk_size_overflow_is_refused(address).await;
    protocol_webhooks_conformance::trickled_head_holds_up_no_one(address).await;

    handle.stop(true).await;
    running
        .await
        .expect("server task joins")
        .expect("server stops cleanly");
}

mod socket {
    use std::io::{Read as _, Write as _};
    use std::net::{SocketAddr, TcpStream};
    use std::time::{Duration, Instant};

    use protocol_webhooks_actix_web::protocol_webhooks::DEFAULT_BODY_LIMIT;
    use protocol_webhooks_conformance::EVENT_PATH;

    /// A request declaring twice the limit with `Expect: 100-continue`, of
    /// which no body byte is sent: actix-http asks for the body, then the
    /// extractor refuses it with 413 and `Connection: close` at once.
    pub(super) async fn expect_continue_is_answered_100_then_413(address: SocketAddr) {
        let head = format!(
            "POST {EVENT_PATH} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nx-protocol-signature: {}\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            "0".repeat(64),
            2 * DEFAULT_BODY_LIMIT,
        );
        let (answer, waited) = actix_web::rt::task::spawn_blocking(move || {
            let started = Instant::now();
            let mut stream = TcpStream::connect(address).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_secs(1)))
                .expect("set a read timeout");
            stream.write_all(head.as_bytes()).expect("write head");
            let mut answer = Vec::new();
            let mut buffer = [0u8; 512];
            // Both heads: the 100's and the 413's.
            while answer.windows(4).filter(|w| w == b"\r\n\r\n").count() < 2 {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(read) => answer.extend_from_slice(&buffer[..read]),
                }
            }
            (
                String::from_utf8_lossy(&answer).into_owned(),
                started.elapsed(),
            )
        })
        .await
        .expect("the exchange runs");
        assert!(
            answer.starts_with("HTTP/1.1 100 Continue\r\n\r\n"),
            "actix-web no longer asks for the body first: call run_over_tcp, got {answer:?}"
        );
        let refusal = &answer["HTTP/1.1 100 Continue\r\n\r\n".len()..];
        assert!(
            refusal.starts_with("HTTP/1.1 413"),
            "a declared Content-Length over the limit must get 413 without the body, got {answer:?}"
        );
        assert!(
            refusal.to_ascii_lowercase().contains("connection: close"),
            "a 413 must carry Connection: close, got {answer:?}"
        );
        assert!(
            waited < Duration::from_secs(1),
            "the 413 came after {waited:?}"
        );
    }
}
