//! The example receiver on Rocket: `POST /webhooks` handles every authentic
//! delivery, `POST /webhooks/once` each event id once. The program is the
//! same in all five examples; only the framework glue differs (see
//! `example-shared`).
//!
//! ```sh
//! PROTOCOL_WEBHOOK_SECRET=whsec_test PORT=3000 cargo run -p example-rocket
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::net::SocketAddr;
use std::process::ExitCode;

use example_shared::{EVENT_PATH, NOT_FOUND, ONCE_PATH, Settings};
use protocol_webhooks_rocket::{ClaimedWebhook, Webhook, WebhookFairing, WebhookRejection};
use rocket::data::Data;
use rocket::fairing::AdHoc;
use rocket::http::Method;
use rocket::response::content::RawJson;
use rocket::route::{self, Route};
use rocket::{Build, Request, Rocket};

// Mounted at `EVENT_PATH` and `ONCE_PATH`, so that the paths are the
// shared constants rather than copies in the attributes. `RawJson` answers
// `Content-Type: application/json` exactly, as the other examples do.
#[rocket::post("/", data = "<webhook>")]
fn on_webhook(webhook: Webhook) -> RawJson<String> {
    let Webhook(event) = webhook;
    RawJson(example_shared::handle(&event))
}

#[rocket::post("/", data = "<claimed>")]
async fn on_webhook_once(claimed: ClaimedWebhook) -> RawJson<String> {
    RawJson(example_shared::handle_once(claimed.into_inner()).await)
}

/// Rocket answers a method no route takes with 404: these methods get
/// routes of their own on both paths, which answer 405 instead. HEAD is
/// answered by the GET route, and CONNECT never reaches a route.
const WRONG_METHODS: [Method; 6] = [
    Method::Get,
    Method::Put,
    Method::Patch,
    Method::Delete,
    Method::Options,
    Method::Trace,
];

fn wrong_method<'r>(request: &'r Request<'_>, _: Data<'r>) -> route::BoxFuture<'r> {
    route::Outcome::from(request, WebhookRejection::method_not_allowed()).pin()
}

fn wrong_methods() -> Vec<Route> {
    WRONG_METHODS
        .into_iter()
        .map(|method| Route::new(method, "/", wrong_method))
        .collect()
}

// The adapter's fairing registers catchers for the statuses its guards
// fail with; 404 is not one of them, so this one does not clash.
#[rocket::catch(404)]
fn not_found() -> RawJson<&'static str> {
    RawJson(NOT_FOUND)
}

#[rocket::main]
async fn main() -> ExitCode {
    example_shared::run("example-rocket", async |settings| {
        app(&settings).launch().await.map(drop)
    })
    .await
}

fn app(settings: &Settings) -> Rocket<Build> {
    let address = settings.address();
    // Rocket's own logger stays off: the program's lines are those of
    // `init_logging`. Its own signal handling is off too, so that it stops
    // on the same signals as the other examples, via `shutdown_signal`.
    let figment = rocket::Config::figment()
        .merge(("address", address.ip()))
        .merge(("port", address.port()))
        .merge(("log_level", "off"))
        .merge(("shutdown.ctrlc", false))
        .merge(("shutdown.signals", Vec::<String>::new()));
    // Rocket 0.5 has no deadline for a request's head and no idle timeout
    // for HTTP/1: its `keep_alive` setting only turns keep-alive on or off
    // there (and sets HTTP/2's ping interval), so the shared
    // `HEADER_READ_TIMEOUT` and `KEEP_ALIVE_TIMEOUT` have no setting to
    // go to. Only the body's deadline applies.
    rocket::custom(figment)
        .attach(
            WebhookFairing::new(settings.config.clone())
                .with_deduplicator(example_shared::deduplicator()),
        )
        .attach(AdHoc::on_liftoff("Listening", |rocket| {
            Box::pin(async move {
                // Rocket's configuration holds the address it bound by now.
                let config = rocket.config();
                example_shared::log_listening(SocketAddr::new(config.address, config.port));
                let shutdown = rocket.shutdown();
                rocket::tokio::spawn(async move {
                    example_shared::shutdown_signal().await;
                    shutdown.notify();
                });
            })
        }))
        .mount(EVENT_PATH, rocket::routes![on_webhook])
        .mount(ONCE_PATH, rocket::routes![on_webhook_once])
        .mount(EVENT_PATH, wrong_methods())
        .mount(ONCE_PATH, wrong_methods())
        .register("/", rocket::catchers![not_found])
}
