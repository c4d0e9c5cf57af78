//! Receives Protocol webhooks on `POST /webhooks` and logs each event once:
//! a redelivery of an event already handled is answered 200 without logging
//! it again.
//!
//! ```sh
//! PROTOCOL_WEBHOOK_SECRET=whsec_test PORT=3000 cargo run -p example-poem
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use core::net::Ipv4Addr;
use core::time::Duration;
use std::env::VarError;
use std::process::ExitCode;

use poem::listener::TcpAcceptor;
use poem::web::Json;
use poem::{Endpoint, EndpointExt, Route, Server, handler, post};
use protocol_webhooks_poem::{ClaimedWebhook, Deduplicator, Payload, WebhookConfig};
use serde_json::{Value, json};
use tracing_subscriber::EnvFilter;

#[cfg(test)]
mod tests;

const DEFAULT_PORT: u16 = 3000;

#[handler]
async fn on_webhook(claimed: ClaimedWebhook) -> Json<Value> {
    let event = claimed.event();
    let kind = &event.event_type;
    match &event.payload {
        Payload::Contact(contact) => {
            let username = contact.username.as_deref();
            tracing::info!(%kind, id = %contact.id, username, "contact");
        }
        Payload::Conversation(conversation) => {
            let muted = conversation.is_muted;
            tracing::info!(%kind, id = %conversation.id, muted, "conversation");
        }
        Payload::Message(message) => {
            let conversation = message.conversation_id.as_deref();
            tracing::info!(%kind, id = %message.id, conversation, "message");
        }
        Payload::Group(group) => {
            let name = group.name.as_deref();
            tracing::info!(%kind, id = %group.id, name, "group");
        }
        Payload::Attachment(attachment) => {
            let filename = attachment.filename.as_deref();
            tracing::info!(%kind, id = %attachment.id, filename, "attachment");
        }
        Payload::Unknown(payload) => tracing::info!(%kind, %payload, "unknown event type"),
        // `Payload` is non-exhaustive: later versions may model more resources.
        _ => tracing::info!(%kind, "unhandled event type"),
    }
    let summary = json!({
        "id": event.id,
        "type": kind.as_str(),
        "resource_id": event.resource_id(),
    });
    // The event is logged: a failed commit only means a redelivery may log
    // it again, which is no reason to make the sender retry.
    if let Err(error) = claimed.commit().await {
        tracing::warn!(%error, "could not mark the event done");
    }
    Json(summary)
}

/// One replica, so the claims live in memory; replicas sharing the work
/// would share a `RedisStore` from `protocol-webhooks-redis` instead.
fn app(config: WebhookConfig, dedup: Deduplicator) -> impl Endpoint {
    Route::new()
        .at("/webhooks", post(on_webhook))
        .data(config)
        .data(dedup)
}

/// The webhook configuration and port from `PROTOCOL_WEBHOOK_SECRET` and `PORT`.
fn settings_from_env() -> Result<(WebhookConfig, u16), String> {
    settings(env_var("PROTOCOL_WEBHOOK_SECRET")?, env_var("PORT")?)
}

fn env_var(name: &str) -> Result<Option<String>, String> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(VarError::NotPresent) => Ok(None),
        Err(VarError::NotUnicode(_)) => Err(format!("{name} is not valid UTF-8")),
    }
}

/// The webhook configuration and port, from the variables' values.
fn settings(secret: Option<String>, port: Option<String>) -> Result<(WebhookConfig, u16), String> {
    let config = WebhookConfig::new(secret.unwrap_or_default()).map_err(|_| {
        String::from(
            "PROTOCOL_WEBHOOK_SECRET is not set or empty: set it to the webhook secret from Protocol",
        )
    })?;
    let port = match port {
        None => DEFAULT_PORT,
        Some(port) => port
            .trim()
            .parse()
            .map_err(|_| format!("PORT must be a port number from 0 to 65535, not {port:?}"))?,
    };
    Ok((config, port))
}

async fn serve(config: WebhookConfig, port: u16) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let address = listener.local_addr()?;
    tracing::info!("listening on http://{address}");
    Server::new_with_acceptor(TcpAcceptor::from_tokio(listener)?)
        .run_with_graceful_shutdown(
            app(config, Deduplicator::in_memory()),
            shutdown_signal(),
            Some(Duration::from_secs(5)),
        )
        .await
}

async fn shutdown_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; stop with Ctrl-C");
                core::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = core::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let (config, port) = match settings_from_env() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    match serve(config, port).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}
