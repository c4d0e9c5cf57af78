//! The five example receivers are one program written for five frameworks:
//! this crate holds everything in them that is not framework glue, so that
//! they read their settings, log, handle events and answer alike.
//!
//! The program: `POST /webhooks` takes `Webhook` (every authentic delivery
//! runs the handler); `POST /webhooks/once` takes `ClaimedWebhook` with an
//! in-memory [`Deduplicator`] (each event id runs the handler once; a
//! redelivery is answered 200 `duplicate`). Both answer 200 with
//! [`summary`] as `application/json`, and another method than `POST` with
//! the adapter's `WebhookRejection::method_not_allowed()` (405, `Allow:
//! POST`). Any other path is answered 404 with [`NOT_FOUND`] as
//! `application/json`. Settings come from the environment
//! ([`Settings::from_env`]); the server binds 127.0.0.1 and logs
//! `listening on http://ADDRESS` once it accepts connections.

#![forbid(unsafe_code)]

use std::io::IsTerminal as _;
use std::process::ExitCode;

use protocol_webhooks::WebhookConfig;
use protocol_webhooks::dedup::{ClaimedEvent, Deduplicator};
use protocol_webhooks::events::{Event, Payload};
use tracing_subscriber::EnvFilter;

/// The route taking `Webhook`.
pub const EVENT_PATH: &str = "/webhooks";
/// The route taking `ClaimedWebhook`.
pub const ONCE_PATH: &str = "/webhooks/once";
/// The content type of a handler's answer.
pub const JSON: &str = "application/json";
/// The body of the 404 for a path that is not a route, in Protocol's error
/// format like every other refusal.
pub const NOT_FOUND: &str = r#"{"type":"invalid_request","message":"no such route"}"#;

const SECRET_VAR: &str = "PROTOCOL_WEBHOOK_SECRET";
const DEFAULT_PORT: u16 = 3000;

/// What the program reads from its environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// From `PROTOCOL_WEBHOOK_SECRET` (required).
    pub config: WebhookConfig,
    /// From `PORT` (default 3000; 0 picks a free port).
    pub port: u16,
}

impl Settings {
    /// Reads the settings, or prints what is wrong to stderr, prefixed by
    /// `program`, and gives the exit code for a usage error (2).
    ///
    /// # Errors
    /// The exit code when `PROTOCOL_WEBHOOK_SECRET` is missing or empty, or
    /// `PORT` is not a port number.
    pub fn from_env(program: &str) -> Result<Self, ExitCode> {
        Self::read().map_err(|message| {
            eprintln!("{program}: {message}");
            ExitCode::from(2)
        })
    }

    fn read() -> Result<Self, String> {
        let secret = std::env::var(SECRET_VAR).unwrap_or_default();
        let config = WebhookConfig::new(secret).map_err(|_| {
            format!(
                "set {SECRET_VAR} to the webhook secret from Protocol, e.g. {SECRET_VAR}=whsec_test"
            )
        })?;
        let port = match std::env::var("PORT") {
            Ok(port) => port
                .trim()
                .parse()
                .map_err(|_| format!("PORT must be a port number (0-65535), got {port:?}"))?,
            Err(_) => DEFAULT_PORT,
        };
        Ok(Self { config, port })
    }

    /// The address to bind: loopback only, as an example should.
    #[must_use]
    pub fn address(&self) -> std::net::SocketAddr {
        (std::net::Ipv4Addr::LOCALHOST, self.port).into()
    }
}

/// The whole life of an example: reads the settings (a usage error goes to
/// stderr with exit code 2, before anything is logged), starts logging,
/// runs `serve`, and logs how it ended: `stopped`, or `server failed` and
/// why, with exit code 1.
pub async fn run<E: std::fmt::Display>(
    program: &str,
    serve: impl AsyncFnOnce(Settings) -> Result<(), E>,
) -> ExitCode {
    let settings = match Settings::from_env(program) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    init_logging();
    match serve(settings).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stdout with `RUST_LOG` as the filter (default `info`), in
/// colour only on a terminal.
pub fn init_logging() {
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_ansi(std::io::stdout().is_terminal())
        .finish();
    // Only the first call in a process installs; later ones change nothing.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The line a runner waits for: the server accepts connections at `address`.
pub fn log_listening(address: impl std::fmt::Display) {
    tracing::info!("listening on http://{address}");
}

/// The de-duplicator of the once route: in memory, right for one process.
/// Replicas would share a Redis store (`protocol-webhooks-redis`).
#[must_use]
pub fn deduplicator() -> Deduplicator {
    Deduplicator::in_memory()
}

/// The handler of `POST /webhooks`: logs one line per event and answers
/// with its [`summary`].
#[must_use]
pub fn handle(event: &Event) -> String {
    let kind = event.event_type.as_str();
    match &event.payload {
        Payload::Contact(contact) => {
            tracing::info!(kind, id = %contact.id, username = contact.username.as_deref(), "contact");
        }
        Payload::Conversation(conversation) => {
            tracing::info!(kind, id = %conversation.id, muted = conversation.is_muted, "conversation");
        }
        Payload::Message(message) => {
            let conversation = message.conversation_id.as_deref();
            tracing::info!(kind, id = %message.id, conversation, "message");
        }
        Payload::Group(group) => {
            tracing::info!(kind, id = %group.id, name = group.name.as_deref(), "group");
        }
        Payload::Attachment(attachment) => {
            tracing::info!(kind, id = %attachment.id, file = attachment.filename.as_deref(), "attachment");
        }
        // `Payload::Unknown`, a type Protocol added later: logged, not refused.
        _ => tracing::info!(kind, id = event.resource_id(), "event of an unknown type"),
    }
    summary(event)
}

/// The handler of `POST /webhooks/once`: [`handle`], then the commit that
/// makes later deliveries duplicates.
pub async fn handle_once(claimed: ClaimedEvent) -> String {
    let summary = handle(&claimed);
    if let Err(error) = claimed.commit().await {
        // The event was handled; only a redelivery might run it again.
        tracing::warn!(%error, "event handled but not marked done");
    }
    summary
}

/// `{"id":...,"resource_id":...,"type":...}`: what the handlers answer.
#[must_use]
pub fn summary(event: &Event) -> String {
    serde_json::json!({
        "id": event.id,
        "type": event.event_type.as_str(),
        "resource_id": event.resource_id(),
    })
    .to_string()
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM: the signal to stop gracefully.
pub async fn shutdown_signal() {
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
