//! The framework-neutral request/response pair and the suite runner.

use core::fmt;
use core::future::Future;

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt as _;
use tracing::instrument::WithSubscriber as _;

use crate::cases::{Case, Delivery, Expected, cases};

/// A request to send to the app under test. Always `POST`.
#[derive(Clone, PartialEq, Eq)]
pub struct TestRequest {
    /// [`EVENT_PATH`](crate::EVENT_PATH), [`RAW_PATH`](crate::RAW_PATH) or
    /// [`ONCE_PATH`](crate::ONCE_PATH).
    pub path: &'static str,
    /// Header names as written (case preserved where the transport allows),
    /// in order. A name may occur more than once: each entry is a header
    /// of its own.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The exact body bytes.
    pub body: Vec<u8>,
    /// Send the body as a stream of chunks with no `Content-Length`
    /// (`Transfer-Encoding: chunked` on the wire).
    pub chunked: bool,
}

impl TestRequest {
    /// The body split into the chunks a chunked sender uses.
    #[must_use]
    pub fn chunks(&self) -> Vec<bytes::Bytes> {
        const CHUNK: usize = 16 * 1024;
        self.body
            .chunks(CHUNK)
            .map(bytes::Bytes::copy_from_slice)
            .collect()
    }

    /// The value of the first header named `name`, ignoring case.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.header_values(name).next()
    }

    /// Every value of the headers named `name`, ignoring case, in the order
    /// they are sent.
    pub fn header_values<'r>(&'r self, name: &str) -> impl Iterator<Item = &'r [u8]> {
        self.headers
            .iter()
            .filter(move |(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_slice())
    }

    /// Whether some header name is sent more than once, ignoring case. A
    /// harness whose client replaces a header instead of adding another
    /// must send such a request some other way.
    #[must_use]
    pub fn repeats_a_header(&self) -> bool {
        self.headers.iter().enumerate().any(|(at, (name, _))| {
            self.headers[..at]
                .iter()
                .any(|(earlier, _)| earlier.eq_ignore_ascii_case(name))
        })
    }
}

impl fmt::Debug for TestRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestRequest")
            .field("path", &self.path)
            .field("headers", &self.headers.len())
            .field("body_len", &self.body.len())
            .field("chunked", &self.chunked)
            .finish()
    }
}

/// What the app answered.
#[derive(Clone, PartialEq, Eq)]
pub struct TestResponse {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body bytes.
    pub body: Vec<u8>,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

impl TestResponse {
    /// The answer of a framework built on `http` 1.x (axum, warp, poem,
    /// hyper): its status, the headers the suite reads, and the body.
    #[must_use]
    pub fn new(status: u16, headers: &http::HeaderMap, body: Vec<u8>) -> Self {
        let header = |name| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            status,
            content_type: header(http::header::CONTENT_TYPE),
            body,
            retry_after: header(http::header::RETRY_AFTER),
        }
    }
}

impl fmt::Debug for TestResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.body[..self.body.len().min(300)];
        f.debug_struct("TestResponse")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("body", &String::from_utf8_lossy(shown))
            .field("body_len", &self.body.len())
            .field("retry_after", &self.retry_after)
            .finish()
    }
}

/// Sends a request through an adapter's app and returns its answer.
///
/// Implement it with the framework's own test machinery (an in-process
/// request pipeline) or use [`TcpHarness`](crate::TcpHarness) for a real
/// socket.
pub trait Harness {
    /// Whether the app handles a request inside the future `send` returns,
    /// on the caller's task, so that the log lines it writes can be captured
    /// there: true for an in-process pipeline, false over a socket, where
    /// the server's own tasks write them.
    const IN_PROCESS: bool = true;

    /// Sends one request.
    fn send(&self, request: TestRequest) -> impl Future<Output = TestResponse>;
}

/// Runs every case against `harness` and panics with the list of failures.
///
/// A panic that escapes `harness.send` (an in-process pipeline that does
/// not catch a handler's panic) counts as no answer, not as a failure of
/// the runner.
///
/// # Panics
/// When any case fails; the message names each failing case and why.
pub async fn run<H: Harness>(harness: &H) {
    run_cases(harness, cases()).await;
}

/// Runs the cases for an app that registered neither a configuration nor a
/// de-duplicator, for the frameworks where forgetting them is possible at
/// all (actix-web's app data, rocket's managed state, poem's data): every
/// route answers 500 `api_error` and no handler runs. (In axum and warp a
/// route without its configuration does not compile.)
///
/// # Panics
/// When any case fails.
pub async fn run_without_registration<H: Harness>(harness: &H) {
    run_cases(harness, crate::cases::unregistered_cases()).await;
}

async fn run_cases<H: Harness>(harness: &H, all: Vec<Case>) {
    crate::logs::keep_every_callsite_live();
    let mut failures = Vec::new();
    let total = all.len();
    for case in all {
        // A claim held by "another replica" while the request is handled.
        let held = match &case.hold_claim {
            Some(event_id) => Some(
                crate::deduplicator()
                    .claim_id(event_id)
                    .await
                    .unwrap_or_else(|unclaimed| {
                        panic!("{}: setup claim failed: {unclaimed}", case.name)
                    }),
            ),
            None => None,
        };
        let logs = crate::logs::Captured::default();
        let counted = crate::counted::Counted::new();
        let response = if H::IN_PROCESS {
            let logged = deliver(harness, &case).with_subscriber(logs.subscriber());
            counted.run(logged).await
        } else {
            deliver(harness, &case).await
        };
        drop(held);
        let stored = check_stored(&case).await;
        let outcome = case
            .expected
            .check(&case.request, &response)
            .and_then(|()| check_runs(&case))
            .and(stored)
            .and_then(|()| {
                if H::IN_PROCESS {
                    let lines = logs.answer_lines();
                    check_answer_logged(&case.expected, &response, &lines)?;
                    let body_len = case.request.body.len();
                    let recorded = counted.recorded();
                    crate::counted::check_counted(
                        refused(&case.expected),
                        &lines,
                        body_len,
                        &recorded,
                    )
                } else {
                    Ok(())
                }
            });
        if let Err(reason) = outcome {
            failures.push(format!("{}: {reason}\n    got {response:?}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} conformance cases failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

/// The body a [`TestResponse`] of status 0 carries when the runner gave up
/// waiting, as a client that hangs up does.
const ABANDONED: &[u8] = b"<abandoned: no answer in time>";

async fn deliver<H: Harness>(harness: &H, case: &Case) -> TestResponse {
    match case.delivery {
        Delivery::Once => send(harness, case.request.clone()).await,
        Delivery::AbandonAfter(wait) => {
            match tokio::time::timeout(wait, send(harness, case.request.clone())).await {
                Ok(response) => response,
                Err(_) => no_answer(ABANDONED),
            }
        }
        Delivery::RetryWhileBusy(limit) => {
            let deadline = Instant::now() + limit;
            loop {
                let response = send(harness, case.request.clone()).await;
                if response.status != 409 || Instant::now() >= deadline {
                    return response;
                }
                tokio::time::sleep(core::time::Duration::from_millis(100)).await;
            }
        }
    }
}

async fn send<H: Harness>(harness: &H, request: TestRequest) -> TestResponse {
    AssertUnwindSafe(harness.send(request))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| no_answer(b"<the handler's panic reached the caller>"))
}

fn no_answer(why: &[u8]) -> TestResponse {
    TestResponse {
        status: 0,
        content_type: None,
        body: why.to_vec(),
        retry_after: None,
    }
}

/// Every answer the adapter makes instead of the handler's is logged
/// exactly once, by the core, with its status; a handler's own answer, or
/// none, is not logged as a refusal.
fn check_answer_logged(
    expected: &Expected,
    response: &TestResponse,
    lines: &[String],
) -> Result<(), String> {
    match (refused(expected), lines) {
        (false, []) => Ok(()),
        (true, [line]) if line.contains(&format!("status={}", response.status)) => Ok(()),
        _ => Err(format!(
            "expected {} answer log line(s) with status={}, got {lines:?}",
            usize::from(refused(expected)),
            response.status
        )),
    }
}

/// Whether the adapter's answer is the core's (logged and counted by it),
/// rather than the handler's own.
fn refused(expected: &Expected) -> bool {
    matches!(
        expected,
        Expected::Rejected { .. }
            | Expected::SignatureRefused(_)
            | Expected::Duplicate
            | Expected::Busy
            | Expected::StoreDown
            | Expected::Unconfigured
            | Expected::Stored
            | Expected::AlreadyStored
    )
}

async fn check_stored(case: &Case) -> Result<(), String> {
    let Some((event_id, expected)) = &case.stored else {
        return Ok(());
    };
    let held = crate::inbox::stored_body(event_id).await?;
    if held == *expected {
        Ok(())
    } else {
        let describe = |body: &Option<Vec<u8>>| match body {
            Some(bytes) => format!("{} bytes", bytes.len()),
            None => String::from("nothing"),
        };
        Err(format!(
            "the inbox holds {} for {event_id}, expected {}",
            describe(&held),
            describe(expected)
        ))
    }
}

fn check_runs(case: &Case) -> Result<(), String> {
    let Some((event_id, expected)) = &case.handler_runs else {
        return Ok(());
    };
    let ran = crate::handler_runs(event_id);
    if ran == *expected {
        Ok(())
    } else {
        Err(format!(
            "the once handler ran {ran} times for {event_id}, expected {expected}"
        ))
    }
}

impl Expected {
    fn check(&self, request: &TestRequest, response: &TestResponse) -> Result<(), String> {
        match self {
            Self::Event { summary } => {
                expect_status(response, 200)?;
                let got: serde_json::Value = serde_json::from_slice(&response.body)
                    .map_err(|error| format!("event route answered non-JSON: {error}"))?;
                if &got != summary {
                    return Err(format!("summary {got} != expected {summary}"));
                }
                Ok(())
            }
            Self::Raw => {
                expect_status(response, 200)?;
                if response.body != request.body {
                    return Err(String::from("raw route did not hand over the exact body"));
                }
                Ok(())
            }
            Self::Rejected { status } => {
                expect_status(response, *status)?;
                check_rejection_body(request, response, "invalid_request")
            }
            Self::SignatureRefused(error) => {
                let rejection = protocol_webhooks::Answer::from(*error);
                expect_status(response, rejection.status())?;
                check_rejection_body(request, response, rejection.error_type())?;
                let got: serde_json::Value = serde_json::from_slice(&response.body)
                    .map_err(|body_error| format!("rejection body is not JSON: {body_error}"))?;
                let expected: serde_json::Value = serde_json::from_str(&rejection.body())
                    .map_err(|json_error| format!("core rejection is not JSON: {json_error}"))?;
                if got == expected {
                    Ok(())
                } else {
                    Err(format!(
                        "body {got} is not the {} rejection {expected}",
                        rejection.reason()
                    ))
                }
            }
            Self::Duplicate => {
                expect_status(response, 200)?;
                if response.retry_after.is_some() {
                    return Err(String::from("a duplicate must not ask for a retry"));
                }
                check_rejection_body(request, response, "duplicate")
            }
            Self::HandlerFailed => expect_status(response, 503),
            Self::Busy => {
                expect_status(response, 409)?;
                expect_retry_after(response)?;
                check_rejection_body(request, response, "invalid_request")
            }
            Self::StoreDown => {
                expect_status(response, 503)?;
                expect_retry_after(response)?;
                check_rejection_body(request, response, "api_error")
            }
            Self::Abandoned => {
                if response.status == 0 && response.body == ABANDONED {
                    Ok(())
                } else {
                    Err(String::from("answered while the handler should still run"))
                }
            }
            Self::NotDone => {
                if (200..300).contains(&response.status) {
                    Err(String::from("a panicked handler's request got a 2xx"))
                } else {
                    Ok(())
                }
            }
            Self::Stored => {
                expect_status(response, 202)?;
                check_rejection_body(request, response, "stored")
            }
            Self::AlreadyStored => {
                expect_status(response, 200)?;
                if response.retry_after.is_some() {
                    return Err(String::from(
                        "an event stored already must not ask for a retry",
                    ));
                }
                check_rejection_body(request, response, "duplicate")
            }
            Self::Unconfigured => {
                expect_status(response, 500)?;
                check_rejection_body(request, response, "api_error")?;
                let expected =
                    br#"{"type":"api_error","message":"webhook configuration is missing"}"#;
                if response.body == expected {
                    Ok(())
                } else {
                    Err(String::from("not the missing-configuration answer"))
                }
            }
        }
    }
}

fn expect_retry_after(response: &TestResponse) -> Result<(), String> {
    match response.retry_after.as_deref().map(str::parse::<u64>) {
        Some(Ok(seconds)) if seconds >= 1 => Ok(()),
        _ => Err(format!(
            "Retry-After {:?} is not a whole number of seconds >= 1",
            response.retry_after
        )),
    }
}

fn expect_status(response: &TestResponse, status: u16) -> Result<(), String> {
    if response.status == status {
        Ok(())
    } else {
        Err(format!("status {} != expected {status}", response.status))
    }
}

/// A rejection is Protocol's JSON error format and leaks nothing secret.
fn check_rejection_body(
    request: &TestRequest,
    response: &TestResponse,
    error_type: &str,
) -> Result<(), String> {
    let content_type = response.content_type.as_deref().unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return Err(format!(
            "content type {content_type:?} is not application/json"
        ));
    }
    let body: serde_json::Value = serde_json::from_slice(&response.body)
        .map_err(|error| format!("rejection body is not JSON: {error}"))?;
    if body.get("type").and_then(serde_json::Value::as_str) != Some(error_type) {
        return Err(format!("rejection body lacks \"type\":\"{error_type}\""));
    }
    if !body
        .get("message")
        .is_some_and(serde_json::Value::is_string)
    {
        return Err(String::from("rejection body lacks a string \"message\""));
    }
    let text = String::from_utf8_lossy(&response.body).to_ascii_lowercase();
    for secret in [crate::SECRET, crate::PREVIOUS_SECRET, crate::WRONG_SECRET] {
        if text.contains(&secret.to_ascii_lowercase()) {
            return Err(String::from("rejection body contains a secret"));
        }
    }
    let expected = crate::cases::expected_signatures(&request.body);
    let received: Vec<String> = request
        .header_values(protocol_webhooks::SIGNATURE_HEADER)
        .map(|value| String::from_utf8_lossy(value).to_ascii_lowercase())
        .collect();
    for signature in expected.iter().chain(received.iter()) {
        if signature.len() >= 16 && text.contains(signature.as_str()) {
            return Err(String::from("rejection body echoes a signature"));
        }
    }
    Ok(())
}
