//! The example receiver on axum: `POST /webhooks` handles every authentic
//! delivery, `POST /webhooks/once` each event id once. The program is the
//! same in all five examples; only the framework glue differs (see
//! `example-shared`).
//!
//! ```sh
//! PROTOCOL_WEBHOOK_SECRET=whsec_test PORT=3000 cargo run -p example-axum
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::process::ExitCode;

use axum::Router;
use axum::extract::FromRef;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::post;
use example_shared::{EVENT_PATH, JSON, NOT_FOUND, ONCE_PATH, Settings};
use protocol_webhooks_axum::{
    ClaimedWebhook, Deduplicator, Webhook, WebhookConfig, WebhookRejection,
};

/// What the extractors take from the router's state.
#[derive(Clone, FromRef)]
struct AppState {
    webhooks: WebhookConfig,
    dedup: Deduplicator,
}

async fn on_webhook(Webhook(event): Webhook) -> impl IntoResponse {
    ([(CONTENT_TYPE, JSON)], example_shared::handle(&event))
}

async fn on_webhook_once(ClaimedWebhook(claimed): ClaimedWebhook) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, JSON)],
        example_shared::handle_once(claimed).await,
    )
}

async fn wrong_method() -> WebhookRejection {
    WebhookRejection::method_not_allowed()
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, [(CONTENT_TYPE, JSON)], NOT_FOUND)
}

#[tokio::main]
async fn main() -> ExitCode {
    example_shared::run("example-axum", async |settings| {
        serve(app(&settings), &settings).await
    })
    .await
}

fn app(settings: &Settings) -> Router {
    Router::new()
        .route(EVENT_PATH, post(on_webhook).fallback(wrong_method))
        .route(ONCE_PATH, post(on_webhook_once).fallback(wrong_method))
        .fallback(not_found)
        .with_state(AppState {
            webhooks: settings.config.clone(),
            dedup: example_shared::deduplicator(),
        })
}

/// Serves `app` with the shared loop rather than `axum::serve`, which sets
/// no deadline for a request's head.
async fn serve(app: Router, settings: &Settings) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(settings.address()).await?;
    example_shared::log_listening(listener.local_addr()?);
    example_shared::serve_hyper(listener, app, example_shared::shutdown_signal()).await
}
