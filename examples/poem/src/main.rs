//! The example receiver on Poem: `POST /webhooks` handles every authentic
//! delivery, `POST /webhooks/once` each event id once. The program is the
//! same in all five examples; only the framework glue differs (see
//! `example-shared`).
//!
//! ```sh
//! PROTOCOL_WEBHOOK_SECRET=whsec_test PORT=3000 cargo run -p example-poem
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::process::ExitCode;

use example_shared::{EVENT_PATH, JSON, NOT_FOUND, ONCE_PATH, Settings};
use poem::error::{MethodNotAllowedError, NotFoundError};
use poem::http::StatusCode;
use poem::listener::TcpAcceptor;
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route, Server, handler, post};
use protocol_webhooks_poem::{ClaimedWebhook, Webhook, WebhookRejection};

// The summary is JSON text already: a bare `String` would be answered as
// `text/plain`, and Poem's `Json` would encode it again and add `; charset=utf-8`.
fn json(body: String) -> Response {
    Response::builder().content_type(JSON).body(body)
}

#[handler]
fn on_webhook(Webhook(event): Webhook) -> Response {
    json(example_shared::handle(&event))
}

#[handler]
async fn on_webhook_once(ClaimedWebhook(claimed): ClaimedWebhook) -> Response {
    json(example_shared::handle_once(claimed).await)
}

// Poem's own 405 and 404 have empty bodies; every answer here is JSON.
async fn wrong_method(_: MethodNotAllowedError) -> WebhookRejection {
    WebhookRejection::method_not_allowed()
}

async fn not_found(_: NotFoundError) -> impl IntoResponse {
    NOT_FOUND
        .with_status(StatusCode::NOT_FOUND)
        .with_content_type(JSON)
}

fn app(settings: &Settings) -> impl Endpoint + use<> {
    Route::new()
        .at(EVENT_PATH, post(on_webhook).catch_error(wrong_method))
        .at(ONCE_PATH, post(on_webhook_once).catch_error(wrong_method))
        .catch_error(not_found)
        .data(settings.config.clone())
        .data(example_shared::deduplicator())
}

#[tokio::main]
async fn main() -> ExitCode {
    example_shared::run("example-poem", async |settings| {
        serve(app(&settings), &settings).await
    })
    .await
}

async fn serve(app: impl Endpoint + 'static, settings: &Settings) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(settings.address()).await?;
    example_shared::log_listening(listener.local_addr()?);
    // Poem has no deadline for a request's head; its idle timeout closes a
    // connection on which nothing has been read or written for that long,
    // so it stops a silent client but not one that trickles bytes.
    Server::new_with_acceptor(TcpAcceptor::from_tokio(listener)?)
        .idle_timeout(example_shared::KEEP_ALIVE_TIMEOUT)
        .run_with_graceful_shutdown(app, example_shared::shutdown_signal(), None)
        .await
}
