//! The example receiver on warp: `POST /webhooks` handles every authentic
//! delivery, `POST /webhooks/once` each event id once. The program is the
//! same in all five examples; only the framework glue differs (see
//! `example-shared`).
//!
//! ```sh
//! PROTOCOL_WEBHOOK_SECRET=whsec_test PORT=3000 cargo run -p example-warp
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::process::ExitCode;

use example_shared::{EVENT_PATH, JSON, NOT_FOUND, ONCE_PATH, Settings};
use protocol_webhooks_warp::{
    ClaimedWebhook, Webhook, WebhookRejection, claimed_webhook, recover, webhook,
};
use warp::http::StatusCode;
use warp::http::header::CONTENT_TYPE;
use warp::path::FullPath;
use warp::reject::MethodNotAllowed;
use warp::reply::{Reply, Response};
use warp::{Filter, Rejection};

fn json(body: impl Reply) -> Response {
    // Replaces warp's `text/plain; charset=utf-8` for a `String` body.
    warp::reply::with_header(body, CONTENT_TYPE, JSON).into_response()
}

fn on_webhook(Webhook(event): Webhook) -> Response {
    json(example_shared::handle(&event))
}

async fn on_webhook_once(ClaimedWebhook(claimed): ClaimedWebhook) -> Response {
    json(example_shared::handle_once(claimed).await)
}

/// Answers what reached no route, after the adapter's `recover` answered
/// the refused webhooks: warp rejects a wrong method and an unknown path
/// instead of routing them to a fallback.
///
/// # Errors
/// Any other rejection, for warp to answer as usual; the routes make none.
async fn not_routed(rejection: Rejection) -> Result<Response, Rejection> {
    if rejection.find::<MethodNotAllowed>().is_some() {
        Ok(WebhookRejection::method_not_allowed().into_response())
    } else if rejection.is_not_found() {
        Ok(warp::reply::with_status(json(NOT_FOUND), StatusCode::NOT_FOUND).into_response())
    } else {
        Err(rejection)
    }
}

/// Matches the request's whole path against `path`, so that the routes
/// use the shared constants, which `warp::path!` cannot take.
fn at(path: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::path::full()
        .and_then(move |full: FullPath| async move {
            if full.as_str() == path {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            }
        })
        .untuple_one()
}

fn routes(
    settings: &Settings,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone + Send + Sync + 'static {
    let events = at(EVENT_PATH)
        .and(warp::post())
        .and(webhook(settings.config.clone()))
        .map(on_webhook);
    let once = at(ONCE_PATH)
        .and(warp::post())
        .and(claimed_webhook(
            settings.config.clone(),
            example_shared::deduplicator(),
        ))
        .then(on_webhook_once);
    events.or(once).recover(recover).recover(not_routed)
}

#[tokio::main]
async fn main() -> ExitCode {
    example_shared::run("example-warp", async |settings| serve(&settings).await).await
}

/// Serves the routes with the shared loop rather than `warp::serve`, which
/// sets no deadline for a request's head and logs every connection a
/// client breaks off at ERROR.
async fn serve(settings: &Settings) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(settings.address()).await?;
    example_shared::log_listening(listener.local_addr()?);
    let service = warp::service(routes(settings));
    example_shared::serve_hyper(listener, service, example_shared::shutdown_signal()).await
}
