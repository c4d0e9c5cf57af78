//! The exactly-once guard: what releases a claim, and how refused
//! deliveries are answered.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use protocol_webhooks_conformance::{Harness, TcpHarness, TestRequest};
use protocol_webhooks_rocket::protocol_webhooks::dedup::{
    ClaimOutcome, ClaimToken, EventStore, StoreError, StoreFuture,
};
use protocol_webhooks_rocket::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_rocket::{
    ClaimedWebhook, Deduplicator, EventType, Webhook, WebhookConfig, WebhookFairing,
    WebhookRejection, catchers,
};
use rocket::config::{Config, LogLevel, Shutdown};
use rocket::error::ErrorKind;
use rocket::fairing::AdHoc;
use rocket::http::{Accept, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use rocket::tokio::io::AsyncWriteExt;
use rocket::tokio::net::TcpStream;
use rocket::tokio::sync::{Notify, oneshot};
use rocket::{Build, Rocket, State};

const SECRET: &str = "whsec_claimed_test";
const LEASE: Duration = Duration::from_secs(30);
const DUPLICATE: &str = r#"{"type":"duplicate","message":"event evt_sample already processed"}"#;

/// How many times a handler ran.
#[derive(Default)]
struct Runs {
    count: AtomicUsize,
    /// Told when the slow handler has started, so holds the claim.
    slow_started: Arc<Notify>,
}

impl Runs {
    /// Counts a run and returns how many came before it.
    fn start(&self) -> usize {
        self.count.fetch_add(1, Ordering::SeqCst)
    }
}

async fn commit(claimed: ClaimedWebhook) -> String {
    let id = claimed.id.clone();
    claimed.commit().await.expect("the memory store commits");
    id
}

#[rocket::post("/once", data = "<claimed>")]
async fn commits(claimed: ClaimedWebhook, runs: &State<Runs>) -> String {
    runs.start();
    commit(claimed).await
}

#[rocket::post("/once/panics", data = "<claimed>")]
async fn panics_the_first_time(claimed: ClaimedWebhook, runs: &State<Runs>) -> String {
    if runs.start() == 0 {
        panic!("the handler's work failed");
    }
    commit(claimed).await
}

#[rocket::post("/once/fails", data = "<claimed>")]
async fn fails_the_first_time(
    claimed: ClaimedWebhook,
    runs: &State<Runs>,
) -> Result<String, Status> {
    if runs.start() == 0 {
        // `claimed` is dropped uncommitted here.
        return Err(Status::ServiceUnavailable);
    }
    Ok(commit(claimed).await)
}

/// Outlasts a client that hangs up straight after sending.
#[rocket::post("/once/slow", data = "<claimed>")]
async fn slow(claimed: ClaimedWebhook, runs: &State<Runs>) -> String {
    runs.slow_started.notify_one();
    rocket::tokio::time::sleep(Duration::from_millis(300)).await;
    runs.start();
    commit(claimed).await
}

/// Handles the rejection itself instead of leaving it to the catchers.
#[rocket::post("/once/own", data = "<claimed>")]
async fn own_rejection(
    claimed: Result<ClaimedWebhook, WebhookRejection>,
    runs: &State<Runs>,
) -> Result<String, WebhookRejection> {
    let claimed = claimed?;
    runs.start();
    Ok(commit(claimed).await)
}

#[rocket::post("/webhooks", data = "<webhook>")]
fn plain(webhook: Webhook) -> String {
    webhook.into_inner().id
}

fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET).expect("non-empty secret")
}

fn deduplicator() -> Deduplicator {
    Deduplicator::in_memory().with_lease(LEASE)
}

fn app(rocket: Rocket<Build>) -> Rocket<Build> {
    rocket.manage(Runs::default()).mount(
        "/",
        rocket::routes![
            commits,
            panics_the_first_time,
            fails_the_first_time,
            own_rejection,
            plain,
            slow
        ],
    )
}

async fn client_with(deduplicator: Deduplicator) -> Client {
    let rocket =
        rocket::build().attach(WebhookFairing::new(config()).with_deduplicator(deduplicator));
    Client::untracked(app(rocket))
        .await
        .expect("the app ignites")
}

fn runs(client: &Client) -> usize {
    client
        .rocket()
        .state::<Runs>()
        .expect("managed")
        .count
        .load(Ordering::SeqCst)
}

fn sample() -> SignedRequest {
    SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("signed sample")
}

async fn post<'c>(
    client: &'c Client,
    path: &'static str,
    signed: &SignedRequest,
) -> LocalResponse<'c> {
    client
        .post(path)
        .header(Header::new(
            signed.header_name(),
            signed.signature().to_owned(),
        ))
        .body(signed.body())
        .dispatch()
        .await
}

/// Protocol's JSON error body with `Content-Type: application/json`.
async fn json_body(response: LocalResponse<'_>) -> serde_json::Value {
    assert_eq!(
        response.headers().get_one("Content-Type"),
        Some("application/json")
    );
    let text = response.into_string().await.expect("a body");
    serde_json::from_str(&text).expect("JSON")
}

#[rocket::async_test]
async fn a_redelivery_is_answered_200_json_without_running_the_handler() {
    let client = client_with(deduplicator()).await;
    let signed = sample();

    let first = post(&client, "/once", &signed).await;
    assert_eq!(first.status(), Status::Ok);
    assert_eq!(first.into_string().await.as_deref(), Some("evt_sample"));

    // Asking for HTML changes nothing: the catcher sends the JSON answer.
    let again = client
        .post("/once")
        .header(Header::new(
            signed.header_name(),
            signed.signature().to_owned(),
        ))
        .header(Accept::HTML)
        .body(signed.body())
        .dispatch()
        .await;
    assert_eq!(again.status(), Status::Ok);
    assert_eq!(again.headers().get_one("Retry-After"), None);
    assert_eq!(
        again.headers().get_one("Content-Type"),
        Some("application/json")
    );
    assert_eq!(again.into_string().await.as_deref(), Some(DUPLICATE));
    assert_eq!(runs(&client), 1);
}

#[rocket::async_test]
async fn a_panicking_handler_releases_the_claim() {
    let client = client_with(deduplicator()).await;
    let signed = sample();

    let panicked = post(&client, "/once/panics", &signed).await;
    assert_eq!(panicked.status(), Status::InternalServerError);

    let redelivery = post(&client, "/once/panics", &signed).await;
    assert_eq!(redelivery.status(), Status::Ok);
    assert_eq!(
        redelivery.into_string().await.as_deref(),
        Some("evt_sample")
    );

    let after_commit = post(&client, "/once/panics", &signed).await;
    assert_eq!(after_commit.into_string().await.as_deref(), Some(DUPLICATE));
    assert_eq!(runs(&client), 2);
}

#[rocket::async_test]
async fn a_handler_that_errs_releases_the_claim() {
    let client = client_with(deduplicator()).await;
    let signed = sample();

    let failed = post(&client, "/once/fails", &signed).await;
    assert_eq!(failed.status(), Status::ServiceUnavailable);
    // The handler's own 503 is not a claim refusal: no Retry-After.
    assert_eq!(failed.headers().get_one("Retry-After"), None);

    let redelivery = post(&client, "/once/fails", &signed).await;
    assert_eq!(redelivery.status(), Status::Ok);
    assert_eq!(
        redelivery.into_string().await.as_deref(),
        Some("evt_sample")
    );

    let after_commit = post(&client, "/once/fails", &signed).await;
    assert_eq!(after_commit.status(), Status::Ok);
    assert_eq!(after_commit.into_string().await.as_deref(), Some(DUPLICATE));
    assert_eq!(runs(&client), 2);
}

#[rocket::async_test]
async fn a_claim_held_elsewhere_is_409_with_retry_after() {
    let dedup = deduplicator();
    let client = client_with(dedup.clone()).await;
    let signed = sample();
    let held = dedup.claim_id("evt_sample").await.expect("claimed");

    let busy = post(&client, "/once", &signed).await;
    assert_eq!(busy.status(), Status::Conflict);
    // The other delivery's lease has just begun: all 30 s of it are left.
    assert_eq!(busy.headers().get_one("Retry-After"), Some("30"));
    let body = json_body(busy).await;
    assert_eq!(body["type"], "invalid_request");
    assert_eq!(runs(&client), 0);

    drop(held);
    let released = post(&client, "/once", &signed).await;
    assert_eq!(released.status(), Status::Ok);
    assert_eq!(runs(&client), 1);
}

/// A store that cannot be reached.
struct Unreachable;

impl EventStore for Unreachable {
    fn claim<'a>(&'a self, _: &'a str, _: Duration) -> StoreFuture<'a, ClaimOutcome> {
        Box::pin(async { Err(StoreError::unavailable("redis://:hunter2@db refused")) })
    }

    fn commit<'a>(&'a self, _: &'a str, _: &'a ClaimToken, _: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::Unavailable(None)) })
    }

    fn release<'a>(&'a self, _: &'a str, _: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::Unavailable(None)) })
    }

    fn release_detached(&self, _: String, _: ClaimToken) {}
}

#[rocket::async_test]
async fn an_unreachable_store_is_503_with_retry_after() {
    let client = client_with(Deduplicator::new(Unreachable)).await;
    let down = post(&client, "/once", &sample()).await;
    assert_eq!(down.status(), Status::ServiceUnavailable);
    assert_eq!(down.headers().get_one("Retry-After"), Some("5"));
    let body = json_body(down).await;
    assert_eq!(body["type"], "api_error");
    assert_eq!(
        body["message"],
        "event cannot be processed right now; retry later"
    );
    assert_eq!(runs(&client), 0);
}

#[rocket::async_test]
async fn a_result_guard_answers_the_rejection_with_its_status_and_retry_after() {
    let dedup = deduplicator();
    let client = client_with(dedup.clone()).await;
    let signed = sample();

    let held = dedup.claim_id("evt_sample").await.expect("claimed");
    let busy = post(&client, "/once/own", &signed).await;
    assert_eq!(busy.status(), Status::Conflict);
    assert_eq!(busy.headers().get_one("Retry-After"), Some("30"));
    assert_eq!(json_body(busy).await["type"], "invalid_request");
    drop(held);

    assert_eq!(
        post(&client, "/once/own", &signed).await.status(),
        Status::Ok
    );
    let again = post(&client, "/once/own", &signed).await;
    assert_eq!(again.status(), Status::Ok);
    assert_eq!(again.into_string().await.as_deref(), Some(DUPLICATE));
    assert_eq!(runs(&client), 1);
}

#[rocket::async_test]
async fn a_missing_deduplicator_is_the_cores_json_500() {
    let rocket = rocket::build().attach(WebhookFairing::new(config()));
    let client = Client::untracked(app(rocket))
        .await
        .expect("the app ignites");
    let signed = sample();

    // Also before the body is looked at: the server, not the request, is wrong.
    for response in [
        post(&client, "/once", &signed).await,
        client.post("/once").body(b"{}").dispatch().await,
    ] {
        assert_eq!(response.status(), Status::InternalServerError);
        assert_eq!(
            response.headers().get_one("Content-Type"),
            Some("application/json")
        );
        assert_eq!(
            response.into_string().await.as_deref(),
            Some(r#"{"type":"api_error","message":"webhook configuration is missing"}"#)
        );
    }
    assert_eq!(runs(&client), 0);
    // The other guards need no de-duplicator.
    assert_eq!(
        post(&client, "/webhooks", &signed).await.status(),
        Status::Ok
    );
}

#[rocket::async_test]
async fn a_deduplicator_managed_by_hand_is_used() {
    let rocket = rocket::build()
        .manage(config())
        .manage(deduplicator())
        .register("/", catchers());
    let client = Client::untracked(app(rocket))
        .await
        .expect("the app ignites");
    let signed = sample();
    assert_eq!(post(&client, "/once", &signed).await.status(), Status::Ok);
    let again = post(&client, "/once", &signed).await;
    assert_eq!(again.into_string().await.as_deref(), Some(DUPLICATE));
    assert_eq!(runs(&client), 1);
}

#[rocket::async_test]
async fn the_fairing_refuses_a_second_deduplicator() {
    let rocket = app(rocket::build()
        .manage(deduplicator())
        .attach(WebhookFairing::new(config()).with_deduplicator(deduplicator())));
    let Err(error) = rocket.ignite().await else {
        panic!("a second Deduplicator must stop the launch");
    };
    // Inspecting the kind marks the error handled; Rocket panics on dropping an unhandled one.
    match error.kind() {
        ErrorKind::FailedFairings(failed) => {
            assert_eq!(
                failed.iter().map(|info| info.name).collect::<Vec<_>>(),
                ["Protocol webhooks"]
            );
        }
        other => panic!("unexpected launch error {other:?}"),
    }
}

/// Rocket runs the handler in a task of its own, so a client hanging up
/// while it runs does not drop the claim half-way: the handler finishes and
/// commits, and the redelivery is a duplicate (were the handler cancelled,
/// the claim would be released and the redelivery would run it again).
#[rocket::async_test]
async fn a_client_that_hangs_up_does_not_stop_the_handler() {
    let config = Config {
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
    };
    let (bound, address) = oneshot::channel();
    let report_address = AdHoc::on_liftoff("report the bound address", move |rocket| {
        Box::pin(async move {
            let config = rocket.config();
            let _ = bound.send(SocketAddr::new(config.address, config.port));
        })
    });
    let rocket = rocket::custom(config)
        .attach(WebhookFairing::new(self::config()).with_deduplicator(deduplicator()))
        .attach(report_address);
    let rocket = app(rocket).ignite().await.expect("the app ignites");
    let slow_started = Arc::clone(&rocket.state::<Runs>().expect("managed").slow_started);
    let shutdown = rocket.shutdown();
    let server = rocket::tokio::spawn(rocket.launch());
    let address = address.await.expect("the server lifts off");

    let signed = sample();
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let head = format!(
        "POST /once/slow HTTP/1.1\r\nHost: {address}\r\n{}: {}\r\nContent-Length: {}\r\n\r\n",
        signed.header_name(),
        signed.signature(),
        signed.body().len(),
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(signed.body()).await.expect("write body");
    rocket::tokio::time::timeout(Duration::from_secs(10), slow_started.notified())
        .await
        .expect("the handler starts");
    // Hanging up while the handler runs.
    drop(stream);

    let redelivery = TestRequest {
        path: "/once/slow",
        headers: vec![(
            signed.header_name().to_owned(),
            signed.signature().as_bytes().to_vec(),
        )],
        body: signed.body().to_vec(),
        chunked: false,
    };
    let harness = TcpHarness::new(address);
    let mut answer = harness.send(redelivery.clone()).await;
    // 409 while the first delivery's handler still holds the claim.
    for _ in 0..50 {
        if answer.status != 409 {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
        answer = harness.send(redelivery.clone()).await;
    }
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(String::from_utf8_lossy(&answer.body), DUPLICATE);

    shutdown.notify();
    let stopped = server.await.expect("the server task completes");
    let rocket = stopped.expect("the server shuts down cleanly");
    assert_eq!(
        rocket
            .state::<Runs>()
            .map(|runs| runs.count.load(Ordering::SeqCst)),
        Some(1)
    );
}
