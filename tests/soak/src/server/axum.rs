//! axum: `axum::serve` with the adapter's `Webhook` extractor.

use core::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use protocol_webhooks_axum::{Webhook, WebhookConfig};

use super::{App, OK_BODY, Ready, Shutdown, tokio_runtime};
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
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|error| format!("cannot bind 127.0.0.1:0: {error}"))?;
        let address: SocketAddr = listener
            .local_addr()
            .map_err(|error| format!("no local address: {error}"))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        ready
            .send(Ok((address, Shutdown::Signal(stop))))
            .map_err(|_| String::from("nobody waits for the server"))?;
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .map_err(|error| format!("axum::serve failed: {error}"))
    })
}
