//! axum: `axum::serve` with the adapter's `Webhook` extractor.

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use protocol_webhooks_axum::{Webhook, WebhookConfig};

use super::{App, OK_BODY, Ready, bind_loopback, listening, tokio_runtime};
use crate::{EVENT_PATH, EventCounts, Framework};

/// The router's state: the extractor finds the configuration in it through
/// `FromRef`, the handler its counts.
#[derive(Clone)]
struct AppState {
    config: WebhookConfig,
    counts: EventCounts,
}

impl FromRef<AppState> for WebhookConfig {
    fn from_ref(state: &AppState) -> Self {
        state.config.clone()
    }
}

impl FromRef<AppState> for EventCounts {
    fn from_ref(state: &AppState) -> Self {
        state.counts.clone()
    }
}

async fn on_event(
    State(counts): State<EventCounts>,
    Webhook(event): Webhook,
) -> (StatusCode, &'static str) {
    counts.record(&event.id);
    (StatusCode::OK, OK_BODY)
}

pub(super) fn serve(app: App, ready: &Ready) -> Result<(), String> {
    let router = Router::new()
        .route(EVENT_PATH, post(on_event))
        .with_state(AppState {
            config: app.config,
            counts: app.counts,
        });
    tokio_runtime(Framework::Axum)?.block_on(async move {
        let (listener, address) = bind_loopback().await?;
        let stopped = listening(ready, address)?;
        axum::serve(listener, router)
            .with_graceful_shutdown(stopped)
            .await
            .map_err(|error| format!("axum::serve failed: {error}"))
    })
}
