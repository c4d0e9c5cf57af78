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
    /// No complete answer within the client's time limit.
    TimedOut {
        /// The limit.
        after: Duration,
    },
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
            Self::TimedOut { .. } => "timed out",
            Self::HostNotFound => "host not found",
            Self::Other(_) => "request failed",
        }
    }

    /// The same as one `snake_case` word, for lines split on whitespace
    /// and for JSON.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::Refused => "connection_refused",
            Self::TimedOut { .. } => "timed_out",
            Self::HostNotFound => "host_not_found",
            Self::Other(_) => "request_failed",
        }
    }

    /// Classifies a client error; `limit` is the time the request had.
    fn new(error: ureq::Error, limit: Duration) -> Self {
        match error {
            ureq::Error::Io(error) => match error.kind() {
                io::ErrorKind::ConnectionRefused => Self::Refused,
                io::ErrorKind::TimedOut => Self::TimedOut { after: limit },
                _ => Self::Other(error.to_string()),
            },
            ureq::Error::Timeout(_) => Self::TimedOut { after: limit },
            ureq::Error::HostNotFound => Self::HostNotFound,
            other => Self::Other(other.to_string()),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused => {
                f.write_str("connection refused; is the receiver running on that port?")
            }
            Self::TimedOut { after } => {
                write!(f, "no complete answer within {} s", after.as_secs())
            }
            Self::HostNotFound => f.write_str("host not found"),
            Self::Other(reason) => f.write_str(reason),
        }
    }
}

/// Sends webhooks the way Protocol does.
#[derive(Debug)]
pub(crate) struct Client {
    agent: Agent,
    timeout: Duration,
}

impl Client {
    /// A client with a 10 s budget per request.
    pub(crate) fn new() -> Self {
        Self::with_timeout(TIMEOUT)
    }

    /// A client with `timeout` per request, from connecting to the end of
    /// the answer.
    pub(crate) fn with_timeout(timeout: Duration) -> Self {
        let config = Agent::config_builder()
            .timeout_global(Some(timeout))
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
            timeout,
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
        let headers = Headers {
            content_type: Some(b"application/json"),
            signature: signature.map(str::as_bytes),
        };
        let answer = self.exchange(url, body, &headers);
        (answer, started.elapsed())
    }

    /// POSTs `body` with the header values a receiver got, byte for byte:
    /// the signature stays valid only if nothing is re-encoded.
    pub(crate) fn forward(
        &self,
        url: &Uri,
        body: &[u8],
        headers: &Headers<'_>,
    ) -> Result<Answer, TransportError> {
        self.exchange(url, body, headers)
    }

    fn exchange(
        &self,
        url: &Uri,
        body: &[u8],
        headers: &Headers<'_>,
    ) -> Result<Answer, TransportError> {
        self.try_exchange(url, body, headers)
            .map_err(|error| TransportError::new(error, self.timeout))
    }

    fn try_exchange(
        &self,
        url: &Uri,
        body: &[u8],
        headers: &Headers<'_>,
    ) -> Result<Answer, ureq::Error> {
        let mut request = self.agent.post(url.clone());
        if let Some(content_type) = headers.content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(signature) = headers.signature {
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

/// The headers a delivery carries besides the client's own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Headers<'a> {
    /// `content-type`, when there is one.
    pub(crate) content_type: Option<&'a [u8]>,
    /// `x-protocol-signature`, when there is one.
    pub(crate) signature: Option<&'a [u8]>,
}
