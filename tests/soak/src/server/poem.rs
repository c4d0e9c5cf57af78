//! poem: `poem::Server` with the adapter's `Webhook` extractor.

use core::time::Duration;

use poem::listener::TcpAcceptor;
use poem::web::Data;
use poem::{EndpointExt, Route, Server, handler, post};
use protocol_webhooks_poem::Webhook;

use super::{App, OK_BODY, Ready, bind_loopback, listening, tokio_runtime};
use crate::{EVENT_PATH, EventCounts, Framework};

#[handler]
fn on_event(Data(counts): Data<&EventCounts>, Webhook(event): Webhook) -> &'static str {
    counts.record(&event.id);
    OK_BODY
}

pub(super) fn serve(app: App, ready: &Ready) -> Result<(), String> {
    let routes = Route::new()
        .at(EVENT_PATH, post(on_event))
        .data(app.config)
        .data(app.counts);
    tokio_runtime(Framework::Poem)?.block_on(async move {
        let (listener, address) = bind_loopback().await?;
        let acceptor = TcpAcceptor::from_tokio(listener)
            .map_err(|error| format!("no poem acceptor: {error}"))?;
        let stopped = listening(ready, address)?;
        Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(routes, stopped, Some(Duration::from_secs(5)))
            .await
            .map_err(|error| format!("poem::Server failed: {error}"))
    })
}
