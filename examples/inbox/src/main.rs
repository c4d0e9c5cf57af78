//! The inbox example: `POST /webhooks` verifies each Protocol webhook and
//! stores it in a durable inbox before answering (202 stored, 200 already
//! stored, 503 when the store cannot keep it); a worker in the same process
//! hands each stored event to a handler that logs it, with retries. The
//! handler records each success together with the event's done, exactly
//! once whatever kills the process: on SQLite as a row of the table
//! `handled` in the inbox's file, in the transaction that marks the event
//! done; on Redis as the event id pushed onto the list `{prefix}:handled`,
//! in the script that marks it done.
//!
//! ```sh
//! PROTOCOL_WEBHOOK_SECRET=whsec_test PORT=3000 cargo run -p example-inbox
//! ```
//!
//! The inbox is the SQLite file `INBOX_PATH` (default `inbox.sqlite3`), or
//! with the `redis` feature a Redis server, `INBOX_URL=redis://...`.
//! `--role receiver|worker|both` (or `ROLE`) runs only one half, so that
//! several receivers and several workers share one inbox. See the README
//! for every setting.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod handler;
mod options;

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::post;
use example_shared::{EVENT_PATH, JSON, NOT_FOUND, Settings};
use protocol_webhooks_axum::{InboxWebhook, WebhookConfig, WebhookRejection};
use protocol_webhooks_inbox::{Delivery, Inbox, SqliteStore, Stopped, StoreError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::handler::{Handler, Store};
use crate::options::{Options, StoreTarget, WorkerOptions};

const PROGRAM: &str = "example-inbox";

/// What the extractor takes from the router's state.
#[derive(Clone, FromRef)]
struct AppState {
    webhooks: WebhookConfig,
    inbox: Inbox,
}

/// Returned, the extractor is the answer: the event is on disk by now.
async fn on_webhook(stored: InboxWebhook) -> InboxWebhook {
    stored
}

async fn wrong_method() -> WebhookRejection {
    WebhookRejection::method_not_allowed()
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, [(CONTENT_TYPE, JSON)], NOT_FOUND)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::from_env() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{PROGRAM}: {message}");
            return ExitCode::from(2);
        }
    };
    // The secret and port matter only to a receiver.
    let settings = if options.role.receives() {
        match Settings::from_env(PROGRAM) {
            Ok(settings) => Some(settings),
            Err(code) => return code,
        }
    } else {
        None
    };
    example_shared::init_logging();
    match run(options, settings).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(error = &*error as &dyn Error, "failed");
            ExitCode::FAILURE
        }
    }
}

/// Opens the inbox, starts the worker, serves until Ctrl-C or SIGTERM,
/// then stops the server before the worker: events accepted during the
/// server's graceful shutdown are stored, and handled by the next run.
async fn run(options: Options, settings: Option<Settings>) -> Result<(), Box<dyn Error>> {
    let (inbox, store) = open(&options.store).await?;
    let (stop_worker, worker_stops) = oneshot::channel::<()>();
    let worker = if options.role.works() {
        let handler = Arc::new(Handler::new(&options.handler, store)?);
        let stop = async {
            let _ = worker_stops.await;
        };
        Some(start_worker(&inbox, handler, &options.worker, stop))
    } else {
        None
    };
    let served = match settings {
        Some(settings) => serve(app(&settings, inbox), &settings).await,
        None => {
            example_shared::shutdown_signal().await;
            Ok(())
        }
    };
    let _ = stop_worker.send(());
    if let Some(worker) = worker {
        let stopped = worker.await?;
        tracing::info!(handed_back = stopped.handed_back, "worker stopped");
    }
    Ok(served?)
}

/// Opens the inbox, and gives its store too: the handler records each
/// success in it, with the entry's done.
async fn open(target: &StoreTarget) -> Result<(Inbox, Store), StoreError> {
    match target {
        StoreTarget::Sqlite(path) => {
            let store = SqliteStore::open(path)?;
            tracing::info!(path = %path.display(), "inbox opened (SQLite)");
            Ok((Inbox::new(store.clone()), Store::Sqlite(store)))
        }
        #[cfg(feature = "redis")]
        StoreTarget::Redis { url, prefix } => {
            let mut options = protocol_webhooks_inbox::RedisStore::options();
            if let Some(prefix) = prefix {
                options = options.prefix(prefix.as_str());
            }
            let store = options.open(url).await?;
            // The URL may hold a password: only the prefix and the consumer
            // name are logged.
            tracing::info!(
                prefix = store.prefix(),
                consumer = store.consumer(),
                "inbox opened (Redis)"
            );
            Ok((Inbox::new(store.clone()), Store::Redis(store)))
        }
        #[cfg(not(feature = "redis"))]
        StoreTarget::Redis { .. } => unreachable!("refused when the options are read"),
    }
}

/// Runs the worker on its own task until `stop` completes: the handler,
/// with the schedule from the environment.
fn start_worker(
    inbox: &Inbox,
    handler: Arc<Handler>,
    options: &WorkerOptions,
    stop: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<Stopped> {
    let worker = inbox
        .worker(move |delivery: Delivery| {
            let handler = Arc::clone(&handler);
            async move { handler.handle(delivery).await }
        })
        .concurrency(options.concurrency)
        .attempts(options.attempts)
        .backoff(options.backoff_base, options.backoff_max)
        .lease(options.lease)
        .poll_interval(options.poll_interval);
    tracing::info!(?worker, "worker started");
    tokio::spawn(worker.run(stop))
}

fn app(settings: &Settings, inbox: Inbox) -> Router {
    Router::new()
        .route(EVENT_PATH, post(on_webhook).fallback(wrong_method))
        .fallback(not_found)
        .with_state(AppState {
            webhooks: settings.config.clone(),
            inbox,
        })
}

/// Serves `app` with the examples' shared loop rather than `axum::serve`,
/// which sets no deadline for a request's head.
async fn serve(app: Router, settings: &Settings) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(settings.address()).await?;
    example_shared::log_listening(listener.local_addr()?);
    example_shared::serve_hyper(listener, app, example_shared::shutdown_signal()).await
}
