//! Receives Protocol webhooks on `POST /webhooks` with warp, and exactly
//! once per event on `POST /webhooks/once`.
//!
//! `PROTOCOL_WEBHOOK_SECRET` (required) is the signing secret; `PORT`
//! (default 3000) the port on 127.0.0.1.

use core::convert::Infallible;
use core::net::Ipv4Addr;
use std::env::{self, VarError};
use std::process::ExitCode;

use protocol_webhooks_warp::{
    ClaimedWebhook, Deduplicator, Event, Payload, Webhook, WebhookConfig, claimed_webhook, recover,
    webhook,
};
use tracing::info;
use tracing_subscriber::EnvFilter;
use warp::Filter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let (config, port) = match settings() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("example-warp: {message}");
            return ExitCode::from(2);
        }
    };

    let events = warp::path!("webhooks")
        .and(warp::post())
        .and(webhook(config.clone()))
        .and_then(on_webhook);
    // One replica, so the claims can live in this process.
    let once = warp::path!("webhooks" / "once")
        .and(warp::post())
        .and(claimed_webhook(config, Deduplicator::in_memory()))
        .and_then(on_webhook_once);
    let routes = events.or(once).recover(recover);

    let listener = match tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("example-warp: cannot listen on 127.0.0.1:{port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(address) => info!("listening on http://{address}"),
        Err(error) => tracing::warn!(%error, "listening, but the local address is unknown"),
    }
    warp::serve(routes)
        .incoming(listener)
        .graceful(shutdown_signal())
        .run()
        .await;
    info!("stopped");
    ExitCode::SUCCESS
}

async fn on_webhook(Webhook(event): Webhook) -> Result<impl warp::Reply, Infallible> {
    log_event(&event);
    Ok(summary(&event))
}

/// Runs once per event: a redelivery is answered 200 by `recover` without
/// reaching this handler.
async fn on_webhook_once(claimed: ClaimedWebhook) -> Result<impl warp::Reply, Infallible> {
    log_event(&claimed);
    let reply = summary(&claimed);
    // The work is done, so a failed commit is logged, not answered.
    if let Err(error) = claimed.commit().await {
        tracing::error!(%error, "could not mark the event done");
    }
    Ok(reply)
}

fn log_event(event: &Event) {
    let event_type = event.event_type.as_str();
    match &event.payload {
        Payload::Contact(contact) => {
            info!(event_type, id = %contact.id, username = ?contact.username, "contact");
        }
        Payload::Conversation(conversation) => {
            info!(event_type, id = %conversation.id, muted = ?conversation.is_muted, "conversation");
        }
        Payload::Message(message) => {
            info!(event_type, id = %message.id, text = ?message.message, "message");
        }
        Payload::Group(group) => {
            info!(event_type, id = %group.id, name = ?group.name, "group");
        }
        Payload::Attachment(attachment) => {
            info!(event_type, id = %attachment.id, filename = ?attachment.filename, "attachment");
        }
        _ => info!(event_type, id = ?event.resource_id(), "type not modelled by this version"),
    }
}

/// `{"id", "type", "resource_id"}` of the event.
fn summary(event: &Event) -> warp::reply::Json {
    warp::reply::json(&serde_json::json!({
        "id": event.id,
        "type": event.event_type.as_str(),
        "resource_id": event.resource_id(),
    }))
}

/// The secret and port from the environment, or a message saying what is wrong.
fn settings() -> Result<(WebhookConfig, u16), String> {
    let secret = env::var_os("PROTOCOL_WEBHOOK_SECRET").unwrap_or_default();
    let config = WebhookConfig::new(secret.into_encoded_bytes()).map_err(|_| {
        String::from(
            "PROTOCOL_WEBHOOK_SECRET is not set or empty; set it to the webhook signing secret",
        )
    })?;
    let port = match env::var("PORT") {
        Err(VarError::NotPresent) => 3000,
        Ok(text) => text
            .parse()
            .map_err(|_| format!("PORT must be a port number from 0 to 65535, got {text:?}"))?,
        Err(VarError::NotUnicode(text)) => {
            return Err(format!(
                "PORT must be a port number from 0 to 65535, got {text:?}"
            ));
        }
    };
    Ok((config, port))
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            core::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => core::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = core::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    info!("shutting down");
}
