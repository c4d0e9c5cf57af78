//! The shared HTTP conformance suite: called in process through plain tower
//! routing and through an axum Router, and over a real 127.0.0.1 socket
//! served by hyper's HTTP/1 connection.
//!
//! There is no run without registration: a layer cannot be built without
//! its `WebhookConfig`, nor an exactly-once layer without its
//! `Deduplicator`, so no app can forget them at run time.

use core::time::Duration;
use std::net::SocketAddr;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::{InProcess, app, axum_app};

#[tokio::test]
async fn conformance_in_process() {
    protocol_webhooks_conformance::run(&InProcess(app())).await;
}

#[tokio::test]
async fn conformance_behind_an_axum_router() {
    protocol_webhooks_conformance::run(&InProcess(axum_app())).await;
}

/// A hyper HTTP/1 server of the suite's app on a loopback port, until
/// `stop` is sent.
async fn serve() -> (SocketAddr, oneshot::Sender<()>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("bound address");
    let (stop, mut stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let app = app();
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => accepted.expect("accept").0,
                _ = &mut stopped => return,
            };
            let service = TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                // A client that hangs up mid-request ends its connection
                // with an error; that is the client's business.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (address, stop, server)
}

#[tokio::test]
async fn conformance_over_tcp() {
    let (address, stop, server) = serve().await;

    protocol_webhooks_conformance::run_over_tcp(address).await;

    stop.send(()).expect("server is still running");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stops accepting")
        .expect("server task");
}
