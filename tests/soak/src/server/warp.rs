//! warp: `warp::serve` with the adapter's `webhook` filter and `recover`.

use core::net::{Ipv4Addr, SocketAddr};

use protocol_webhooks_warp::{Webhook, recover, webhook};
use warp::Filter;

use super::{App, OK_BODY, Ready, Shutdown, tokio_runtime};
use crate::Framework;

pub(super) fn serve(app: App, ready: &Ready) -> Result<(), String> {
    let App { config, counts } = app;
    let routes = warp::path!("webhooks")
        .and(warp::post())
        .and(webhook(config))
        .map(move |Webhook(event): Webhook| {
            counts.record(&event.id);
            OK_BODY
        })
        .recover(recover);
    tokio_runtime(Framework::Warp)?.block_on(async move {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|error| format!("cannot bind 127.0.0.1:0: {error}"))?;
        let address: SocketAddr = listener
            .local_addr()
            .map_err(|error| format!("no local address: {error}"))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        ready
            .send(Ok((address, Shutdown::Signal(stop))))
            .map_err(|_| String::from("nobody waits for the server"))?;
        warp::serve(routes)
            .incoming(listener)
            .graceful(async {
                let _ = stopped.await;
            })
            .run()
            .await;
        Ok(())
    })
}
