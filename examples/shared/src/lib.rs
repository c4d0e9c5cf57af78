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
//!
//! Slow clients: the body has `WebhookConfig::body_timeout` (30 s, or
//! `PROTOCOL_WEBHOOK_BODY_TIMEOUT` seconds) in every example; the head has
//! [`HEADER_READ_TIMEOUT`] and an idle connection [`KEEP_ALIVE_TIMEOUT`]
//! where the framework has such a setting (axum and warp through
//! [`serve_hyper`], actix-web); `docs/HARDENING.md` lists what each
//! framework can and cannot bound.

#![forbid(unsafe_code)]

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

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

/// How long a client may take to send a request's head (request line and
/// headers) before the connection is closed without an answer (actix-web
/// answers 408 first).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a kept-alive connection may wait for its next request. On
/// hyper (axum, warp) the wait for the next head is bounded by
/// [`HEADER_READ_TIMEOUT`], so the two are kept equal.
pub const KEEP_ALIVE_TIMEOUT: Duration = HEADER_READ_TIMEOUT;
/// How long actix-web waits for the client to close a connection the
/// server has finished with, before dropping it.
pub const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long [`serve_hyper`] pauses accepting after an accept error that is
/// not the client's (such as running out of file descriptors).
pub const PAUSE_AFTER_ACCEPT_ERROR: Duration = Duration::from_secs(1);

#[cfg(feature = "hyper")]
mod hyper_server;
#[cfg(feature = "hyper")]
pub use hyper_server::serve_hyper;

const SECRET_VAR: &str = "PROTOCOL_WEBHOOK_SECRET";
const BODY_TIMEOUT_VAR: &str = "PROTOCOL_WEBHOOK_BODY_TIMEOUT";
const DEFAULT_PORT: u16 = 3000;

/// What the program reads from its environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// From `PROTOCOL_WEBHOOK_SECRET` (required), with the body deadline
    /// from `PROTOCOL_WEBHOOK_BODY_TIMEOUT` in whole seconds (default
    /// `protocol_webhooks::DEFAULT_BODY_TIMEOUT`, 30 s).
    pub config: WebhookConfig,
    /// From `PORT` (default 3000; 0 picks a free port).
    pub port: u16,
}

impl Settings {
    /// Reads the settings, or prints what is wrong to stderr, prefixed by
    /// `program`, and gives the exit code for a usage error (2).
    ///
    /// # Errors
    /// The exit code when `PROTOCOL_WEBHOOK_SECRET` is missing or empty,
    /// `PORT` is not a port number, or `PROTOCOL_WEBHOOK_BODY_TIMEOUT` is
    /// not a positive number of seconds.
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
        let config = match std::env::var(BODY_TIMEOUT_VAR) {
            Ok(seconds) => match seconds.trim().parse::<u64>() {
                Ok(seconds) if seconds > 0 => {
                    config.with_body_timeout(Duration::from_secs(seconds))
                }
                _ => {
                    return Err(format!(
                        "{BODY_TIMEOUT_VAR} must be a positive number of seconds, got {seconds:?}"
                    ));
                }
            },
            Err(_) => config,
        };
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

/// Framework targets that log what a client did wrong (a malformed head, a
/// head over the size limit, a connection dropped mid-answer) at ERROR,
/// with no setting to lower it: actix-http's HTTP/1 dispatcher and
/// decoder. They are turned off unless `RUST_LOG` names them itself.
/// (warp's own server logs the same at ERROR, which is why the warp
/// example is served by [`serve_hyper`], which logs them at DEBUG.)
pub const QUIET_TARGETS: [&str; 1] = ["actix_http::h1"];

/// The log filter: `RUST_LOG` (default `info`), plus `TARGET=off` for each
/// of [`QUIET_TARGETS`] that it does not name.
#[must_use]
pub fn log_filter(rust_log: Option<&str>) -> String {
    let base = rust_log.map(str::trim).filter(|value| !value.is_empty());
    let mut filter = base.unwrap_or("info").to_owned();
    for target in QUIET_TARGETS {
        let crate_name = target.split("::").next().unwrap_or(target);
        if !base.is_some_and(|base| base.contains(crate_name)) {
            filter.push_str(&format!(",{target}=off"));
        }
    }
    filter
}

/// Logs to stdout with [`log_filter`] as the filter, in colour only on a
/// terminal.
pub fn init_logging() {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = log_filter(rust_log.as_deref());
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new(log_filter(None))),
        )
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

#[cfg(test)]
mod tests {
    use super::log_filter;

    #[test]
    fn the_quiet_targets_are_off_unless_named() {
        assert_eq!(log_filter(None), "info,actix_http::h1=off");
        assert_eq!(log_filter(Some(" ")), "info,actix_http::h1=off");
        assert_eq!(log_filter(Some("debug")), "debug,actix_http::h1=off");
        assert_eq!(
            log_filter(Some("info,actix_http=debug")),
            "info,actix_http=debug"
        );
    }
}
