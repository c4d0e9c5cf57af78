//! A Rocket server receiving Protocol webhooks.
//!
//! `PROTOCOL_WEBHOOK_SECRET=whsec_test cargo run -p example-rocket` serves
//! `POST http://127.0.0.1:3000/webhooks`, and `POST /webhooks/once`, which
//! handles each event id once (in memory: a redelivery is answered 200
//! without running the handler); `PORT` picks another port and `RUST_LOG` the
//! log filter (default `info`).

use std::io::IsTerminal;
use std::process::ExitCode;

use protocol_webhooks_rocket::{
    ClaimedWebhook, Deduplicator, Event, Payload, Webhook, WebhookConfig, WebhookFairing,
};
use rocket::fairing::AdHoc;
use rocket::serde::json::{Json, Value, json};
use tracing_subscriber::EnvFilter;

#[rocket::post("/webhooks", data = "<webhook>")]
fn on_webhook(webhook: Webhook) -> Json<Value> {
    let Webhook(event) = webhook;
    log_event(&event);
    Json(summary(&event))
}

/// Runs once per event id: a redelivery of a committed event is answered
/// 200 by the guard, without coming here.
#[rocket::post("/webhooks/once", data = "<claimed>")]
async fn on_webhook_once(claimed: ClaimedWebhook) -> Json<Value> {
    log_event(&claimed);
    let summary = summary(&claimed);
    if let Err(error) = claimed.commit().await {
        // The work above is done: answer 200 all the same.
        tracing::warn!(%error, "event handled but not marked done");
    }
    Json(summary)
}

fn summary(event: &Event) -> Value {
    json!({
        "id": event.id,
        "type": event.event_type.as_str(),
        "resource_id": event.resource_id(),
    })
}

fn log_event(event: &Event) {
    let event_type = event.event_type.as_str();
    match &event.payload {
        Payload::Contact(contact) => {
            tracing::info!(event_type, id = %contact.id, username = ?contact.username, "contact");
        }
        Payload::Conversation(conversation) => {
            tracing::info!(event_type, id = %conversation.id, contact_id = ?conversation.contact_id, "conversation");
        }
        Payload::Message(message) => {
            tracing::info!(event_type, id = %message.id, conversation_id = ?message.conversation_id, "message");
        }
        Payload::Group(group) => {
            tracing::info!(event_type, id = %group.id, name = ?group.name, "group");
        }
        Payload::Attachment(attachment) => {
            tracing::info!(event_type, id = %attachment.id, filename = ?attachment.filename, "attachment");
        }
        // `Payload::Unknown`: a type Protocol added after this version.
        _ => {
            tracing::info!(event_type, resource_id = ?event.resource_id(), "event of an unhandled type");
        }
    }
}

/// The webhook configuration and the port, from the environment.
fn settings() -> Result<(WebhookConfig, u16), String> {
    const SECRET_VAR: &str = "PROTOCOL_WEBHOOK_SECRET";
    let secret = std::env::var(SECRET_VAR).unwrap_or_default();
    let config = WebhookConfig::new(secret).map_err(|_| {
        format!("{SECRET_VAR} must be set to the webhook secret, e.g. {SECRET_VAR}=whsec_test")
    })?;
    let port = match std::env::var("PORT") {
        Ok(port) => port
            .trim()
            .parse()
            .map_err(|_| format!("PORT must be a port number (0-65535), got {port:?}"))?,
        Err(_) => 3000,
    };
    Ok((config, port))
}

#[rocket::main]
async fn main() -> ExitCode {
    let (config, port) = match settings() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("example-rocket: {message}");
            return ExitCode::from(2);
        }
    };
    // Not `.init()`: that would also route Rocket's own `log` output,
    // which Rocket's config below turns off, into these logs.
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::stdout().is_terminal())
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);

    // Rocket stops gracefully on Ctrl-C and SIGTERM by default.
    let figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"));
    let launched = rocket::custom(figment)
        .attach(WebhookFairing::new(config).with_deduplicator(Deduplicator::in_memory()))
        .attach(AdHoc::on_liftoff("Announce address", |rocket| {
            Box::pin(async move {
                let config = rocket.config();
                tracing::info!("listening on http://{}:{}", config.address, config.port);
            })
        }))
        .mount("/", rocket::routes![on_webhook, on_webhook_once])
        .launch()
        .await;
    match launched {
        Ok(_) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!("server failed: {error}");
            ExitCode::FAILURE
        }
    }
}
