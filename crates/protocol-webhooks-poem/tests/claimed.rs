//! `ClaimedWebhook` beyond the shared suite: what releases a claim (an
//! error, a panic, a dropped request), what the handler never sees (a
//! duplicate, a claim held elsewhere, a store that is full, a request that
//! fails verification), a missing `Deduplicator`, and what is logged.

use std::cell::RefCell;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, PoisonError};
use std::time::Duration;

use poem::http::StatusCode;
use poem::http::header::RETRY_AFTER;
use poem::middleware::CatchPanic;
use poem::test::{TestClient, TestResponse};
use poem::web::Data;
use poem::{Body, Endpoint, EndpointExt, Route, handler, post};
use protocol_webhooks_poem::protocol_webhooks::dedup::{EventStore, MemoryStore};
use protocol_webhooks_poem::protocol_webhooks::testing::{SignedRequest, sample_body};
use protocol_webhooks_poem::{ClaimedWebhook, Deduplicator, EventType, WebhookConfig};
use serde_json::json;
use tokio::sync::Notify;
use tracing_subscriber::fmt::MakeWriter;

const SECRET: &str = "whsec_claimed_test";
const LEASE: Duration = Duration::from_secs(30);
/// The id of every `SignedRequest::sample`.
const SAMPLE_ID: &str = "evt_sample";

/// What the handlers share with the test: how often a handler started, and
/// a signal sent once it is running.
#[derive(Clone, Default)]
struct Runs {
    count: Arc<AtomicUsize>,
    started: Arc<Notify>,
}

impl Runs {
    /// Counts a start; true for the first one.
    fn start(&self) -> bool {
        self.started.notify_one();
        self.count.fetch_add(1, Ordering::SeqCst) == 0
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// Commits, then answers the event id (read through both derefs).
async fn succeed(claimed: ClaimedWebhook) -> poem::Result<String> {
    let id = claimed.id.clone();
    claimed
        .commit()
        .await
        .map_err(poem::error::InternalServerError)?;
    Ok(id)
}

#[handler]
async fn commits(claimed: ClaimedWebhook, Data(runs): Data<&Runs>) -> poem::Result<String> {
    runs.start();
    succeed(claimed).await
}

#[handler]
async fn errs_first(claimed: ClaimedWebhook, Data(runs): Data<&Runs>) -> poem::Result<String> {
    if runs.start() {
        return Err(poem::Error::from_string(
            "the handler's work failed",
            StatusCode::INTERNAL_SERVER_ERROR,
        ));
    }
    succeed(claimed).await
}

#[handler]
async fn panics_first(claimed: ClaimedWebhook, Data(runs): Data<&Runs>) -> poem::Result<String> {
    assert!(!runs.start(), "the handler panicked on purpose");
    succeed(claimed).await
}

#[handler]
async fn hangs_first(claimed: ClaimedWebhook, Data(runs): Data<&Runs>) -> poem::Result<String> {
    if runs.start() {
        core::future::pending::<()>().await;
    }
    succeed(claimed).await
}

fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET).expect("non-empty secret")
}

fn routes() -> Route {
    Route::new()
        .at("/commits", post(commits))
        .at("/errs-first", post(errs_first))
        .at("/panics-first", post(panics_first))
        .at("/hangs-first", post(hangs_first))
}

fn app(runs: &Runs, dedup: &Deduplicator) -> impl Endpoint + use<> {
    routes()
        .data(config())
        .data(dedup.clone())
        .data(runs.clone())
        .with(CatchPanic::new())
}

fn dedup() -> Deduplicator {
    Deduplicator::in_memory().with_lease(LEASE)
}

async fn send(
    client: &TestClient<impl Endpoint>,
    path: &str,
    request: &SignedRequest,
) -> TestResponse {
    client
        .post(path)
        .header(request.header_name(), request.signature())
        .body(request.body().to_vec())
        .send()
        .await
}

fn sample() -> SignedRequest {
    SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample")
}

async fn assert_error_body(response: TestResponse, error_type: &str, message: &str) {
    response.assert_content_type("application/json");
    response
        .assert_json(json!({"type": error_type, "message": message}))
        .await;
}

/// Processes the sample through `path` once more, then checks that the
/// delivery after that is a duplicate the handler does not see.
async fn assert_redelivery_runs_then_is_a_duplicate(
    client: &TestClient<impl Endpoint>,
    runs: &Runs,
    path: &str,
) {
    let response = send(client, path, &sample()).await;
    response.assert_status_is_ok();
    response.assert_text(SAMPLE_ID).await;
    assert_eq!(runs.count(), 2, "the redelivery ran the handler");

    let response = send(client, path, &sample()).await;
    response.assert_status_is_ok();
    assert_error_body(response, "duplicate", "event evt_sample already processed").await;
    assert_eq!(runs.count(), 2, "a duplicate does not run the handler");
}

#[tokio::test]
async fn a_handler_error_releases_the_claim() {
    let (runs, dedup) = (Runs::default(), dedup());
    let client = TestClient::new(app(&runs, &dedup));

    let response = send(&client, "/errs-first", &sample()).await;
    response.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(runs.count(), 1);

    assert_redelivery_runs_then_is_a_duplicate(&client, &runs, "/errs-first").await;
}

#[tokio::test]
async fn a_handler_panic_releases_the_claim() {
    let (runs, dedup) = (Runs::default(), dedup());
    let client = TestClient::new(app(&runs, &dedup));

    let response = send(&client, "/panics-first", &sample()).await;
    response.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(runs.count(), 1);

    assert_redelivery_runs_then_is_a_duplicate(&client, &runs, "/panics-first").await;
}

#[tokio::test]
async fn a_panic_that_takes_down_the_request_task_releases_the_claim() {
    let (runs, dedup) = (Runs::default(), dedup());
    // No `CatchPanic`: the panic unwinds out of the task serving the
    // request, as it does out of a server's connection task.
    let bare = routes()
        .data(config())
        .data(dedup.clone())
        .data(runs.clone());
    let task = tokio::spawn(async move {
        send(&TestClient::new(bare), "/panics-first", &sample()).await;
    });
    let outcome = task.await.expect_err("the handler panicked");
    assert!(outcome.is_panic());
    assert_eq!(runs.count(), 1);

    let client = TestClient::new(app(&runs, &dedup));
    assert_redelivery_runs_then_is_a_duplicate(&client, &runs, "/panics-first").await;
}

#[tokio::test]
async fn a_dropped_request_releases_the_claim() {
    let (runs, dedup) = (Runs::default(), dedup());
    let first = TestClient::new(app(&runs, &dedup));
    let started = runs.started.notified();
    let task = tokio::spawn(async move {
        send(&first, "/hangs-first", &sample()).await;
    });
    // The handler holds the claim and waits forever; then the client goes
    // away and the server drops the request.
    started.await;
    task.abort();
    assert!(task.await.expect_err("aborted").is_cancelled());
    assert_eq!(runs.count(), 1);

    let client = TestClient::new(app(&runs, &dedup));
    assert_redelivery_runs_then_is_a_duplicate(&client, &runs, "/hangs-first").await;
}

#[tokio::test]
async fn a_claim_held_elsewhere_is_409_with_retry_after_and_the_handler_does_not_run() {
    let (runs, dedup) = (Runs::default(), dedup());
    let client = TestClient::new(app(&runs, &dedup));
    let held = dedup
        .claim_id(SAMPLE_ID)
        .await
        .expect("claimed by another replica");

    let response = send(&client, "/commits", &sample()).await;
    response.assert_status(StatusCode::CONFLICT);
    let retry_after: u64 = response
        .0
        .headers()
        .get(RETRY_AFTER)
        .expect("Retry-After")
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("whole seconds");
    assert!(
        (1..=LEASE.as_secs()).contains(&retry_after),
        "{retry_after}"
    );
    response.assert_content_type("application/json");
    let body = response.0.into_body().into_string().await.expect("body");
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["type"], "invalid_request");
    assert_eq!(
        body["message"],
        format!("event is being processed by another delivery; retry in {retry_after} s")
    );
    assert_eq!(runs.count(), 0);

    // The other replica failed: its claim is released, the retry runs.
    drop(held);
    let response = send(&client, "/commits", &sample()).await;
    response.assert_status_is_ok();
    assert_eq!(runs.count(), 1);
}

#[tokio::test]
async fn an_unusable_store_is_503_with_retry_after_and_the_handler_does_not_run() {
    let runs = Runs::default();
    // Full of one live claim on another event, the store cannot claim more.
    let dedup = Deduplicator::new(MemoryStore::new().with_max_entries(1));
    let _held = dedup.claim_id("evt_other").await.expect("claimed");
    let client = TestClient::new(app(&runs, &dedup));

    let response = send(&client, "/commits", &sample()).await;
    response.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    response.assert_header(RETRY_AFTER, "5");
    assert_error_body(
        response,
        "api_error",
        "event cannot be processed right now; retry later",
    )
    .await;
    assert_eq!(runs.count(), 0);
}

#[tokio::test]
async fn nothing_is_claimed_for_a_request_that_fails_verification() {
    let runs = Runs::default();
    let store = Arc::new(MemoryStore::new());
    let shared: Arc<dyn EventStore> = store.clone();
    let client = TestClient::new(app(&runs, &Deduplicator::from_shared(shared)));

    let forged =
        SignedRequest::sample("whsec_someone_else", &EventType::MessageCreated).expect("sample");
    send(&client, "/commits", &forged)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let not_an_event = SignedRequest::new(SECRET, br#"{"id":"evt_1"}"#.to_vec()).expect("signed");
    send(&client, "/commits", &not_an_event)
        .await
        .assert_status(StatusCode::BAD_REQUEST);

    assert!(store.is_empty(), "no claim was made");
    assert_eq!(runs.count(), 0);
}

#[tokio::test]
async fn a_missing_deduplicator_is_the_cores_500_and_the_body_is_not_read() {
    let runs = Runs::default();
    let logs = Logs::default();
    let _logging = logs.capture();
    let without_dedup = routes().data(config()).data(runs.clone());
    let without_any = routes().data(runs.clone());
    for client in [
        TestClient::new(without_dedup.boxed()),
        TestClient::new(without_any.boxed()),
    ] {
        let request = sample();
        let read = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&read);
        let chunks =
            futures_util::stream::iter(request.body().to_vec().into_iter().map(move |byte| {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok::<_, io::Error>(vec![byte])
            }));
        let response = client
            .post("/commits")
            .header(request.header_name(), request.signature())
            .body(Body::from_bytes_stream(chunks))
            .send()
            .await;
        response.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
        assert_error_body(response, "api_error", "webhook configuration is missing").await;
        assert_eq!(read.load(Ordering::SeqCst), 0);
    }
    assert_eq!(runs.count(), 0);
    let logged = logs.text();
    assert!(
        logged.contains("ERROR") && logged.contains("no Deduplicator registered"),
        "{logged}"
    );
    assert!(logged.contains("no WebhookConfig registered"), "{logged}");
}

#[tokio::test]
async fn a_duplicate_is_logged_at_info_and_refusals_at_warn() {
    let (runs, dedup) = (Runs::default(), dedup());
    let client = TestClient::new(app(&runs, &dedup));
    let logs = Logs::default();
    let _logging = logs.capture();

    send(&client, "/commits", &sample())
        .await
        .assert_status_is_ok();
    send(&client, "/commits", &sample())
        .await
        .assert_status_is_ok();
    let duplicate = logs.take();
    assert!(
        duplicate.contains("INFO") && duplicate.contains("reason=\"duplicate\""),
        "{duplicate}"
    );
    assert!(!duplicate.contains("WARN"), "{duplicate}");

    let _held = dedup.claim_id("evt_busy").await.expect("claimed");
    let busy = SignedRequest::new(SECRET, sample_body(&EventType::MessageCreated, "evt_busy"))
        .expect("signed");
    send(&client, "/commits", &busy)
        .await
        .assert_status(StatusCode::CONFLICT);
    let refused = logs.take();
    assert!(
        refused.contains("WARN") && refused.contains("reason=\"in_progress\""),
        "{refused}"
    );
    assert!(!refused.contains(SECRET) && !refused.contains(busy.signature()));
}

#[test]
fn claimed_webhook_derefs_to_the_claimed_event_and_the_event() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dedup = dedup();
        let event = config()
            .verify_event(sample().body(), Some(sample().signature().as_bytes()))
            .expect("authentic");
        let claimed = ClaimedWebhook(dedup.claim(event).await.expect("claimed"));
        assert_eq!(claimed.guard().event_id(), SAMPLE_ID);
        assert_eq!(claimed.event_type, EventType::MessageCreated);
        claimed.into_inner().commit().await.expect("committed");
        let again = dedup.claim_id(SAMPLE_ID).await.expect_err("done");
        assert_eq!(again.status(), 200);
    });
}

/// What the extractors log on this thread, as text.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Sends this thread's logs here until the guard is dropped. The tests
    /// run on a current-thread runtime, so every request is served here.
    fn capture(&self) -> CaptureGuard {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            // One global subscriber that routes by thread: per-thread
            // `set_default` subscribers share tracing's callsite interest
            // cache with the other tests' threads and lost events.
            let subscriber = tracing_subscriber::fmt()
                .with_writer(ThreadLogs)
                .with_ansi(false)
                .with_max_level(tracing::Level::DEBUG)
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber");
        });
        CAPTURE.with(|capture| *capture.borrow_mut() = Some(self.clone()));
        CaptureGuard
    }

    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn take(&self) -> String {
        let text = self.text();
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        text
    }
}

impl io::Write for Logs {
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

thread_local! {
    /// The capturing test on this thread, if any.
    static CAPTURE: RefCell<Option<Logs>> = const { RefCell::new(None) };
}

/// Stops capturing this thread's logs when dropped.
struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|capture| *capture.borrow_mut() = None);
    }
}

/// Writes each log line to the capturing test on the current thread, or
/// nowhere.
struct ThreadLogs;

impl<'a> MakeWriter<'a> for ThreadLogs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Logs {
        CAPTURE.with(|capture| capture.borrow().clone().unwrap_or_default())
    }
}
