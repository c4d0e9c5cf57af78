//! One real server per framework, each on its own thread with its own
//! runtime, so that a framework's scheduling never borrows the client's.

mod actix_web;
mod axum;
mod poem;
mod rocket;
mod warp;

use core::fmt;
use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;

use protocol_webhooks::WebhookConfig;

use crate::{EventCounts, Framework, SECRET, panics};

/// Worker threads per server: the machine's two cores.
const WORKERS: usize = 2;

/// A cold debug build of a framework takes a while to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Graceful shutdown waits for open connections; none should be open by
/// then, so this is generous.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// A running server for one framework.
///
/// Dropping it stops the server too, without reporting how that went;
/// [`stop`](Self::stop) reports it.
pub struct Server {
    framework: Framework,
    address: SocketAddr,
    counts: EventCounts,
    panic_mark: usize,
    shutdown: Option<Shutdown>,
    finished: Receiver<Result<(), String>>,
    thread: Option<JoinHandle<()>>,
}

/// How each framework is told to stop.
pub(crate) enum Shutdown {
    /// axum, warp and poem wait on a oneshot channel.
    Signal(tokio::sync::oneshot::Sender<()>),
    /// actix-web's own handle.
    Actix(::actix_web::dev::ServerHandle),
    /// Rocket's own handle.
    Rocket(::rocket::Shutdown),
}

impl Shutdown {
    fn trigger(self) {
        match self {
            // The server may already have ended; then there is nobody to tell.
            Self::Signal(sender) => {
                let _ = sender.send(());
            }
            // The stop command is sent when `stop` is called; the returned
            // future only waits for it to complete, which `finished` does.
            Self::Actix(handle) => drop(handle.stop(true)),
            Self::Rocket(shutdown) => shutdown.notify(),
        }
    }
}

/// What a server thread reports once it listens: its address and how to
/// stop it.
pub(crate) type Ready = Sender<Result<(SocketAddr, Shutdown), String>>;

/// What every server needs: the webhook configuration (one secret, the default limit) and the
/// counts its handler adds to.
pub(crate) struct App {
    pub(crate) config: WebhookConfig,
    pub(crate) counts: EventCounts,
}

impl Server {
    /// Starts `framework`'s server on 127.0.0.1 with an ephemeral port and
    /// waits until it accepts connections.
    ///
    /// # Errors
    /// When the server thread cannot start, or the server fails to bind or
    /// does not start listening within 30 s.
    pub fn start(framework: Framework) -> Result<Self, String> {
        panics::install();
        let panic_mark = panics::mark();
        let counts = EventCounts::new();
        let config = WebhookConfig::new(SECRET).map_err(|error| error.to_string())?;
        let app = App {
            config,
            counts: counts.clone(),
        };
        let (ready, listening) = mpsc::channel();
        let (done, finished) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(framework.thread_prefix())
            .spawn(move || {
                let outcome = match framework {
                    Framework::Axum => axum::serve(app, &ready),
                    Framework::ActixWeb => actix_web::serve(app, &ready),
                    Framework::Warp => warp::serve(app, &ready),
                    Framework::Rocket => rocket::serve(app, &ready),
                    Framework::Poem => poem::serve(app, &ready),
                };
                // A failure before listening goes to `ready` when it is
                // still waited on; `done` carries it in any case.
                let _ = ready.send(outcome.clone().and(Err(String::from(
                    "the server ended before it was listening",
                ))));
                let _ = done.send(outcome);
            })
            .map_err(|error| format!("cannot start the {framework} server thread: {error}"))?;
        let (address, shutdown) = match listening.recv_timeout(START_TIMEOUT) {
            Ok(Ok(listening)) => listening,
            Ok(Err(error)) => return Err(format!("the {framework} server did not start: {error}")),
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "the {framework} server was not listening within {START_TIMEOUT:?}"
                ));
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(format!(
                    "the {framework} server thread ended before listening"
                ));
            }
        };
        Ok(Self {
            framework,
            address,
            counts,
            panic_mark,
            shutdown: Some(shutdown),
            finished,
            thread: Some(thread),
        })
    }

    /// The framework served.
    #[must_use]
    pub fn framework(&self) -> Framework {
        self.framework
    }

    /// The bound loopback address.
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The handler's counts.
    #[must_use]
    pub fn counts(&self) -> &EventCounts {
        &self.counts
    }

    /// Panics on this server's threads since it started, as
    /// `thread: message`.
    #[must_use]
    pub fn panics(&self) -> Vec<String> {
        let own = self.framework.thread_prefix();
        let prefixes: Vec<&str> = core::iter::once(own.as_str())
            .chain(self.framework.own_thread_prefixes().iter().copied())
            .collect();
        panics::since(self.panic_mark, &prefixes)
    }

    /// Stops the server gracefully and waits for its thread.
    ///
    /// # Errors
    /// When the server reports an error, or does not stop within 20 s.
    pub fn stop(mut self) -> Result<(), String> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<(), String> {
        let Some(shutdown) = self.shutdown.take() else {
            return Ok(());
        };
        shutdown.trigger();
        let framework = self.framework;
        let outcome = match self.finished.recv_timeout(STOP_TIMEOUT) {
            Ok(outcome) => {
                outcome.map_err(|error| format!("the {framework} server failed: {error}"))
            }
            Err(RecvTimeoutError::Timeout) => {
                // The thread is left running; joining it would hang.
                return Err(format!(
                    "the {framework} server did not stop within {STOP_TIMEOUT:?}"
                ));
            }
            Err(RecvTimeoutError::Disconnected) => Err(format!(
                "the {framework} server thread ended without a result"
            )),
        };
        if let Some(thread) = self.thread.take() {
            thread
                .join()
                .map_err(|_| format!("the {framework} server thread panicked"))?;
        }
        outcome
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Reached without `stop` only when a scenario gave up early; its
        // own error is the one worth reporting.
        let _ = self.shut_down();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("framework", &self.framework)
            .field("address", &self.address)
            .field("running", &self.shutdown.is_some())
            .finish_non_exhaustive()
    }
}

/// A multi-threaded tokio runtime whose threads carry the framework's name.
pub(crate) fn tokio_runtime(framework: Framework) -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name(format!("{}-worker", framework.thread_prefix()))
        .enable_all()
        .build()
        .map_err(|error| format!("cannot build the {framework} runtime: {error}"))
}

/// A tokio listener on an ephemeral loopback port, and its address.
pub(crate) async fn bind_loopback() -> Result<(tokio::net::TcpListener, SocketAddr), String> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(|error| format!("cannot bind 127.0.0.1:0: {error}"))?;
    let address = listener
        .local_addr()
        .map_err(|error| format!("no local address: {error}"))?;
    Ok((listener, address))
}

/// Reports `address` to [`Server::start`] with a [`Shutdown::Signal`]; the
/// future returned completes once the signal comes, for the framework's
/// graceful shutdown.
pub(crate) fn listening(
    ready: &Ready,
    address: SocketAddr,
) -> Result<impl Future<Output = ()> + Send + 'static, String> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    ready
        .send(Ok((address, Shutdown::Signal(stop))))
        .map_err(|_| String::from("nobody waits for the server"))?;
    Ok(async move {
        // A sender dropped unsent, as when `Server::start` gives up waiting,
        // stops the server too.
        let _ = stopped.await;
    })
}

/// The body of every 200 answer.
pub(crate) const OK_BODY: &str = "ok";
