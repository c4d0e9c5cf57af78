//! A Protocol webhook receiver on actix-web: `POST /webhooks`, running the
//! handler exactly once per event id (redeliveries are answered 200 without
//! running it).
//!
//! ```sh
//! PROTOCOL_WEBHOOK_SECRET=whsec_test cargo run -p example-actix-web
//! ```

mod settings;

use std::process::ExitCode;

use actix_web::{App, HttpResponse, HttpServer, web};
use protocol_webhooks_actix_web::{ClaimedWebhook, Deduplicator, Event, Payload, WebhookConfig};
use serde_json::json;
use tracing_subscriber::EnvFilter;

use crate::settings::Settings;

async fn on_webhook(claimed: ClaimedWebhook) -> HttpResponse {
    handle(&claimed);
    let summary = json!({
        "id": claimed.id,
        "type": claimed.event_type.as_str(),
        "resource_id": claimed.resource_id(),
    });
    // The work is done, so it is answered 2xx whatever the commit says; a
    // failed commit only means a later redelivery may run it again.
    if let Err(error) = claimed.commit().await {
        tracing::error!(%error, "event handled but not marked done");
    }
    HttpResponse::Ok().json(summary)
}

/// The receiver's work: here, logging what arrived.
fn handle(event: &Event) {
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
}

/// The webhook route and what it needs, for `App::configure`.
fn routes(
    config: WebhookConfig,
    deduplicator: Deduplicator,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |routes| {
        routes
            .app_data(config)
            .app_data(deduplicator)
            .route("/webhooks", web::post().to(on_webhook));
    }
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
    // Created once, outside the factory: every worker thread must claim in
    // the same store, or a redelivery reaching another worker would run the
    // handler again. Several replicas need a shared store such as
    // `protocol_webhooks_redis::RedisStore`.
    let deduplicator = Deduplicator::in_memory();
    let server =
        HttpServer::new(move || App::new().configure(routes(config.clone(), deduplicator.clone())))
            .bind(("127.0.0.1", port))?;
    for address in server.addrs() {
        tracing::info!("listening on http://{address}");
    }
    server.run().await?;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::{App, test};
    use protocol_webhooks_actix_web::protocol_webhooks::testing::SignedRequest;
    use protocol_webhooks_actix_web::{Deduplicator, EventType, WebhookConfig};

    use super::routes;

    const SECRET: &str = "whsec_example_test";

    #[actix_web::test]
    async fn handles_an_event_once_and_answers_redeliveries_as_duplicates() {
        let config = WebhookConfig::new(SECRET).expect("non-empty secret");
        let app =
            test::init_service(App::new().configure(routes(config, Deduplicator::in_memory())))
                .await;
        let signed = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("secret");
        let mut answers = Vec::new();
        for _ in 0..2 {
            let request = test::TestRequest::post()
                .uri("/webhooks")
                .insert_header((signed.header_name(), signed.signature()))
                .set_payload(signed.body().to_vec())
                .to_request();
            let response = test::call_service(&app, request).await;
            let status = response.status();
            let body: serde_json::Value = test::read_body_json(response).await;
            answers.push((status, body));
        }
        assert_eq!(answers[0].0, StatusCode::OK);
        assert_eq!(answers[0].1["id"], "evt_sample");
        assert_eq!(answers[0].1["type"], "contact.created");
        assert_eq!(answers[1].0, StatusCode::OK);
        assert_eq!(answers[1].1["type"], "duplicate");
    }
}
