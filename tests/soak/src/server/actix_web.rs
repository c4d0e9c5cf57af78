//! actix-web: `HttpServer` with the adapter's `Webhook` extractor, in an
//! actix `System` of its own.

use core::net::Ipv4Addr;

use actix_web::{App as ActixApp, HttpResponse, HttpServer, web};
use protocol_webhooks_actix_web::Webhook;

use super::{App, OK_BODY, Ready, Shutdown, WORKERS};
use crate::{EVENT_PATH, EventCounts};

async fn on_event(counts: web::Data<EventCounts>, Webhook(event): Webhook) -> HttpResponse {
    counts.record(&event.id);
    HttpResponse::Ok().body(OK_BODY)
}

pub(super) fn serve(app: App, ready: &Ready) -> Result<(), String> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|error| format!("cannot bind 127.0.0.1:0: {error}"))?;
    let address = listener
        .local_addr()
        .map_err(|error| format!("no local address: {error}"))?;
    let App { config, counts } = app;
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            ActixApp::new()
                .app_data(config.clone())
                .app_data(web::Data::new(counts.clone()))
                .route(EVENT_PATH, web::post().to(on_event))
        })
        .workers(WORKERS)
        .disable_signals()
        .shutdown_timeout(5)
        .listen(listener)
        .map_err(|error| format!("cannot listen: {error}"))?
        .run();
        ready
            .send(Ok((address, Shutdown::Actix(server.handle()))))
            .map_err(|_| String::from("nobody waits for the server"))?;
        server
            .await
            .map_err(|error| format!("actix-web server failed: {error}"))
    })
}
