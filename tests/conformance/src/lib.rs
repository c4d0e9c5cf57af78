//! The HTTP conformance suite that every protocol-webhooks adapter runs.
//!
//! An adapter's test builds an app with four routes under the configuration
//! from [`config`]:
//!
//! - `POST /webhooks` ([`EVENT_PATH`]) takes the adapter's verified-event
//!   extractor and answers 200 with [`event_summary`] as a JSON body;
//! - `POST /webhooks/raw` ([`RAW_PATH`]) takes the verified raw-body
//!   extractor and answers 200 with the body bytes echoed back;
//! - `POST /webhooks/inbox` ([`INBOX_PATH`]) takes the inbox extractor
//!   (the adapter's `inbox` feature) configured with [`inbox`], and its
//!   handler returns it: 202 for an event stored, 200 for one stored
//!   already;
//! - `POST /webhooks/once` ([`ONCE_PATH`]) takes the exactly-once extractor
//!   configured with [`deduplicator`] and hands the claimed event to
//!   [`handle_once`], answering its [`OnceReply`] (status, and a JSON body
//!   when not empty). `handle_once` records each run, so the suite can tell
//!   whether and how often the handler ran, and, by marks in the event id,
//!   commits, fails, panics or hangs while holding the claim.
//!
//! Where a framework lets an app forget its registration at run time, the
//! adapter also runs [`run_without_registration`] against an app with the
//! same routes and nothing registered.
//!
//! For an in-process harness ([`Harness::IN_PROCESS`]) the runner also
//! captures the log lines and the metrics each request records: every
//! answer the adapter makes instead of the handler's must be logged exactly
//! once, by the core, with its status, and nothing else as a refusal; and
//! every request must be counted once in
//! [`REQUESTS`](protocol_webhooks::metrics::REQUESTS), as `accepted` or
//! under its answer's reason.
//!
//! Every rejection, including 409 and 503 from the once route, must carry
//! `Retry-After` when [`Answer::retry_after`](protocol_webhooks::Answer::retry_after)
//! gives one; harnesses report it in [`TestResponse::retry_after`].
//!
//! It then implements [`Harness`] for the framework's in-process request
//! pipeline and calls [`run`]; and, at least once, starts the app on a real
//! 127.0.0.1 socket and calls [`run_over_tcp`], which includes the raw-socket
//! checks of [`run_hostile`]. Adding a case to
//! [`cases`] tests all five adapters.
//!
//! Some cases send the signature header more than once
//! ([`TestRequest::repeats_a_header`]): a harness must send every entry of
//! [`TestRequest::headers`] as a header of its own, adding rather than
//! replacing, as [`TcpHarness`] does.

mod cases;
mod counted;
mod harness;
mod hostile;
mod inbox;
mod logs;
mod once;
mod tcp;

pub use cases::{Case, Delivery, Expected, cases};
pub use harness::{Harness, TestRequest, TestResponse, run, run_without_registration};
pub use hostile::{
    BROKEN_CHUNK_SIZES, broken_chunk_framing_is_refused, chunk_size_overflow_is_refused,
    declared_length_over_limit_is_refused_before_the_body,
    declared_length_over_limit_is_refused_without_100_continue,
    repeated_signature_with_a_non_utf8_copy_is_refused, run_hostile, trickled_head_holds_up_no_one,
};
pub use inbox::inbox;
pub use logs::capture;
pub use once::{
    HANG, OnceOutcome, OnceReply, deduplicator, handle_once, handler_runs, once_outcome,
};
pub use tcp::{
    TcpHarness, run_over_tcp, stalled_body_is_refused_at_the_deadline,
    truncated_body_does_not_disturb_the_server,
};

use protocol_webhooks::WebhookConfig;
use protocol_webhooks::events::Event;

/// The secret the suite signs with.
pub const SECRET: &str = "whsec_conformance_current";
/// A second accepted secret, as during a rotation.
pub const PREVIOUS_SECRET: &str = "whsec_conformance_previous";
/// A secret the receiver does not know.
pub const WRONG_SECRET: &str = "whsec_conformance_wrong";
/// The route taking the verified-event extractor.
pub const EVENT_PATH: &str = "/webhooks";
/// The route taking the verified raw-body extractor.
pub const RAW_PATH: &str = "/webhooks/raw";
/// The route taking the exactly-once extractor.
pub const ONCE_PATH: &str = "/webhooks/once";
/// The route taking the inbox extractor, which stores the event in
/// [`inbox`] and answers with it.
pub const INBOX_PATH: &str = "/webhooks/inbox";

/// How long the suite's configuration lets a body take: short, so that
/// the stalled-body check over TCP does not wait for the 30 s default.
pub const BODY_TIMEOUT: core::time::Duration = core::time::Duration::from_secs(2);

/// The receiver configuration every adapter's test app must use: both
/// secrets, the default 1 MiB body limit and [`BODY_TIMEOUT`].
///
/// # Panics
/// Never: the secrets are non-empty constants.
#[must_use]
pub fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET)
        .and_then(|config| config.with_secret(PREVIOUS_SECRET))
        .expect("constant secrets are non-empty")
        .with_body_timeout(BODY_TIMEOUT)
}

/// The JSON body the event route answers with:
/// `{"id": ..., "type": ..., "resource_id": ...}`.
#[must_use]
pub fn event_summary(event: &Event) -> String {
    serde_json::json!({
        "id": event.id,
        "type": event.event_type.as_str(),
        "resource_id": event.resource_id(),
    })
    .to_string()
}
