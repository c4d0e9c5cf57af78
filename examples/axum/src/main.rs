//! A Protocol webhook receiver on 127.0.0.1: `POST /webhooks` handles every
//! authentic delivery, `POST /webhooks/once` each event id only once (a
//! redelivery is answered 200 `duplicate` without running the handler).
//!
//! ```sh
//! PROTOCOL_WEBHOOK_SECRET=whsec_test PORT=3000 cargo run -p example-axum
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::io::IsTerminal as _;
use std::process::ExitCode;

use axum::extract::FromRef;
use axum::routing::post;
use axum::{Json, Router};
use protocol_webhooks_axum::{
    ClaimedWebhook, Deduplicator, Event, Payload, Webhook, WebhookConfig,
};
use serde_json::{Value, json};
use tracing::{info, warn};
use tracing_subscriber::EnvFilter;

/// What the extractors take from the router's state.
#[derive(Clone, FromRef)]
struct AppState {
    webhooks: WebhookConfig,
    /// In memory: right for this single process. Replicas would share a
    /// Redis store (`protocol-webhooks-redis`).
    dedup: Deduplicator,
}

async fn on_webhook(Webhook(event): Webhook) -> Json<Value> {
    handle(&event)
}

/// The same handler, run once per event id: it commits when done.
async fn on_webhook_once(ClaimedWebhook(claimed): ClaimedWebhook) -> Json<Value> {
    let summary = handle(&claimed);
    if let Err(error) = claimed.commit().await {
        // The event was handled; only a redelivery might run it again.
        warn!(%error, "commit failed");
    }
    summary
}

/// Logs one line per resource and answers with a summary of the event.
fn handle(event: &Event) -> Json<Value> {
    let kind = event.event_type.as_str();
    match &event.payload {
        Payload::Contact(contact) => {
            info!(kind, id = %contact.id, username = contact.username.as_deref(), "contact");
        }
        Payload::Conversation(conversation) => {
            info!(kind, id = %conversation.id, muted = conversation.is_muted, "conversation");
        }
        Payload::Message(message) => {
            let conversation = message.conversation_id.as_deref();
            info!(kind, id = %message.id, conversation, "message");
        }
        Payload::Group(group) => {
            info!(kind, id = %group.id, name = group.name.as_deref(), "group");
        }
        Payload::Attachment(attachment) => {
            info!(kind, id = %attachment.id, file = attachment.filename.as_deref(), "attachment");
        }
        // `Payload::Unknown`, a type Protocol added later: logged, not refused.
        _ => info!(kind, id = event.resource_id(), "event of an unknown type"),
    }
    Json(json!({
        "id": event.id,
        "type": kind,
        "resource_id": event.resource_id(),
    }))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_ansi(std::io::stdout().is_terminal())
        .init();

    let secret = std::env::var("PROTOCOL_WEBHOOK_SECRET").unwrap_or_default();
    let Ok(config) = WebhookConfig::new(secret) else {
        return usage("set PROTOCOL_WEBHOOK_SECRET to the webhook secret from Protocol");
    };
    let port = std::env::var("PORT").unwrap_or_else(|_| String::from("3000"));
    let Ok(port) = port.parse::<u16>() else {
        return usage(&format!(
            "PORT must be a port number (0-65535), got {port:?}"
        ));
    };

    let app = Router::new()
        .route("/webhooks", post(on_webhook))
        .route("/webhooks/once", post(on_webhook_once))
        .with_state(AppState {
            webhooks: config,
            dedup: Deduplicator::in_memory(),
        });
    if let Err(error) = serve(app, port).await {
        tracing::error!(%error, "server failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

async fn serve(app: Router, port: u16) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    info!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut terminate) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn usage(message: &str) -> ExitCode {
    eprintln!("example-axum: {message}");
    ExitCode::from(2)
}
