//! What the Rocket-specific tests share: a configuration, a signed sample,
//! an app whose exactly-once route counts its runs, and a real server.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use protocol_webhooks_rocket::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_rocket::{ClaimedWebhook, Deduplicator, EventType, Webhook, WebhookConfig};
use rocket::config::{LogLevel, Shutdown};
use rocket::fairing::AdHoc;
use rocket::http::Header;
use rocket::local::asynchronous::{Client, LocalRequest, LocalResponse};
use rocket::tokio::sync::oneshot;
use rocket::tokio::task::JoinHandle;
use rocket::{Build, Config, Ignite, Rocket, Route, State};

pub(crate) const SECRET: &str = "whsec_rocket_test";
/// The lease of [`deduplicator`]'s claims.
pub(crate) const LEASE: Duration = Duration::from_secs(30);
/// The answer to a redelivery of [`sample`] once it is committed.
pub(crate) const DUPLICATE: &str =
    r#"{"type":"duplicate","message":"event evt_sample already processed"}"#;

pub(crate) fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET).expect("non-empty secret")
}

pub(crate) fn deduplicator() -> Deduplicator {
    Deduplicator::in_memory().with_lease(LEASE)
}

/// A `message.created` event with the id `evt_sample`, signed with [`SECRET`].
pub(crate) fn sample() -> SignedRequest {
    SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("signed sample")
}

/// How many times an exactly-once handler got past its claim.
#[derive(Default)]
pub(crate) struct Runs(AtomicUsize);

impl Runs {
    pub(crate) fn start(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[rocket::post("/webhooks", data = "<webhook>")]
fn on_event(webhook: Webhook) -> String {
    webhook.into_inner().id
}

#[rocket::post("/once", data = "<claimed>")]
async fn on_once(claimed: ClaimedWebhook, runs: &State<Runs>) -> String {
    runs.start();
    commit(claimed).await
}

/// Commits the claim and answers the event id.
pub(crate) async fn commit(claimed: ClaimedWebhook) -> String {
    let id = claimed.id.clone();
    claimed.commit().await.expect("the memory store commits");
    id
}

/// `rocket` with [`Runs`] managed, `POST /webhooks` answering the event id,
/// `POST /once` committing and answering it, and `routes`.
pub(crate) fn app(rocket: Rocket<Build>, routes: Vec<Route>) -> Rocket<Build> {
    rocket
        .manage(Runs::default())
        .mount("/", rocket::routes![on_event, on_once])
        .mount("/", routes)
}

pub(crate) async fn client(rocket: Rocket<Build>) -> Client {
    Client::untracked(rocket).await.expect("the app ignites")
}

pub(crate) fn runs(client: &Client) -> usize {
    client.rocket().state::<Runs>().expect("managed").count()
}

/// A request carrying `signed`'s body and signature, to add to.
pub(crate) fn signed<'c>(
    client: &'c Client,
    path: &'static str,
    signed: &SignedRequest,
) -> LocalRequest<'c> {
    client
        .post(path)
        .header(Header::new(
            signed.header_name(),
            signed.signature().to_owned(),
        ))
        .body(signed.body())
}

pub(crate) async fn post<'c>(
    client: &'c Client,
    path: &'static str,
    request: &SignedRequest,
) -> LocalResponse<'c> {
    signed(client, path, request).dispatch().await
}

/// The lines the core wrote about an answer, of all those captured.
pub(crate) fn answer_lines(mut lines: Vec<String>) -> Vec<String> {
    lines.retain(|line| line.contains(" protocol_webhooks::answer: "));
    lines
}

/// Quiet, on an ephemeral loopback port, with no signal handling.
pub(crate) fn server_config() -> Config {
    Config {
        address: Ipv4Addr::LOCALHOST.into(),
        port: 0,
        log_level: LogLevel::Off,
        cli_colors: false,
        shutdown: Shutdown {
            ctrlc: false,
            #[cfg(unix)]
            signals: std::collections::HashSet::new(),
            ..Shutdown::default()
        },
        ..Config::debug_default()
    }
}

/// A launched server.
pub(crate) struct Served {
    pub(crate) address: SocketAddr,
    shutdown: rocket::Shutdown,
    server: JoinHandle<Result<Rocket<Ignite>, rocket::Error>>,
}

/// Launches `rocket`, built on [`server_config`], and waits until it listens.
pub(crate) async fn serve(rocket: Rocket<Build>) -> Served {
    let (bound, address) = oneshot::channel();
    let rocket = rocket
        .attach(AdHoc::on_liftoff(
            "report the bound address",
            move |rocket| {
                Box::pin(async move {
                    let config = rocket.config();
                    let _ = bound.send(SocketAddr::new(config.address, config.port));
                })
            },
        ))
        .ignite()
        .await
        .expect("the app ignites");
    let shutdown = rocket.shutdown();
    let server = rocket::tokio::spawn(rocket.launch());
    let address = address.await.expect("the server lifts off");
    Served {
        address,
        shutdown,
        server,
    }
}

impl Served {
    /// Shuts the server down and hands back its state.
    pub(crate) async fn stop(self) -> Rocket<Ignite> {
        self.shutdown.notify();
        self.server
            .await
            .expect("the server task completes")
            .expect("the server shuts down cleanly")
    }
}
