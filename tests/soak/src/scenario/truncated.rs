//! Truncated bodies: a client declares 1000 bytes, sends 10 and closes.

use core::fmt;
use core::net::SocketAddr;
use core::time::Duration;
use std::collections::{BTreeMap, HashMap};

use tokio::io::AsyncWriteExt as _;
use tokio::task::JoinSet;
use tokio::time::timeout;

use super::{CONNECT_TIMEOUT, client_runtime, follow_up, plausible_signature};
use crate::client::{self, Outgoing, connect, read_response, seen};
use crate::report::{Problems, Report, write_server_end};
use crate::{Framework, Server};

/// The body a truncated request declares; only its length is sent.
const DECLARED_BODY: &[u8; 1000] = &[b' '; 1000];

/// What a truncated request sends of its declared 1000 bytes.
const PARTIAL_BODY: &[u8; 10] = b"{\"id\":\"evt";

/// How long a half-closed connection may wait for an answer.
const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// The id of the valid request sent after the truncated ones.
const FOLLOW_UP_ID: &str = "evt_after_truncation";

/// The outcome of [`truncated_body`] for one framework.
#[derive(Debug, Clone)]
pub struct TruncatedReport {
    /// The framework under test.
    pub framework: Framework,
    /// Truncated requests sent.
    pub connections: usize,
    /// What each truncated request got: half of them shut down only their
    /// sending side and wait for an answer (`answered 400`, `closed without
    /// an answer`, ...), the other half close outright (`closed by the
    /// client`).
    pub outcomes: BTreeMap<String, u64>,
    /// The status of a valid request sent afterwards.
    pub follow_up: Result<u16, String>,
    /// Handler calls per id over the whole test.
    pub counts: HashMap<String, u32>,
    /// Panics on the server's threads.
    pub panics: Vec<String>,
    /// Whether the server stopped cleanly afterwards.
    pub stopped: Result<(), String>,
}

/// Sends `connections` requests that declare `Content-Length: 1000`, send
/// 10 bytes and close, then one valid request.
///
/// # Errors
/// Only when the test cannot run at all; everything the server does wrong
/// is in the report.
pub fn truncated_body(framework: Framework, connections: usize) -> Result<TruncatedReport, String> {
    let runtime = client_runtime()?;
    let server = Server::start(framework)?;
    let address = server.address();
    let signature = plausible_signature()?;
    let head = client::head(address, Some(&signature), Outgoing::Sized(DECLARED_BODY));
    let (outcomes, follow_up) = runtime.block_on(async {
        let mut cut = JoinSet::new();
        for number in 0..connections {
            cut.spawn(cut_short(address, head.clone(), number % 2 == 0));
        }
        let mut outcomes = BTreeMap::new();
        while let Some(outcome) = cut.join_next().await {
            let outcome = outcome.unwrap_or_else(|error| format!("client task failed: {error}"));
            *outcomes.entry(outcome).or_insert(0) += 1;
        }
        let follow_up = follow_up::send(&server, FOLLOW_UP_ID).await;
        (outcomes, follow_up)
    });
    drop(runtime);
    let panics = server.panics();
    let counts_handle = server.counts().clone();
    // Counted after the stop, so a request still in flight is counted too.
    let stopped = server.stop();
    Ok(TruncatedReport {
        framework,
        connections,
        outcomes,
        follow_up,
        counts: counts_handle.snapshot(),
        panics,
        stopped,
    })
}

/// One truncated request; what came back, described.
async fn cut_short(address: SocketAddr, head: Vec<u8>, half_close: bool) -> String {
    let mut stream = match connect(address, CONNECT_TIMEOUT).await {
        Ok(stream) => stream,
        Err(error) => return error,
    };
    let sent = async {
        stream.write_all(&head).await?;
        stream.write_all(PARTIAL_BODY).await?;
        if half_close {
            stream.shutdown().await?;
        }
        Ok::<(), std::io::Error>(())
    };
    match timeout(ANSWER_WAIT, sent).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => return format!("could not send: {error}"),
        Err(_) => return format!("could not send within {ANSWER_WAIT:?}"),
    }
    if !half_close {
        return String::from("closed by the client");
    }
    let mut buffer = Vec::new();
    let status = core::sync::atomic::AtomicU16::new(0);
    match timeout(
        ANSWER_WAIT,
        read_response(&mut stream, &mut buffer, &status),
    )
    .await
    {
        Ok(Ok(response)) => format!("answered {}", response.status),
        Ok(Err(error)) => match seen(&status) {
            Some(status) => format!("answered {status}, then {error}"),
            None => error,
        },
        Err(_) => format!("no answer within {ANSWER_WAIT:?}"),
    }
}

impl Report for TruncatedReport {
    /// Whether the framework passed: no truncated request reached the
    /// handler or got a 2xx or 5xx answer, the valid request afterwards got
    /// 200 and was counted once, no panic, a clean stop.
    fn check(&self) -> Result<(), String> {
        let mut problems = Problems::default();
        for (outcome, count) in &self.outcomes {
            let status = outcome
                .strip_prefix("answered ")
                .and_then(|rest| rest.get(..3))
                .and_then(|code| code.parse::<u16>().ok());
            if status.is_some_and(|status| (200..300).contains(&status) || status >= 500) {
                problems.push(format!("{count} truncated requests were {outcome}"));
            }
        }
        follow_up::check(&self.follow_up, &mut problems);
        let expected: HashMap<String, u32> = HashMap::from([(String::from(FOLLOW_UP_ID), 1)]);
        if self.counts != expected {
            problems.push(format!(
                "the handler counted {:?}, expected only {FOLLOW_UP_ID} once",
                self.counts
            ));
        }
        problems.server_end(&self.panics, &self.stopped);
        problems.verdict(self.framework, "the truncated-body test")
    }
}

impl fmt::Display for TruncatedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcomes: Vec<String> = self
            .outcomes
            .iter()
            .map(|(outcome, count)| format!("{outcome} x{count}"))
            .collect();
        writeln!(
            f,
            "{}: {} truncated bodies (Content-Length 1000, 10 bytes sent): {}",
            self.framework,
            self.connections,
            outcomes.join("; ")
        )?;
        follow_up::write_line(f, &self.follow_up, &self.counts)?;
        write_server_end(f, &self.panics, &self.stopped)
    }
}
