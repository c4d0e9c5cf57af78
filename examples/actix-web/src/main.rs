//! The example receiver on actix-web: `POST /webhooks` handles every
//! authentic delivery, `POST /webhooks/once` each event id once. The
//! program is the same in all five examples; only the framework glue
//! differs (see `example-shared`).
//!
//! ```sh
//! PROTOCOL_WEBHOOK_SECRET=whsec_test PORT=3000 cargo run -p example-actix-web
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::process::ExitCode;

use actix_web::{App, HttpResponse, HttpServer, ResponseError as _, web};
use example_shared::{
    CLIENT_DISCONNECT_TIMEOUT, EVENT_PATH, HEADER_READ_TIMEOUT, JSON, KEEP_ALIVE_TIMEOUT,
    NOT_FOUND, ONCE_PATH, Settings,
};
use protocol_webhooks_actix_web::{ClaimedWebhook, Webhook, WebhookRejection};

async fn on_webhook(event: Webhook) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(JSON)
        .body(example_shared::handle(&event))
}

async fn on_webhook_once(claimed: ClaimedWebhook) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(JSON)
        .body(example_shared::handle_once(claimed.into_inner()).await)
}

async fn wrong_method() -> HttpResponse {
    WebhookRejection::method_not_allowed().error_response()
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().content_type(JSON).body(NOT_FOUND)
}

#[actix_web::main]
async fn main() -> ExitCode {
    example_shared::run("example-actix-web", async |settings| serve(&settings).await).await
}

async fn serve(settings: &Settings) -> std::io::Result<()> {
    let config = settings.config.clone();
    // Made once, outside the factory that runs on each worker thread: every
    // worker must claim in the same store, or a redelivery reaching another
    // worker would run the handler again.
    let dedup = example_shared::deduplicator();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(config.clone())
            .app_data(dedup.clone())
            .service(
                web::resource(EVENT_PATH)
                    .route(web::post().to(on_webhook))
                    .default_service(web::to(wrong_method)),
            )
            .service(
                web::resource(ONCE_PATH)
                    .route(web::post().to(on_webhook_once))
                    .default_service(web::to(wrong_method)),
            )
            .default_service(web::to(not_found))
    })
    // The program stops on the same signals in every framework, the
    // shared ones, rather than on actix-web's own set.
    .disable_signals()
    // The shared slow-client deadlines: a head that takes longer than
    // `HEADER_READ_TIMEOUT` is answered 408 and closed.
    .client_request_timeout(HEADER_READ_TIMEOUT)
    .keep_alive(KEEP_ALIVE_TIMEOUT)
    .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
    .bind(settings.address())?;
    for address in server.addrs() {
        example_shared::log_listening(address);
    }
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        example_shared::shutdown_signal().await;
        handle.stop(true).await;
    });
    server.await
}
