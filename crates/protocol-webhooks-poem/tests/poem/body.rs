//! Poem's request body stream under the core's limit: the suite's requests
//! cannot fail mid-body, nor show how much of a body was pulled.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use poem::http::StatusCode;
use poem::http::header::CONNECTION;
use poem::test::{TestClient, TestResponse};
use poem::{Body, Endpoint, EndpointExt, Route, post};
use protocol_webhooks_conformance::capture;

use crate::{on_event, on_raw};
use protocol_webhooks_poem::WebhookConfig;

const SECRET: &str = "whsec_body_test";
const LIMIT: usize = 16;
const CHUNK: &[u8] = b"12345678";

fn app() -> impl Endpoint {
    let config = WebhookConfig::new(SECRET)
        .expect("non-empty secret")
        .with_body_limit(LIMIT);
    Route::new()
        .at("/webhooks", post(on_event))
        .at("/webhooks/raw", post(on_raw))
        .data(config)
}

async fn assert_refused(response: TestResponse, status: StatusCode, message: &str) {
    response.assert_status(status);
    // The rest of the body is still on the connection.
    response.assert_header(CONNECTION, "close");
    response
        .assert_text(format!(
            r#"{{"type":"invalid_request","message":"{message}"}}"#
        ))
        .await;
}

#[tokio::test]
async fn a_body_stream_failing_mid_read_is_an_incomplete_body_logged_once() {
    for path in ["/webhooks", "/webhooks/raw"] {
        let chunks: [Result<&'static [u8], io::Error>; 2] = [
            Ok(br#"{"id":"#),
            Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "peer went away",
            )),
        ];
        let client = TestClient::new(app());
        let request = client
            .post(path)
            .header("x-protocol-signature", "0".repeat(64))
            .body(Body::from_bytes_stream(futures_util::stream::iter(chunks)))
            .send();
        let (response, lines) = capture(request).await;
        assert_refused(
            response,
            StatusCode::BAD_REQUEST,
            "request body could not be read in full",
        )
        .await;
        let refused = lines
            .iter()
            .filter(|line| line.contains("webhook refused"))
            .collect::<Vec<_>>();
        assert!(
            matches!(refused[..], [line] if line.contains("reason=\"incomplete_body\" status=400")),
            "{path}: {lines:?}"
        );
    }
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_stops_being_read() {
    let read = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&read);
    let chunks = futures_util::stream::iter((0..1_000).map(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok::<_, io::Error>(CHUNK)
    }));
    let response = TestClient::new(app())
        .post("/webhooks")
        .body(Body::from_bytes_stream(chunks))
        .send()
        .await;
    assert_refused(
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "request body is larger than the limit of 16 bytes",
    )
    .await;
    // Two chunks fill the limit; the third is refused and nothing follows.
    assert_eq!(read.load(Ordering::SeqCst), LIMIT / CHUNK.len() + 1);
}
