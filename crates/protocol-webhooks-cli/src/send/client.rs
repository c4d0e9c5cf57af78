//! One webhook delivery over plain HTTP/1.1, with bounded time and memory.

use core::fmt;
use core::time::Duration;
use std::io::{self, Read as _};
use std::time::Instant;

use protocol_webhooks::SIGNATURE_HEADER;
use ureq::Agent;
use ureq::http::Uri;

/// Longest a request may take, from connecting to the end of the answer.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// How much of an answer's body is kept: enough for a one-line summary
/// without letting a runaway receiver fill memory.
const BODY_PREFIX: u64 = 4096;

/// What came back.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The HTTP status code.
    pub(crate) status: u16,
    /// The start of the body, at most 4 KiB.
    pub(crate) body: Vec<u8>,
}

/// Why no answer came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TransportError {
    /// Nothing listens on that address and port.
    Refused,
    /// No complete answer within [`TIMEOUT`].
    TimedOut,
    /// The host name does not resolve.
    HostNotFound,
    /// Anything else, as the HTTP client describes it.
    Other(String),
}

impl TransportError {
    /// A few words for the report line's body column.
    pub(crate) fn short(&self) -> &str {
        match self {
            Self::Refused => "connection refused",
            Self::TimedOut => "timed out",
            Self::HostNotFound => "host not found",
            Self::Other(_) => "request failed",
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused => {
                f.write_str("connection refused; is the receiver running on that port?")
            }
            Self::TimedOut => write!(f, "no complete answer within {} s", TIMEOUT.as_secs()),
            Self::HostNotFound => f.write_str("host not found"),
            Self::Other(reason) => f.write_str(reason),
        }
    }
}

impl From<ureq::Error> for TransportError {
    fn from(error: ureq::Error) -> Self {
        match error {
            ureq::Error::Io(error) => Self::from(error),
            ureq::Error::Timeout(_) => Self::TimedOut,
            ureq::Error::HostNotFound => Self::HostNotFound,
            other => Self::Other(other.to_string()),
        }
    }
}

impl From<io::Error> for TransportError {
    fn from(error: io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::ConnectionRefused => Self::Refused,
            io::ErrorKind::TimedOut => Self::TimedOut,
            _ => Self::Other(error.to_string()),
        }
    }
}

/// Sends webhooks the way Protocol does.
#[derive(Debug)]
pub(crate) struct Client {
    agent: Agent,
}

impl Client {
    /// A client with a 10 s budget per request.
    pub(crate) fn new() -> Self {
        let config = Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            // 4xx and 5xx are answers to report, not failures of the client.
            .http_status_as_error(false)
            // A redirect is the receiver's answer; Protocol would not follow it.
            .max_redirects(0)
            // Straight to the receiver, usually on this machine: a proxy from
            // the environment would only get in the way.
            .proxy(None)
            .user_agent(concat!("protocol-webhooks-cli/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent: Agent::new_with_config(config),
        }
    }

    /// POSTs `body` as JSON with an optional `x-protocol-signature`, and
    /// returns the answer and how long it took.
    pub(crate) fn post(
        &self,
        url: &Uri,
        body: &[u8],
        signature: Option<&str>,
    ) -> (Result<Answer, TransportError>, Duration) {
        let started = Instant::now();
        let answer = self.exchange(url, body, signature);
        (answer, started.elapsed())
    }

    fn exchange(
        &self,
        url: &Uri,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<Answer, TransportError> {
        let mut request = self
            .agent
            .post(url.clone())
            .header("content-type", "application/json");
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        let response = request.send(body)?;
        let status = response.status().as_u16();
        let mut prefix = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(BODY_PREFIX)
            .read_to_end(&mut prefix)?;
        Ok(Answer {
            status,
            body: prefix,
        })
    }
}
