//! What an answer that is not the handler's leaves in the logs: one line, at
//! the level of its reason, with `reason`, `status` and, once the event is
//! authentic, `event_id`; never a secret or a signature.

use core::convert::Infallible;
use core::time::Duration;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body::Frame;
use http_body_util::StreamBody;
use protocol_webhooks_warp::protocol_webhooks::dedup::{
    ClaimOutcome, ClaimToken, EventStore, StoreError, StoreFuture,
};
use protocol_webhooks_warp::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_warp::{
    ClaimedWebhook, Deduplicator, EventType, WebhookConfig, claimed_webhook, recover,
};
use tower_service::Service;
use warp::Filter;
use warp::http::Request;
use warp::test::RequestBuilder;

const SECRET: &str = "whsec_logging_test";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes)
            .lines()
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

/// Runs `send` with a subscriber on this thread and returns this crate's and
/// the core's log lines, at `DEBUG` and above.
async fn logs_of<F: Future<Output = ()>>(send: F) -> Vec<String> {
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
    send.await;
    drop(guard);
    captured
        .lines()
        .into_iter()
        .filter(|line| line.contains("protocol_webhooks"))
        .collect()
}

/// The route every test sends to: claimed, so that every kind of answer can
/// be made, with a handler that commits.
fn route(
    dedup: Deduplicator,
) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone + 'static {
    warp::path!("webhooks")
        .and(warp::post())
        .and(claimed_webhook(
            WebhookConfig::new(SECRET).expect("config"),
            dedup,
        ))
        .then(|claimed: ClaimedWebhook| async move {
            claimed.commit().await.expect("commit");
            "done"
        })
        .recover(recover)
}

fn delivery(secret: &str) -> RequestBuilder {
    let request = SignedRequest::sample(secret, &EventType::MessageCreated).expect("signed");
    warp::test::request()
        .method("POST")
        .path("/webhooks")
        .header(request.header_name(), request.signature())
        .body(request.body())
}

fn assert_one_line(lines: &[String], level: &str, message: &str, fields: &[&str]) {
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let line = &lines[0];
    assert!(line.contains(level), "{line}");
    assert!(line.contains(message), "{line}");
    for field in fields {
        assert!(line.contains(field), "{field} in {line}");
    }
}

#[tokio::test]
async fn an_accepted_delivery_logs_nothing() {
    let route = route(Deduplicator::in_memory());
    let lines = logs_of(async {
        assert_eq!(delivery(SECRET).reply(&route).await.status(), 200);
    })
    .await;
    assert!(lines.is_empty(), "{lines:#?}");
}

#[tokio::test]
async fn a_forged_signature_is_one_warning_without_secrets() {
    let route = route(Deduplicator::in_memory());
    let forged = SignedRequest::sample("whsec_forger", &EventType::MessageCreated).expect("signed");
    let lines = logs_of(async {
        assert_eq!(delivery("whsec_forger").reply(&route).await.status(), 401);
    })
    .await;
    assert_one_line(
        &lines,
        "WARN",
        "webhook refused",
        &["reason=\"signature_mismatch\"", "status=401"],
    );
    let line = &lines[0];
    assert!(!line.contains("event_id"), "not authentic: {line}");
    assert!(!line.contains(SECRET), "{line}");
    assert!(!line.contains(forged.signature()), "{line}");
}

#[tokio::test]
async fn a_body_cut_short_is_debug_only() {
    let route = route(Deduplicator::in_memory());
    let chunks: Vec<Result<Frame<Bytes>, io::Error>> = vec![
        Ok(Frame::data(Bytes::from_static(b"{\"id\""))),
        Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")),
    ];
    let request = Request::post("/webhooks")
        .header("x-protocol-signature", "0".repeat(64))
        .body(StreamBody::new(futures_util::stream::iter(chunks)))
        .expect("request");
    let lines = logs_of(async {
        let response = warp::service(route).call(request).await;
        let response = response.unwrap_or_else(|never: Infallible| match never {});
        assert_eq!(response.status(), 400);
    })
    .await;
    let refusals: Vec<String> = lines
        .into_iter()
        .filter(|line| line.contains("webhook refused"))
        .collect();
    assert_one_line(
        &refusals,
        "DEBUG",
        "webhook refused",
        &["reason=\"incomplete_body\"", "status=400"],
    );
}

#[tokio::test]
async fn a_redelivery_is_info_with_the_event_id() {
    let route = route(Deduplicator::in_memory());
    assert_eq!(delivery(SECRET).reply(&route).await.status(), 200);
    let lines = logs_of(async {
        assert_eq!(delivery(SECRET).reply(&route).await.status(), 200);
    })
    .await;
    assert_one_line(
        &lines,
        "INFO",
        "webhook already processed",
        &[
            "reason=\"duplicate\"",
            "status=200",
            "event_id=\"evt_sample\"",
        ],
    );
}

#[tokio::test]
async fn a_delivery_of_a_claimed_event_is_info_with_the_event_id() {
    let dedup = Deduplicator::in_memory().with_lease(Duration::from_secs(30));
    let route = route(dedup.clone());
    let _held = dedup.claim_id("evt_sample").await.expect("claimed");
    let lines = logs_of(async {
        assert_eq!(delivery(SECRET).reply(&route).await.status(), 409);
    })
    .await;
    assert_one_line(
        &lines,
        "INFO",
        "webhook being processed by another delivery",
        &[
            "reason=\"in_progress\"",
            "status=409",
            "event_id=\"evt_sample\"",
        ],
    );
}

/// A store that cannot be reached, and says where it is in its error.
#[derive(Debug)]
struct Unreachable;

const STORE_ERROR: &str = "redis://:hunter2@db connection refused";

impl EventStore for Unreachable {
    fn claim<'a>(&'a self, _: &'a str, _: Duration) -> StoreFuture<'a, ClaimOutcome> {
        Box::pin(async { Err(StoreError::unavailable(STORE_ERROR)) })
    }

    fn commit<'a>(&'a self, _: &'a str, _: &'a ClaimToken, _: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::unavailable(STORE_ERROR)) })
    }

    fn release<'a>(&'a self, _: &'a str, _: &'a ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::unavailable(STORE_ERROR)) })
    }

    fn release_detached(&self, _: String, _: ClaimToken) {}
}

#[tokio::test]
async fn an_unreachable_store_is_an_error_without_its_details() {
    let route = route(Deduplicator::new(Unreachable));
    let lines = logs_of(async {
        assert_eq!(delivery(SECRET).reply(&route).await.status(), 503);
    })
    .await;
    assert_one_line(
        &lines,
        "ERROR",
        "webhook refused",
        &[
            "reason=\"store_unavailable\"",
            "status=503",
            "event_id=\"evt_sample\"",
        ],
    );
    assert!(!lines[0].contains("hunter2"), "{}", lines[0]);
}
