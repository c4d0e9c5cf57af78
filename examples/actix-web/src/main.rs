//! A Protocol webhook receiver on actix-web: `POST /webhooks`.
//!
//! ```sh
//! PROTOCOL_WEBHOOK_SECRET=whsec_test cargo run -p example-actix-web
//! ```

mod settings;

use std::process::ExitCode;

use actix_web::{App, HttpResponse, HttpServer, web};
use protocol_webhooks_actix_web::{Payload, Webhook};
use serde_json::json;
use tracing_subscriber::EnvFilter;

use crate::settings::Settings;

async fn on_webhook(Webhook(event): Webhook) -> HttpResponse {
    let kind = event.event_type.as_str();
    match &event.payload {
        Payload::Contact(contact) => {
            tracing::info!(id = %contact.id, username = ?contact.username, "contact: {kind}");
        }
        Payload::Conversation(conversation) => {
            tracing::info!(id = %conversation.id, muted = ?conversation.is_muted, "conversation: {kind}");
        }
        Payload::Message(message) => {
            tracing::info!(id = %message.id, conversation = ?message.conversation_id, "message: {kind}");
        }
        Payload::Group(group) => {
            tracing::info!(id = %group.id, name = ?group.name, "group: {kind}");
        }
        Payload::Attachment(attachment) => {
            tracing::info!(id = %attachment.id, filename = ?attachment.filename, "attachment: {kind}");
        }
        // `Payload::Unknown` holds the raw JSON of types this version does not model.
        _ => tracing::info!(event = %event.id, "unhandled event type: {kind}"),
    }
    HttpResponse::Ok().json(json!({
        "id": event.id,
        "type": kind,
        "resource_id": event.resource_id(),
    }))
}

#[actix_web::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let settings = match Settings::from_env(|name| std::env::var_os(name)) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("example-actix-web: {error}");
            return ExitCode::from(2);
        }
    };

    match serve(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// Serves until Ctrl-C or SIGTERM, which actix-web handles by stopping the
/// workers.
async fn serve(Settings { config, port }: Settings) -> std::io::Result<()> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(config.clone())
            .route("/webhooks", web::post().to(on_webhook))
    })
    .bind(("127.0.0.1", port))?;
    for address in server.addrs() {
        tracing::info!("listening on http://{address}");
    }
    server.run().await?;
    tracing::info!("stopped");
    Ok(())
}
