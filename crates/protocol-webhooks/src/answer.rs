//! The one HTTP answer to every request that does not reach the handler,
//! and the one log line about it.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use core::fmt;

use crate::Rejection;
#[cfg(feature = "dedup")]
use crate::dedup::Unclaimed;

/// The content type of every answer body.
pub const ANSWER_CONTENT_TYPE: &str = "application/json";

/// What a receiver answers, instead of running the handler, to a request
/// that was refused ([`Rejection`]), whose event another delivery
/// handles or handled (`dedup::Unclaimed`), or whose event was stored for
/// later handling ([`Answer::stored`], by a durable inbox).
///
/// Every adapter turns an `Answer` into its framework's response and
/// nothing else: [`status`](Self::status), the JSON [`body`](Self::body) in
/// Protocol's error format, and the [`headers`](Self::headers)
/// (`Content-Type`, and `Retry-After` or `Connection: close` when they
/// apply). [`log`](Self::log) (feature `tracing`) writes the one log line.
///
/// | reason | status | type | headers | logged at |
/// |---|---|---|---|---|
/// | `signature_missing`, `_malformed`, `_mismatch`, `_repeated` | 401 | `invalid_request` | | WARN |
/// | `payload_too_large` | 413 | `invalid_request` | `Connection: close` | WARN |
/// | `incomplete_body` | 400 | `invalid_request` | `Connection: close` | DEBUG: the client went away |
/// | `body_timeout` | 408 | `invalid_request` | `Connection: close` | INFO: a slow or stalled client |
/// | `invalid_event` | 400 | `invalid_request` | | WARN |
/// | `missing_configuration` | 500 | `api_error` | | ERROR: a bug in the server |
/// | `method_not_allowed` | 405 | `invalid_request` | `Allow: POST` | INFO: crawlers and probes |
/// | `duplicate` | 200 | `duplicate` | | INFO: the sender retried after a success |
/// | `in_progress` | 409 | `invalid_request` | `Retry-After`: the rest of the other claim | INFO |
/// | `store_unavailable` | 503 | `api_error` | `Retry-After: 5` | ERROR |
/// | `stored` | 202 | `stored` | | DEBUG: the normal path of an inbox |
/// | `already_stored` | 200 | `duplicate` | | INFO: an inbox holds the event already |
///
/// No answer, log line, `Debug` or `Display` contains the secret, the
/// received signature, the expected one or a store's connection details.
///
/// ```
/// use protocol_webhooks::{Answer, Rejection, SignatureError};
///
/// let answer = Answer::from(Rejection::from(SignatureError::Mismatch));
/// assert_eq!(answer.status(), 401);
/// assert_eq!(answer.reason(), "signature_mismatch");
/// assert_eq!(
///     answer.body(),
///     r#"{"type":"invalid_request","message":"x-protocol-signature does not match the request body"}"#
/// );
/// let headers: Vec<_> = answer.headers().collect();
/// assert_eq!(headers, [("content-type", "application/json".into())]);
/// ```
#[derive(Debug)]
pub struct Answer {
    cause: Cause,
}

#[derive(Debug)]
enum Cause {
    Rejected(Rejection),
    #[cfg(feature = "dedup")]
    Unclaimed(Unclaimed),
    /// Stored durably for later handling (`again`: an earlier delivery
    /// was); only the event id is kept.
    Stored {
        event_id: String,
        again: bool,
    },
}

/// How loud the log line is; each reason has one.
#[cfg(any(feature = "tracing", test))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

impl Answer {
    /// Every error status an answer can have; an already processed event is
    /// answered 200. A framework that answers a guard's failure through a
    /// catcher per status (rocket) registers one for each.
    pub const ERROR_STATUSES: [u16; 8] = [400, 401, 405, 408, 409, 413, 500, 503];

    /// 202: the authentic event `event_id` was stored durably, to be handled
    /// later. Answer it only once the store's commit returned: the sender
    /// does not deliver the event again.
    ///
    /// ```
    /// use protocol_webhooks::Answer;
    ///
    /// let answer = Answer::stored("evt_1");
    /// assert_eq!(answer.status(), 202);
    /// assert_eq!(answer.body(), r#"{"type":"stored","message":"event evt_1 stored for processing"}"#);
    /// ```
    #[must_use]
    pub fn stored(event_id: impl Into<String>) -> Self {
        Self {
            cause: Cause::Stored {
                event_id: event_id.into(),
                again: false,
            },
        }
    }

    /// 200: an earlier delivery of the authentic event `event_id` was
    /// stored already, in whatever state its handling is; nothing new was
    /// stored and the sender need not deliver it again.
    ///
    /// ```
    /// use protocol_webhooks::Answer;
    ///
    /// let answer = Answer::already_stored("evt_1");
    /// assert_eq!((answer.status(), answer.reason()), (200, "already_stored"));
    /// assert_eq!(answer.body(), r#"{"type":"duplicate","message":"event evt_1 already received"}"#);
    /// ```
    #[must_use]
    pub fn already_stored(event_id: impl Into<String>) -> Self {
        Self {
            cause: Cause::Stored {
                event_id: event_id.into(),
                again: true,
            },
        }
    }

    /// The HTTP status code.
    #[must_use]
    pub fn status(&self) -> u16 {
        match &self.cause {
            Cause::Rejected(rejection) => rejection.status(),
            #[cfg(feature = "dedup")]
            Cause::Unclaimed(unclaimed) => unclaimed.status(),
            Cause::Stored { again: false, .. } => 202,
            Cause::Stored { again: true, .. } => 200,
        }
    }

    /// A short, stable name of the outcome for logs and metrics, such as
    /// `signature_mismatch`, `duplicate` or `stored`.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match &self.cause {
            Cause::Rejected(rejection) => rejection.reason(),
            #[cfg(feature = "dedup")]
            Cause::Unclaimed(unclaimed) => unclaimed.reason(),
            Cause::Stored { again: false, .. } => "stored",
            Cause::Stored { again: true, .. } => "already_stored",
        }
    }

    /// The authenticated event id, when the request got that far.
    #[must_use]
    pub fn event_id(&self) -> Option<&str> {
        match &self.cause {
            Cause::Rejected(_) => None,
            #[cfg(feature = "dedup")]
            Cause::Unclaimed(unclaimed) => Some(unclaimed.event_id()),
            Cause::Stored { event_id, .. } => Some(event_id),
        }
    }

    /// The refusal, when the request was refused.
    #[must_use]
    pub fn rejection(&self) -> Option<&Rejection> {
        match &self.cause {
            Cause::Rejected(rejection) => Some(rejection),
            #[cfg(feature = "dedup")]
            Cause::Unclaimed(_) => None,
            Cause::Stored { .. } => None,
        }
    }

    /// Why the event was not claimed, when the request was authentic.
    #[cfg(feature = "dedup")]
    #[must_use]
    pub fn unclaimed(&self) -> Option<&Unclaimed> {
        match &self.cause {
            Cause::Rejected(_) | Cause::Stored { .. } => None,
            Cause::Unclaimed(unclaimed) => Some(unclaimed),
        }
    }

    /// Seconds for the `Retry-After` header, when the sender should come
    /// back later.
    #[must_use]
    pub fn retry_after(&self) -> Option<u64> {
        match &self.cause {
            Cause::Rejected(_) | Cause::Stored { .. } => None,
            #[cfg(feature = "dedup")]
            Cause::Unclaimed(unclaimed) => unclaimed.retry_after(),
        }
    }

    /// Whether the answer must close the connection: the body was not read
    /// to its end (too large, or cut short), so whatever follows on the
    /// connection is not the start of a request, and a keep-alive client
    /// must not send its next webhook into a connection about to be dropped.
    #[must_use]
    pub fn closes_connection(&self) -> bool {
        matches!(
            &self.cause,
            Cause::Rejected(
                Rejection::PayloadTooLarge { .. }
                    | Rejection::IncompleteBody
                    | Rejection::BodyTimeout { .. }
            )
        )
    }

    /// The `type` of the JSON body: `invalid_request` for a 4xx,
    /// `api_error` for a 5xx, `duplicate` for an event already processed
    /// and `stored` for an event stored for later handling.
    #[must_use]
    pub fn error_type(&self) -> &'static str {
        if let Cause::Stored { again: false, .. } = self.cause {
            return "stored";
        }
        match self.status() {
            200..=299 => "duplicate",
            500..=599 => "api_error",
            _ => "invalid_request",
        }
    }

    /// The JSON body: `{"type":"...","message":"..."}`, Protocol's error
    /// format.
    #[must_use]
    pub fn body(&self) -> String {
        let mut body = String::with_capacity(96);
        // Writing into a String cannot fail.
        let _ = write_json(self, &mut body);
        body
    }

    /// Every header of the answer, names in lower case: `content-type`,
    /// then `allow`, `retry-after` and `connection` when they apply.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, Cow<'static, str>)> + use<> {
        let content_type = Some(("content-type", Cow::Borrowed(ANSWER_CONTENT_TYPE)));
        let allow = matches!(self.cause, Cause::Rejected(Rejection::MethodNotAllowed))
            .then_some(("allow", Cow::Borrowed("POST")));
        let retry_after = self
            .retry_after()
            .map(|seconds| ("retry-after", Cow::Owned(seconds.to_string())));
        let connection = self
            .closes_connection()
            .then_some(("connection", Cow::Borrowed("close")));
        [content_type, allow, retry_after, connection]
            .into_iter()
            .flatten()
    }

    /// The answer as an `http` 1.x response, for frameworks built on it
    /// (axum, warp, poem, hyper): map the body into the framework's type.
    #[cfg(feature = "http")]
    #[must_use]
    pub fn to_http(&self) -> http::Response<String> {
        let mut response = http::Response::new(self.body());
        // Every status the core gives is a valid code; the fallback only
        // keeps this free of a panic path.
        *response.status_mut() = http::StatusCode::from_u16(self.status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        for (name, value) in self.headers() {
            if let Ok(value) = http::HeaderValue::from_str(&value) {
                headers.insert(http::HeaderName::from_static(name), value);
            }
        }
        response
    }

    /// Writes the one log line about this answer, at the level of its
    /// reason (see the table above), with the fields `reason`, `status`,
    /// `event_id` once the event is authentic, and `missing` for a server
    /// without configuration. The message is `webhook already processed`,
    /// `webhook being processed by another delivery`, `webhook stored` or
    /// `webhook refused`. Adapters call it where the answer is made, so
    /// it is logged once even when a handler takes the answer and replies
    /// by itself.
    #[cfg(feature = "tracing")]
    pub fn log(&self) {
        let (reason, status, event_id) = (self.reason(), self.status(), self.event_id());
        let missing = match self.rejection() {
            Some(Rejection::MissingConfiguration { missing }) => Some(*missing),
            _ => None,
        };
        let message = match reason {
            "duplicate" => "webhook already processed",
            "in_progress" => "webhook being processed by another delivery",
            "stored" => "webhook stored",
            "already_stored" => "webhook already received",
            _ => "webhook refused",
        };
        match self.level() {
            Level::Error => tracing::error!(reason, status, event_id, missing, "{message}"),
            Level::Warn => tracing::warn!(reason, status, event_id, missing, "{message}"),
            Level::Info => tracing::info!(reason, status, event_id, missing, "{message}"),
            Level::Debug => tracing::debug!(reason, status, event_id, missing, "{message}"),
        }
    }

    #[cfg(any(feature = "tracing", test))]
    fn level(&self) -> Level {
        match &self.cause {
            Cause::Rejected(Rejection::MissingConfiguration { .. }) => Level::Error,
            Cause::Rejected(Rejection::IncompleteBody) => Level::Debug,
            Cause::Rejected(Rejection::MethodNotAllowed | Rejection::BodyTimeout { .. }) => {
                Level::Info
            }
            Cause::Rejected(_) => Level::Warn,
            // Every event an inbox receives takes this path: INFO would be a
            // line per webhook; the inbox's worker logs the handling.
            Cause::Stored { again: false, .. } => Level::Debug,
            Cause::Stored { again: true, .. } => Level::Info,
            #[cfg(feature = "dedup")]
            Cause::Unclaimed(Unclaimed::StoreUnavailable { .. }) => Level::Error,
            #[cfg(feature = "dedup")]
            Cause::Unclaimed(_) => Level::Info,
        }
    }
}

impl From<Rejection> for Answer {
    fn from(rejection: Rejection) -> Self {
        Self {
            cause: Cause::Rejected(rejection),
        }
    }
}

#[cfg(feature = "dedup")]
impl From<Unclaimed> for Answer {
    fn from(unclaimed: Unclaimed) -> Self {
        Self {
            cause: Cause::Unclaimed(unclaimed),
        }
    }
}

impl From<crate::SignatureError> for Answer {
    fn from(error: crate::SignatureError) -> Self {
        Self::from(Rejection::from(error))
    }
}

#[cfg(feature = "events")]
impl From<crate::events::EventError> for Answer {
    fn from(error: crate::events::EventError) -> Self {
        Self::from(Rejection::from(error))
    }
}

/// The `message` of the body.
impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Cause::Rejected(rejection) => fmt::Display::fmt(rejection, f),
            #[cfg(feature = "dedup")]
            Cause::Unclaimed(unclaimed) => fmt::Display::fmt(unclaimed, f),
            Cause::Stored {
                event_id,
                again: false,
            } => write!(f, "event {event_id} stored for processing"),
            Cause::Stored {
                event_id,
                again: true,
            } => write!(f, "event {event_id} already received"),
        }
    }
}

/// Transparent: `Display` already shows the cause, so the source is the
/// cause's own.
impl core::error::Error for Answer {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match &self.cause {
            Cause::Rejected(rejection) => core::error::Error::source(rejection),
            #[cfg(feature = "dedup")]
            Cause::Unclaimed(unclaimed) => core::error::Error::source(unclaimed),
            Cause::Stored { .. } => None,
        }
    }
}

fn write_json(answer: &Answer, out: &mut impl fmt::Write) -> fmt::Result {
    out.write_str(r#"{"type":""#)?;
    out.write_str(answer.error_type())?;
    out.write_str(r#"","message":""#)?;
    fmt::write(&mut JsonEscaped(out), format_args!("{answer}"))?;
    out.write_str(r#""}"#)
}

/// Escapes text for a JSON string literal as it is written.
struct JsonEscaped<'a, W>(&'a mut W);

impl<W: fmt::Write> fmt::Write for JsonEscaped<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut rest = text;
        while let Some(at) = rest.find(|c: char| c == '"' || c == '\\' || c.is_control()) {
            self.0.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            match c {
                '"' => self.0.write_str("\\\"")?,
                '\\' => self.0.write_str("\\\\")?,
                '\n' => self.0.write_str("\\n")?,
                _ => write!(self.0, "\\u{:04x}", u32::from(c))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::SignatureError;

    fn headers(answer: &Answer) -> Vec<(&'static str, String)> {
        answer
            .headers()
            .map(|(name, value)| (name, value.into_owned()))
            .collect()
    }

    #[test]
    fn body_is_protocols_error_format_and_valid_json() {
        let answer = Answer::from(Rejection::PayloadTooLarge { limit: 1024 });
        let value: serde_json::Value = serde_json::from_str(&answer.body()).expect("json");
        assert_eq!(value["type"], "invalid_request");
        assert_eq!(
            value["message"],
            "request body is larger than the limit of 1024 bytes"
        );
    }

    #[test]
    fn refusals_that_leave_the_body_unread_close_the_connection() {
        for rejection in [
            Rejection::PayloadTooLarge { limit: 1 },
            Rejection::IncompleteBody,
        ] {
            let answer = Answer::from(rejection);
            assert!(answer.closes_connection());
            assert_eq!(
                headers(&answer),
                [
                    ("content-type", String::from("application/json")),
                    ("connection", String::from("close"))
                ]
            );
        }
        let answer = Answer::from(SignatureError::Mismatch);
        assert!(!answer.closes_connection());
        assert_eq!(answer.retry_after(), None);
    }

    #[test]
    fn missing_configuration_is_a_server_error() {
        let answer = Answer::from(Rejection::MissingConfiguration {
            missing: "WebhookConfig",
        });
        assert_eq!(answer.status(), 500);
        assert_eq!(answer.level(), Level::Error);
        assert_eq!(
            answer.body(),
            r#"{"type":"api_error","message":"webhook configuration is missing"}"#
        );
    }

    #[test]
    fn a_wrong_method_is_405_with_allow() {
        let answer = Answer::from(Rejection::MethodNotAllowed);
        assert_eq!(answer.status(), 405);
        assert_eq!(answer.level(), Level::Info);
        assert_eq!(
            headers(&answer),
            [
                ("content-type", String::from("application/json")),
                ("allow", String::from("POST"))
            ]
        );
        assert_eq!(
            answer.body(),
            r#"{"type":"invalid_request","message":"webhooks are sent with POST"}"#
        );
    }

    #[test]
    fn every_error_status_is_listed() {
        let answers = [
            Answer::from(SignatureError::Mismatch),
            Answer::from(Rejection::PayloadTooLarge { limit: 1 }),
            Answer::from(Rejection::IncompleteBody),
            Answer::from(Rejection::BodyTimeout {
                after: core::time::Duration::from_secs(1),
            }),
            Answer::from(Rejection::MissingConfiguration { missing: "x" }),
            Answer::from(Rejection::MethodNotAllowed),
        ];
        for answer in answers {
            assert!(
                Answer::ERROR_STATUSES.contains(&answer.status()),
                "{}",
                answer.reason()
            );
        }
    }

    #[test]
    fn a_stored_event_is_202_stored_and_not_an_error() {
        let answer = Answer::stored("evt\"1\n");
        assert_eq!(answer.status(), 202);
        assert_eq!(answer.reason(), "stored");
        assert_eq!(answer.error_type(), "stored");
        assert_eq!(answer.event_id(), Some("evt\"1\n"));
        assert_eq!(answer.level(), Level::Debug);
        assert_eq!(answer.retry_after(), None);
        assert!(!answer.closes_connection());
        assert!(answer.rejection().is_none());
        assert!(core::error::Error::source(&answer).is_none());
        assert!(!Answer::ERROR_STATUSES.contains(&answer.status()));
        assert_eq!(
            headers(&answer),
            [("content-type", String::from("application/json"))]
        );
        assert_eq!(
            answer.body(),
            r#"{"type":"stored","message":"event evt\"1\n stored for processing"}"#
        );
        let value: serde_json::Value = serde_json::from_str(&answer.body()).expect("json");
        assert_eq!(value["type"], "stored");
    }

    #[test]
    fn levels() {
        assert_eq!(Answer::from(SignatureError::Missing).level(), Level::Warn);
        assert_eq!(
            Answer::from(Rejection::IncompleteBody).level(),
            Level::Debug
        );
    }

    #[test]
    fn escapes_quotes_and_controls() {
        let mut out = String::new();
        fmt::Write::write_str(&mut JsonEscaped(&mut out), "a\"b\\c\nd\u{1}e’").expect("write");
        assert_eq!(out, "a\\\"b\\\\c\\nd\\u0001e’");
    }

    #[cfg(all(feature = "tracing", feature = "dedup"))]
    mod log {
        use alloc::sync::Arc;
        use core::time::Duration;
        use std::sync::{Mutex, PoisonError};

        use super::*;
        use crate::dedup::StoreError;

        /// The lines `answer.log()` writes, without time or colours.
        fn logged(answer: &Answer) -> Vec<String> {
            let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
            let writer = Arc::clone(&buffer);
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .without_time()
                .with_writer(move || Writer(Arc::clone(&writer)))
                .finish();
            tracing::subscriber::with_default(subscriber, || answer.log());
            let bytes = buffer.lock().unwrap_or_else(PoisonError::into_inner);
            String::from_utf8_lossy(&bytes)
                .lines()
                .map(String::from)
                .collect()
        }

        struct Writer(Arc<Mutex<Vec<u8>>>);

        impl std::io::Write for Writer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend_from_slice(bytes);
                Ok(bytes.len())
            }

            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        #[test]
        fn each_answer_is_one_line_with_its_level_message_and_fields() {
            let cases = [
                (
                    Answer::from(SignatureError::Mismatch),
                    r#" WARN protocol_webhooks::answer: webhook refused reason="signature_mismatch" status=401"#,
                ),
                (
                    Answer::from(Rejection::IncompleteBody),
                    r#"DEBUG protocol_webhooks::answer: webhook refused reason="incomplete_body" status=400"#,
                ),
                (
                    Answer::from(Rejection::MissingConfiguration {
                        missing: "Deduplicator",
                    }),
                    r#"ERROR protocol_webhooks::answer: webhook refused reason="missing_configuration" status=500 missing="Deduplicator""#,
                ),
                (
                    Answer::from(Unclaimed::Duplicate {
                        event_id: String::from("evt_1"),
                    }),
                    r#" INFO protocol_webhooks::answer: webhook already processed reason="duplicate" status=200 event_id="evt_1""#,
                ),
                (
                    Answer::from(Unclaimed::InProgress {
                        event_id: String::from("evt_2"),
                        retry_after: Duration::from_secs(3),
                    }),
                    r#" INFO protocol_webhooks::answer: webhook being processed by another delivery reason="in_progress" status=409 event_id="evt_2""#,
                ),
                (
                    Answer::from(Unclaimed::StoreUnavailable {
                        event_id: String::from("evt_3"),
                        error: StoreError::unavailable("redis://:hunter2@db refused"),
                    }),
                    r#"ERROR protocol_webhooks::answer: webhook refused reason="store_unavailable" status=503 event_id="evt_3""#,
                ),
                (
                    Answer::stored("evt_4"),
                    r#"DEBUG protocol_webhooks::answer: webhook stored reason="stored" status=202 event_id="evt_4""#,
                ),
            ];
            for (answer, expected) in cases {
                assert_eq!(logged(&answer), [String::from(expected)]);
            }
        }
    }

    #[cfg(feature = "dedup")]
    mod dedup {
        use core::time::Duration;

        use super::*;
        use crate::dedup::StoreError;

        #[test]
        fn a_duplicate_is_200_with_the_escaped_id() {
            let answer = Answer::from(Unclaimed::Duplicate {
                event_id: String::from("evt\"1\n"),
            });
            assert_eq!(answer.status(), 200);
            assert_eq!(answer.reason(), "duplicate");
            assert_eq!(answer.event_id(), Some("evt\"1\n"));
            assert_eq!(answer.level(), Level::Info);
            assert_eq!(answer.retry_after(), None);
            assert_eq!(
                answer.body(),
                r#"{"type":"duplicate","message":"event evt\"1\n already processed"}"#
            );
        }

        #[test]
        fn in_progress_is_409_with_the_lease_rounded_up() {
            let after = |millis| {
                Answer::from(Unclaimed::InProgress {
                    event_id: String::from("evt_1"),
                    retry_after: Duration::from_millis(millis),
                })
            };
            assert_eq!(after(1500).status(), 409);
            assert_eq!(after(1500).reason(), "in_progress");
            assert_eq!(after(1500).retry_after(), Some(2));
            assert_eq!(after(3000).retry_after(), Some(3));
            assert_eq!(after(0).retry_after(), Some(1));
            assert_eq!(
                headers(&after(2500)),
                [
                    ("content-type", String::from("application/json")),
                    ("retry-after", String::from("3"))
                ]
            );
            assert_eq!(
                after(59_001).body(),
                r#"{"type":"invalid_request","message":"event is being processed by another delivery; retry in 60 s"}"#
            );
        }

        #[test]
        fn store_unavailable_is_503_without_backend_details() {
            let cause = std::io::Error::other("redis://:hunter2@db connection refused");
            let answer = Answer::from(Unclaimed::StoreUnavailable {
                event_id: String::from("evt_1"),
                error: StoreError::unavailable(cause),
            });
            assert_eq!(answer.status(), 503);
            assert_eq!(answer.retry_after(), Some(5));
            assert_eq!(answer.level(), Level::Error);
            assert_eq!(
                answer.body(),
                r#"{"type":"api_error","message":"event cannot be processed right now; retry later"}"#
            );
            assert!(!answer.to_string().contains("hunter2"));
        }
    }
}
