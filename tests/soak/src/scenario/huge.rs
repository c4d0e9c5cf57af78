//! A huge chunked body: 100 MiB streamed with a plausible signature must be
//! refused with 413 while resident memory stays flat.

use core::fmt;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use super::{CONNECT_TIMEOUT, client_runtime, follow_up, mib, plausible_signature, send_valid};
use crate::client::{self, Connection, Outgoing, Timeouts, WriteEnd};
use crate::report::{Problems, Report, write_server_end};
use crate::rss::{PeakSampler, resident_bytes};
use crate::{Framework, Server};

/// The most the process's resident memory may grow while the body streams.
pub const RSS_GROWTH_LIMIT: u64 = 8 * 1024 * 1024;

/// Memory is measured for the whole process, so two measurements at once
/// would see each other's servers: runs take turns. Other tests in the same
/// process still disturb it, so a test binary should hold only these.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Limits of the huge request: the answer should come after about 1 MiB,
/// and after it the client keeps writing for up to a minute to see whether
/// the server goes on reading; 2 s without progress counts as stopped.
const HUGE_REQUEST: Timeouts = Timeouts {
    answer: Duration::from_secs(60),
    stall: Duration::from_secs(2),
    after_answer: Some(Duration::from_secs(60)),
};

/// Bytes the socket buffers on both sides of a loopback connection can
/// absorb without the server reading: more than this written after the
/// answer means the server kept reading.
const SOCKET_SLACK: u64 = 16 * 1024 * 1024;

/// The outcome of [`huge_body`] for one framework.
#[derive(Debug, Clone)]
pub struct HugeBodyReport {
    /// The framework under test.
    pub framework: Framework,
    /// The size of the streamed body.
    pub body_bytes: u64,
    /// The answer's status, when its status line arrived.
    pub status: Option<u16>,
    /// Why the answer was incomplete, if it was.
    pub answer_error: Option<String>,
    /// Whether a complete answer said `Connection: close`.
    pub close_announced: Option<bool>,
    /// Body bytes written when the answer was in.
    pub sent_at_answer: u64,
    /// Body bytes written in all.
    pub sent: u64,
    /// How writing ended.
    pub write: WriteEnd,
    /// From the first byte sent to the end of writing.
    pub elapsed: Duration,
    /// Resident memory just before the request.
    pub rss_baseline: u64,
    /// The highest resident memory sampled during the request.
    pub rss_peak: u64,
    /// Resident memory once writing ended.
    pub rss_end: u64,
    /// The warm-up (a valid request, then a 2 MiB chunked body) went as
    /// expected.
    pub warm_up: Result<(), String>,
    /// The status of a valid request sent afterwards.
    pub follow_up: Result<u16, String>,
    /// Handler calls per id over the whole test.
    pub counts: HashMap<String, u32>,
    /// Panics on the server's threads.
    pub panics: Vec<String>,
    /// Whether the server stopped cleanly afterwards.
    pub stopped: Result<(), String>,
}

const WARM_UP_ID: &str = "evt_warm_up";
const FOLLOW_UP_ID: &str = "evt_after_huge_body";

/// Streams a `body_bytes` chunked body of spaces with a plausible
/// signature, 64 KiB per chunk from one static buffer, while a thread
/// samples the process's `VmRSS` every 10 ms.
///
/// One-time costs (thread arenas, connection buffers) would otherwise be
/// measured as growth: a valid request and a 2 MiB chunked body go first,
/// and the baseline is taken after them.
///
/// # Errors
/// Only when the test cannot run at all (server, runtime, `/proc`);
/// everything the server does wrong is in the report.
pub fn huge_body(framework: Framework, body_bytes: u64) -> Result<HugeBodyReport, String> {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let runtime = client_runtime()?;
    let server = Server::start(framework)?;
    let address = server.address();
    let signature = plausible_signature()?;
    let outcome = runtime.block_on(async {
        let warm_up = warm_up(&server, &signature).await;
        let sampler = PeakSampler::start()?;
        let rss_baseline = resident_bytes()?;
        let body = Outgoing::ChunkedSpaces(body_bytes);
        let head = client::head(address, Some(&signature), body);
        let started = Instant::now();
        let mut connection = Connection::open(address, CONNECT_TIMEOUT).await?;
        let exchange = connection.exchange(&head, body, HUGE_REQUEST).await;
        let elapsed = started.elapsed();
        let rss_end = resident_bytes()?;
        let rss_peak = sampler.finish()?;
        drop(connection);
        let follow_up = follow_up::send(&server, FOLLOW_UP_ID).await;
        Ok::<_, String>((
            warm_up,
            exchange,
            elapsed,
            rss_baseline,
            rss_peak,
            rss_end,
            follow_up,
        ))
    });
    drop(runtime);
    let panics = server.panics();
    let counts = server.counts().clone();
    let stopped = server.stop();
    let (warm_up, exchange, elapsed, rss_baseline, rss_peak, rss_end, follow_up) = outcome?;
    Ok(HugeBodyReport {
        framework,
        body_bytes,
        status: exchange.status(),
        answer_error: exchange.response.as_ref().err().map(ToString::to_string),
        close_announced: exchange
            .response
            .as_ref()
            .ok()
            .map(|response| response.close_announced),
        sent_at_answer: exchange.sent_at_answer,
        sent: exchange.sent,
        write: exchange.write,
        elapsed,
        rss_baseline,
        rss_peak,
        rss_end,
        warm_up,
        follow_up,
        counts: counts.snapshot(),
        panics,
        stopped,
    })
}

async fn warm_up(server: &Server, signature: &str) -> Result<(), String> {
    let valid = send_valid(server, WARM_UP_ID).await?;
    if valid.status() != Some(200) {
        return Err(format!("the warm-up request got {:?}", valid.response));
    }
    let body = Outgoing::ChunkedSpaces(2 * 1024 * 1024);
    let head = client::head(server.address(), Some(signature), body);
    let mut connection = Connection::open(server.address(), CONNECT_TIMEOUT).await?;
    let timeouts = Timeouts {
        after_answer: None,
        ..HUGE_REQUEST
    };
    let exchange = connection.exchange(&head, body, timeouts).await;
    match exchange.status() {
        Some(413) => Ok(()),
        _ => Err(format!(
            "the 2 MiB warm-up body got {:?}; {}",
            exchange.response, exchange.write
        )),
    }
}

impl HugeBodyReport {
    /// The peak resident memory above the baseline.
    #[must_use]
    pub fn peak_growth(&self) -> u64 {
        self.rss_peak.saturating_sub(self.rss_baseline)
    }

    /// Whether the server went on reading (and discarding) the body after
    /// it answered, rather than closing the connection.
    #[must_use]
    pub fn kept_reading(&self) -> bool {
        self.write == WriteEnd::Complete
            || self.sent.saturating_sub(self.sent_at_answer) > SOCKET_SLACK
    }
}

impl Report for HugeBodyReport {
    /// Whether the framework passed: 413, peak memory growth under
    /// [`RSS_GROWTH_LIMIT`], the handler never called for it, the server
    /// still serving afterwards, no panic, a clean stop.
    fn check(&self) -> Result<(), String> {
        let mut problems = Problems::default();
        if self.status != Some(413) {
            problems.push(format!(
                "the {:.0} MiB body got status {:?} ({}); {}",
                mib(self.body_bytes),
                self.status,
                self.answer_error.as_deref().unwrap_or("complete answer"),
                self.write
            ));
        }
        if self.peak_growth() >= RSS_GROWTH_LIMIT {
            problems.push(format!(
                "resident memory grew by {:.1} MiB (limit {:.0} MiB)",
                mib(self.peak_growth()),
                mib(RSS_GROWTH_LIMIT)
            ));
        }
        if let Err(error) = &self.warm_up {
            problems.push(error.clone());
        }
        follow_up::check(&self.follow_up, &mut problems);
        let expected: HashMap<String, u32> = [WARM_UP_ID, FOLLOW_UP_ID]
            .into_iter()
            .map(|id| (String::from(id), 1))
            .collect();
        if self.counts != expected {
            problems.push(format!(
                "the handler counted {:?}, expected {WARM_UP_ID} and {FOLLOW_UP_ID} once each",
                self.counts
            ));
        }
        problems.server_end(&self.panics, &self.stopped);
        problems.verdict(self.framework, "the huge-body test")
    }
}

impl fmt::Display for HugeBodyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self
            .status
            .map_or_else(|| String::from("no status"), |status| status.to_string());
        let close = match self.close_announced {
            Some(true) => " with Connection: close",
            Some(false) => " without Connection: close",
            None => "",
        };
        writeln!(
            f,
            "{}: {:.0} MiB chunked body: {status}{close}, received when the client had written {:.2} MiB (loopback socket buffers take several MiB unread){}",
            self.framework,
            mib(self.body_bytes),
            mib(self.sent_at_answer),
            self.answer_error
                .as_ref()
                .map(|error| format!("; answer cut: {error}"))
                .unwrap_or_default()
        )?;
        let after = if self.kept_reading() {
            "the server kept reading the body after answering"
        } else {
            "the server stopped reading at the answer"
        };
        writeln!(
            f,
            "  {:.2} MiB sent in all in {:.2} s, {}: {after}",
            mib(self.sent),
            self.elapsed.as_secs_f64(),
            self.write
        )?;
        writeln!(
            f,
            "  RSS: baseline {:.1} MiB, peak {:.1} MiB (+{:.2} MiB), end {:.1} MiB",
            mib(self.rss_baseline),
            mib(self.rss_peak),
            mib(self.peak_growth()),
            mib(self.rss_end)
        )?;
        follow_up::write_line(f, &self.follow_up, &self.counts)?;
        write_server_end(f, &self.panics, &self.stopped)
    }
}
