//! Finding the `WebhookConfig` and `Deduplicator` added with Poem's
//! `.data(...)`, which the extractors read from the request's extensions.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use poem::http::StatusCode;
use poem::test::{TestClient, TestResponse};
use poem::{Body, Endpoint, EndpointExt, Route, handler, post};
use protocol_webhooks_conformance::capture;

use crate::{on_event, on_raw};
use protocol_webhooks_poem::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_poem::{ClaimedWebhook, Deduplicator, EventType, WebhookConfig};

const SECRET: &str = "whsec_registration_inner";
const OUTER_SECRET: &str = "whsec_registration_outer";

#[handler]
async fn on_once(claimed: ClaimedWebhook) -> poem::Result<String> {
    let id = claimed.id.clone();
    claimed
        .commit()
        .await
        .map_err(poem::error::InternalServerError)?;
    Ok(id)
}

/// The three extractors' routes, with nothing registered.
fn routes() -> Route {
    Route::new()
        .at("/event", post(on_event))
        .at("/raw", post(on_raw))
        .at("/once", post(on_once))
}

fn config(secret: &str) -> WebhookConfig {
    WebhookConfig::new(secret).expect("non-empty secret")
}

fn sample(secret: &str) -> SignedRequest {
    SignedRequest::sample(secret, &EventType::GroupDeleted).expect("sample")
}

async fn send(client: &TestClient<impl Endpoint>, path: &str, body: Body) -> TestResponse {
    let signature = sample(SECRET);
    client
        .post(path)
        .header(signature.header_name(), signature.signature())
        .body(body)
        .send()
        .await
}

async fn send_signed(
    client: &TestClient<impl Endpoint>,
    path: &str,
    request: &SignedRequest,
) -> TestResponse {
    client
        .post(path)
        .header(request.header_name(), request.signature())
        .body(request.body().to_vec())
        .send()
        .await
}

#[tokio::test]
async fn data_on_an_enclosing_route_is_found_and_the_innermost_wins() {
    let app = Route::new()
        .nest("/inner", routes().data(config(SECRET)))
        .nest("/outer", routes())
        .data(config(OUTER_SECRET))
        .data(Deduplicator::in_memory());
    let client = TestClient::new(app);
    let (inner, outer) = (sample(SECRET), sample(OUTER_SECRET));

    for path in ["/outer/event", "/outer/once"] {
        let response = send_signed(&client, path, &outer).await;
        response.assert_status_is_ok();
        response.assert_text("evt_sample").await;
    }
    send_signed(&client, "/inner/event", &inner)
        .await
        .assert_status_is_ok();
    send_signed(&client, "/inner/raw", &inner)
        .await
        .assert_bytes(inner.body().to_vec())
        .await;
    // The route's own config replaced the app's rather than adding to it.
    send_signed(&client, "/inner/event", &outer)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

/// A body that counts the chunks read from it.
fn counted_body(chunks: usize) -> (Body, Arc<AtomicUsize>) {
    let read = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&read);
    let stream = futures_util::stream::iter((0..chunks).map(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok::<_, io::Error>(&b"{}"[..])
    }));
    (Body::from_bytes_stream(stream), read)
}

#[tokio::test]
async fn a_missing_registration_is_answered_unread_and_logged_with_what_to_register() {
    let without_any = TestClient::new(routes().boxed());
    let without_dedup = TestClient::new(routes().data(config(SECRET)).boxed());
    // The config is looked up first, so an app without either misses it.
    let cases = [
        (&without_any, "/event", "WebhookConfig"),
        (&without_any, "/raw", "WebhookConfig"),
        (&without_any, "/once", "WebhookConfig"),
        (&without_dedup, "/once", "Deduplicator"),
    ];
    for (client, path, missing) in cases {
        let (body, read) = counted_body(3);
        let (response, lines) = capture(send(client, path, body)).await;
        response.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(read.load(Ordering::SeqCst), 0, "{path} read the body");
        let logged: Vec<&String> = lines
            .iter()
            .filter(|line| line.contains("reason=\"missing_configuration\""))
            .collect();
        assert_eq!(logged.len(), 1, "{path}: {lines:?}");
        assert!(
            logged[0].contains(&format!("missing=\"{missing}\"")),
            "{path}: {}",
            logged[0]
        );
    }
}
