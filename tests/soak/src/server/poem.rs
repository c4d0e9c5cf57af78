//! poem: `poem::Server` with the adapter's `Webhook` extractor.

use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;

use poem::listener::TcpAcceptor;
use poem::web::Data;
use poem::{EndpointExt, Route, Server, handler, post};
use protocol_webhooks_poem::Webhook;

use super::{App, OK_BODY, Ready, Shutdown, tokio_runtime};
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
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|error| format!("cannot bind 127.0.0.1:0: {error}"))?;
        let address: SocketAddr = listener
            .local_addr()
            .map_err(|error| format!("no local address: {error}"))?;
        let acceptor = TcpAcceptor::from_tokio(listener)
            .map_err(|error| format!("no poem acceptor: {error}"))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        ready
            .send(Ok((address, Shutdown::Signal(stop))))
            .map_err(|_| String::from("nobody waits for the server"))?;
        Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                routes,
                async {
                    let _ = stopped.await;
                },
                Some(Duration::from_secs(5)),
            )
            .await
            .map_err(|error| format!("poem::Server failed: {error}"))
    })
}
