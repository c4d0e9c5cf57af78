//! What a request that does not reach the handler leaves in the logs: one
//! line, at the level of its reason, with its class, status and (once
//! authentic) event id, and nothing that helps forge a signature.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use protocol_webhooks_rocket::protocol_webhooks::dedup::{
    ClaimOutcome, ClaimToken, EventStore, StoreError, StoreFuture,
};
use protocol_webhooks_rocket::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_rocket::{
    ClaimedWebhook, Deduplicator, EventType, Webhook, WebhookConfig, WebhookFairing,
    WebhookRejection, catchers,
};
use rocket::http::{Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::{Build, Rocket};
use tracing::subscriber::DefaultGuard;

const SECRET: &str = "whsec_logging_test";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// The webhook log lines written so far, and forgets them.
    fn take(&self) -> Vec<String> {
        let mut bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        bytes.clear();
        text.lines()
            .filter(|line| line.contains("webhook "))
            .map(str::to_owned)
            .collect()
    }
}

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Captures this thread's logs, where the blocking client runs the guards.
fn capture() -> (Captured, DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    // A callsite first hit on another test's thread, with no subscriber there,
    // may have cached "never"; recompute with this thread's subscriber live.
    tracing::callsite::rebuild_interest_cache();
    (captured, guard)
}

/// The one line logged since the last look, checked for its level and
/// every field.
fn assert_one_line(captured: &Captured, level: &str, parts: &[&str]) -> String {
    let mut lines = captured.take();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let line = lines.remove(0);
    assert!(line.contains(level), "{line} is not at {level}");
    for part in parts {
        assert!(line.contains(part), "{line} lacks {part}");
    }
    line
}

#[rocket::post("/webhooks", data = "<webhook>")]
fn on_event(webhook: Webhook) -> String {
    webhook.into_inner().id
}

#[rocket::post("/webhooks/own", data = "<webhook>")]
fn on_event_or_rejection(
    webhook: Result<Webhook, WebhookRejection>,
) -> Result<String, WebhookRejection> {
    Ok(webhook?.into_inner().id)
}

#[rocket::post("/once", data = "<claimed>")]
async fn on_once(claimed: ClaimedWebhook) -> String {
    let id = claimed.id.clone();
    claimed.commit().await.expect("the memory store commits");
    id
}

fn client(rocket: Rocket<Build>) -> Client {
    let routes = rocket::routes![on_event, on_event_or_rejection, on_once];
    Client::untracked(rocket.mount("/", routes)).expect("the app ignites")
}

fn post<'c>(client: &'c Client, path: &'static str, signed: &SignedRequest) -> LocalResponse<'c> {
    client
        .post(path)
        .header(Header::new(
            signed.header_name(),
            signed.signature().to_owned(),
        ))
        .body(signed.body())
        .dispatch()
}

#[test]
fn a_refused_request_logs_one_warning_with_its_class_only() {
    let (captured, _guard) = capture();
    let client = client(rocket::build().attach(WebhookFairing::new(
        WebhookConfig::new(SECRET).expect("non-empty secret"),
    )));
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let forged = SignedRequest::sample("whsec_forger", &EventType::MessageCreated).expect("sample");

    assert_eq!(post(&client, "/webhooks", &signed).status(), Status::Ok);
    assert!(captured.take().is_empty());

    // Answered by the catcher, or by the handler that took the rejection:
    // logged where it is made, either way once.
    for path in ["/webhooks", "/webhooks/own"] {
        let response = client
            .post(path)
            .header(Header::new(
                forged.header_name(),
                forged.signature().to_owned(),
            ))
            .body(signed.body())
            .dispatch();
        assert_eq!(response.status(), Status::Unauthorized);
        let line = assert_one_line(
            &captured,
            "WARN",
            &[
                "webhook refused",
                r#"reason="signature_mismatch""#,
                "status=401",
            ],
        );
        assert!(!line.contains("event_id"), "{line}");
        for secret_material in [
            SECRET,
            "whsec_forger",
            signed.signature(),
            forged.signature(),
        ] {
            assert!(!line.contains(secret_material), "{line} leaks it");
        }
    }

    // A body cut short: the client went away, nothing to warn about.
    let response = client
        .post("/webhooks")
        .header(Header::new(
            signed.header_name(),
            signed.signature().to_owned(),
        ))
        .header(Header::new(
            "Content-Length",
            (signed.body().len() + 10).to_string(),
        ))
        .body(signed.body())
        .dispatch();
    assert_eq!(response.status(), Status::BadRequest);
    assert_one_line(
        &captured,
        "DEBUG",
        &[r#"reason="incomplete_body""#, "status=400"],
    );
}

#[test]
fn missing_state_is_one_error_naming_what_to_manage() {
    let (captured, _guard) = capture();
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");

    let bare = client(rocket::build().register("/", catchers()));
    assert_eq!(
        post(&bare, "/webhooks", &signed).status(),
        Status::InternalServerError
    );
    assert_one_line(
        &captured,
        "ERROR",
        &[
            r#"reason="missing_configuration""#,
            "status=500",
            r#"missing="WebhookConfig""#,
        ],
    );

    let without_dedup = client(rocket::build().attach(WebhookFairing::new(
        WebhookConfig::new(SECRET).expect("non-empty secret"),
    )));
    assert_eq!(
        post(&without_dedup, "/once", &signed).status(),
        Status::InternalServerError
    );
    assert_one_line(
        &captured,
        "ERROR",
        &[
            r#"reason="missing_configuration""#,
            "status=500",
            r#"missing="Deduplicator""#,
        ],
    );
}

#[test]
fn a_duplicate_and_a_busy_delivery_are_logged_at_info_with_the_event_id() {
    let (captured, _guard) = capture();
    let dedup = Deduplicator::in_memory();
    let client = client(
        rocket::build().attach(
            WebhookFairing::new(WebhookConfig::new(SECRET).expect("non-empty secret"))
                .with_deduplicator(dedup.clone()),
        ),
    );
    let processed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let busy = SignedRequest::new(
        SECRET,
        br#"{"id":"evt_busy","type":"contact.created","payload":{"id":"c"}}"#.to_vec(),
    )
    .expect("signed");

    assert_eq!(post(&client, "/once", &processed).status(), Status::Ok);
    assert!(captured.take().is_empty());

    // It goes through the 409 catcher, answered 200, and is logged once.
    assert_eq!(post(&client, "/once", &processed).status(), Status::Ok);
    assert_one_line(
        &captured,
        "INFO",
        &[
            "webhook already processed",
            r#"reason="duplicate""#,
            "status=200",
            r#"event_id="evt_sample""#,
        ],
    );

    let _held = rocket::async_test(dedup.claim_id("evt_busy")).expect("claimed");
    assert_eq!(post(&client, "/once", &busy).status(), Status::Conflict);
    assert_one_line(
        &captured,
        "INFO",
        &[
            "webhook being processed by another delivery",
            r#"reason="in_progress""#,
            "status=409",
            r#"event_id="evt_busy""#,
        ],
    );
}

/// A store that cannot be reached, whose error names its connection.
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

#[test]
fn an_unreachable_store_is_one_error_without_its_details() {
    let (captured, _guard) = capture();
    let client = client(
        rocket::build().attach(
            WebhookFairing::new(WebhookConfig::new(SECRET).expect("non-empty secret"))
                .with_deduplicator(Deduplicator::new(Unreachable)),
        ),
    );
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    assert_eq!(
        post(&client, "/once", &signed).status(),
        Status::ServiceUnavailable
    );
    let line = assert_one_line(
        &captured,
        "ERROR",
        &[
            "webhook refused",
            r#"reason="store_unavailable""#,
            "status=503",
            r#"event_id="evt_sample""#,
        ],
    );
    assert!(!line.contains("hunter2"), "{line} leaks the store's URL");
}
