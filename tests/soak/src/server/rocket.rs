//! Rocket: `Rocket::launch` on a tokio runtime of this crate, with the
//! adapter's `Webhook` guard and `WebhookFairing`.

use core::net::{Ipv4Addr, SocketAddr};

use protocol_webhooks_rocket::{Webhook, WebhookFairing};
use rocket::config::{LogLevel, Shutdown as ShutdownConfig};
use rocket::fairing::AdHoc;
use rocket::{Config, State};

use super::{App, OK_BODY, Ready, Shutdown, tokio_runtime};
use crate::{EventCounts, Framework};

#[rocket::post("/webhooks", data = "<webhook>")]
fn on_event(counts: &State<EventCounts>, webhook: Webhook) -> &'static str {
    let event = webhook.into_inner();
    counts.record(&event.id);
    OK_BODY
}

/// Quiet, on an ephemeral loopback port, without signal handling, and with
/// a short grace period so that stopping does not dominate a test.
fn config() -> Config {
    Config {
        address: Ipv4Addr::LOCALHOST.into(),
        port: 0,
        log_level: LogLevel::Off,
        cli_colors: false,
        shutdown: ShutdownConfig {
            ctrlc: false,
            #[cfg(unix)]
            signals: std::collections::HashSet::new(),
            grace: 1,
            mercy: 1,
            ..ShutdownConfig::default()
        },
        ..Config::debug_default()
    }
}

pub(super) fn serve(app: App, ready: &Ready) -> Result<(), String> {
    let ready = ready.clone();
    let rocket = rocket::custom(config())
        .attach(WebhookFairing::new(app.config))
        .manage(app.counts)
        .mount("/", rocket::routes![on_event])
        .attach(AdHoc::on_liftoff(
            "report the bound address",
            move |rocket| {
                Box::pin(async move {
                    let config = rocket.config();
                    let address = SocketAddr::new(config.address, config.port);
                    let _ = ready.send(Ok((address, Shutdown::Rocket(rocket.shutdown()))));
                })
            },
        ));
    tokio_runtime(Framework::Rocket)?.block_on(async move {
        rocket
            .launch()
            .await
            .map(drop)
            .map_err(|error| format!("Rocket failed: {error}"))
    })
}
