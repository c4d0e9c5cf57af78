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
use protocol_webhooks_poem::protocol_webhooks::samples::{SignedRequest, sample_body};
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
    // One line per request, naming what to register; the config is looked
    // up first, so the app without either misses the `WebhookConfig`.
    let logged = logs.text();
    let lines: Vec<&str> = logged.lines().collect();
    assert_eq!(lines.len(), 2, "{logged}");
    for (line, missing) in lines.iter().zip(["Deduplicator", "WebhookConfig"]) {
        assert!(line.contains("ERROR"), "{line}");
        assert!(line.contains("webhook refused"), "{line}");
        assert!(line.contains("reason=\"missing_configuration\""), "{line}");
        assert!(line.contains("status=500"), "{line}");
        assert!(line.contains(&format!("missing=\"{missing}\"")), "{line}");
    }
}

/// The one line logged for one request.
async fn logged_line(logs: &Logs, response: impl Future<Output = TestResponse>) -> String {
    drop(response.await);
    let logged = logs.take();
    let lines: Vec<&str> = logged.lines().collect();
    assert_eq!(lines.len(), 1, "{logged}");
    lines[0].to_owned()
}

fn assert_logged(line: &str, level: &str, message: &str, fields: &[&str]) {
    assert!(line.contains(level), "{line}");
    assert!(line.contains(message), "{line}");
    for field in fields {
        assert!(line.contains(field), "{field}: {line}");
    }
}

#[tokio::test]
async fn each_answer_is_logged_once_at_the_level_of_its_reason() {
    let (runs, dedup) = (Runs::default(), dedup());
    let client = TestClient::new(app(&runs, &dedup));
    let logs = Logs::default();
    let _logging = logs.capture();

    send(&client, "/commits", &sample())
        .await
        .assert_status_is_ok();
    assert_eq!(logs.take(), "", "a handled event is the handler's to log");

    let duplicate = logged_line(&logs, send(&client, "/commits", &sample())).await;
    assert_logged(
        &duplicate,
        " INFO ",
        "webhook already processed",
        &[
            "reason=\"duplicate\"",
            "status=200",
            "event_id=\"evt_sample\"",
        ],
    );

    let _held = dedup.claim_id("evt_busy").await.expect("claimed");
    let busy = SignedRequest::new(SECRET, sample_body(&EventType::MessageCreated, "evt_busy"))
        .expect("signed");
    let in_progress = logged_line(&logs, send(&client, "/commits", &busy)).await;
    // The core words this line its own way: neither refused nor done.
    assert_logged(
        &in_progress,
        " INFO ",
        "webhook ",
        &[
            "reason=\"in_progress\"",
            "status=409",
            "event_id=\"evt_busy\"",
        ],
    );
    assert!(!in_progress.contains(SECRET) && !in_progress.contains(busy.signature()));

    let forged =
        SignedRequest::sample("whsec_someone_else", &EventType::MessageCreated).expect("sample");
    let mismatch = logged_line(&logs, send(&client, "/commits", &forged)).await;
    assert_logged(
        &mismatch,
        " WARN ",
        "webhook refused",
        &["reason=\"signature_mismatch\"", "status=401"],
    );
    assert!(!mismatch.contains("event_id"), "{mismatch}");
    assert!(!mismatch.contains(forged.signature()), "{mismatch}");

    let chunks: [Result<&'static [u8], io::Error>; 2] = [
        Ok(br#"{"id":"#),
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "peer went away",
        )),
    ];
    let cut_short = client
        .post("/commits")
        .header("x-protocol-signature", "0".repeat(64))
        .body(Body::from_bytes_stream(futures_util::stream::iter(chunks)))
        .send();
    // The core also says at debug level why the body could not be read;
    // the answer's own line is the last.
    drop(cut_short.await);
    let logged = logs.take();
    let incomplete = logged.lines().last().unwrap_or_default();
    assert_logged(
        incomplete,
        "DEBUG",
        "webhook refused",
        &["reason=\"incomplete_body\"", "status=400"],
    );
    assert_eq!(logged.matches("webhook refused").count(), 1, "{logged}");
    assert_eq!(runs.count(), 1);
}

#[tokio::test]
async fn an_unusable_store_is_logged_as_an_error() {
    let runs = Runs::default();
    let dedup = Deduplicator::new(MemoryStore::new().with_max_entries(1));
    let _held = dedup.claim_id("evt_other").await.expect("claimed");
    let client = TestClient::new(app(&runs, &dedup));
    let logs = Logs::default();
    let _logging = logs.capture();

    let line = logged_line(&logs, send(&client, "/commits", &sample())).await;
    assert_logged(
        &line,
        "ERROR",
        "webhook refused",
        &[
            "reason=\"store_unavailable\"",
            "status=503",
            "event_id=\"evt_sample\"",
        ],
    );
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
