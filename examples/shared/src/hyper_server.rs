//! The server loop of the examples whose framework runs on hyper 1 (axum
//! and warp): their own `serve` functions set no header-read deadline.

use std::error::Error as StdError;
use std::future::Future;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::{HEADER_READ_TIMEOUT, PAUSE_AFTER_ACCEPT_ERROR};

type BoxError = Box<dyn StdError + Send + Sync>;

/// Serves `service` on `listener` over HTTP/1.1 until `shutdown` resolves,
/// then stops accepting and waits for the open connections to finish
/// their requests.
///
/// Each connection has [`HEADER_READ_TIMEOUT`] to send a request's head,
/// counted from when the server starts waiting for it: the first one after
/// the connection opens, and each next one on a kept-alive connection, so
/// the same deadline closes idle connections. A connection that ends in an
/// error (a reset, a deadline, a malformed request) is the client's doing
/// and is logged at DEBUG; an accept error other than a refused or reset
/// connection (such as running out of file descriptors) at WARN, after
/// which the loop pauses for [`PAUSE_AFTER_ACCEPT_ERROR`].
///
/// # Errors
/// Never: the result matches the other frameworks' `serve`.
pub async fn serve_hyper<S, B>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) if is_connection_error(&error) => {
                    tracing::debug!(%error, "accept failed");
                    continue;
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(PAUSE_AFTER_ACCEPT_ERROR).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(service.clone()),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}
