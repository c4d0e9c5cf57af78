//! One HTTP answer per failure, shared by every framework adapter.

use core::fmt;

#[cfg(feature = "alloc")]
use alloc::string::String;

use crate::SignatureError;

/// The content type of every rejection body.
pub const REJECTION_CONTENT_TYPE: &str = "application/json";

/// Why a webhook request was refused, with the HTTP status and body that every
/// adapter answers with.
///
/// | variant | status |
/// |---|---|
/// | [`Signature`](Self::Signature) (missing, malformed, mismatch, repeated) | 401 |
/// | [`PayloadTooLarge`](Self::PayloadTooLarge) | 413 |
/// | [`IncompleteBody`](Self::IncompleteBody) | 400 |
/// | `InvalidEvent` (feature `events`) | 400 |
/// | [`MissingConfiguration`](Self::MissingConfiguration) | 500 |
/// | `AlreadyProcessed` (feature `std`, [`dedup`](crate::dedup)) | 200 |
/// | `InProgress` (feature `std`, [`dedup`](crate::dedup)) | 409, with `Retry-After` |
/// | `StoreUnavailable` (feature `std`, [`dedup`](crate::dedup)) | 503, with `Retry-After` |
///
/// The body is Protocol's error format,
/// `{"type":"invalid_request","message":"..."}`, whose `type` is
/// [`error_type`](Self::error_type); the message never contains the secret,
/// the received header or the expected signature. Adapters also send
/// [`retry_after`](Self::retry_after), when it is `Some`, as the
/// `Retry-After` header.
#[derive(Debug)]
#[non_exhaustive]
pub enum Rejection {
    /// The signature header is missing, malformed, does not match, or was
    /// sent more than once.
    Signature(SignatureError),
    /// The body is larger than the configured limit.
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body ended early or could not be read.
    IncompleteBody,
    /// The body is authentic but not a valid Protocol event.
    #[cfg(feature = "events")]
    InvalidEvent(crate::events::EventError),
    /// The server has no webhook configuration: a bug in the server, not in
    /// the request. Adapters answer it when none was registered.
    MissingConfiguration,
    /// The event was processed already; answered 200 so the sender stops
    /// retrying, without running the handler again.
    #[cfg(feature = "std")]
    AlreadyProcessed {
        /// The authenticated id of the event.
        event_id: String,
    },
    /// Another delivery of the event is being processed right now.
    #[cfg(feature = "std")]
    InProgress {
        /// How long the other delivery's claim has left.
        retry_after: core::time::Duration,
    },
    /// The de-duplication store could not be used, so the event cannot be
    /// processed safely now.
    #[cfg(feature = "std")]
    StoreUnavailable(crate::dedup::StoreError),
}

/// The `Retry-After` answered with [`Rejection::StoreUnavailable`]: short, as
/// a store outage is usually brief and senders back off on their own.
#[cfg(feature = "std")]
const STORE_UNAVAILABLE_RETRY_AFTER: u64 = 5;

impl Rejection {
    /// Whether the answer must close the connection: the body was not read
    /// to its end (too large, or cut short), so whatever follows on the
    /// connection is not the start of a request. Adapters send
    /// `Connection: close` then, so a keep-alive client does not send its
    /// next webhook into a connection the server is about to drop.
    #[must_use]
    pub fn closes_connection(&self) -> bool {
        matches!(self, Self::PayloadTooLarge { .. } | Self::IncompleteBody)
    }

    /// The HTTP status code to answer with.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Signature(_) => 401,
            Self::PayloadTooLarge { .. } => 413,
            Self::IncompleteBody => 400,
            #[cfg(feature = "events")]
            Self::InvalidEvent(_) => 400,
            Self::MissingConfiguration => 500,
            #[cfg(feature = "std")]
            Self::AlreadyProcessed { .. } => 200,
            #[cfg(feature = "std")]
            Self::InProgress { .. } => 409,
            #[cfg(feature = "std")]
            Self::StoreUnavailable(_) => 503,
        }
    }

    /// The `type` field of the JSON body: `invalid_request` for a 4xx,
    /// `api_error` for a 5xx and `duplicate` for an event already processed.
    #[must_use]
    pub fn error_type(&self) -> &'static str {
        match self.status() {
            200..=299 => "duplicate",
            500..=599 => "api_error",
            _ => "invalid_request",
        }
    }

    /// Seconds for the `Retry-After` header, when the sender should retry
    /// later: the rest of the other delivery's lease, rounded up and at
    /// least 1, for [`InProgress`](Self::InProgress); a few seconds for
    /// [`StoreUnavailable`](Self::StoreUnavailable); `None` otherwise.
    #[must_use]
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            #[cfg(feature = "std")]
            Self::InProgress { retry_after } => {
                let rounded_up = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                Some(rounded_up.max(1))
            }
            #[cfg(feature = "std")]
            Self::StoreUnavailable(_) => Some(STORE_UNAVAILABLE_RETRY_AFTER),
            _ => None,
        }
    }

    /// A short, stable name of the failure class for logs and metrics, such
    /// as `signature_mismatch` or `payload_too_large`.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Signature(SignatureError::Missing) => "signature_missing",
            Self::Signature(SignatureError::Malformed) => "signature_malformed",
            Self::Signature(SignatureError::Mismatch) => "signature_mismatch",
            Self::Signature(SignatureError::Repeated) => "signature_repeated",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::IncompleteBody => "incomplete_body",
            #[cfg(feature = "events")]
            Self::InvalidEvent(_) => "invalid_event",
            Self::MissingConfiguration => "missing_configuration",
            #[cfg(feature = "std")]
            Self::AlreadyProcessed { .. } => "duplicate",
            #[cfg(feature = "std")]
            Self::InProgress { .. } => "in_progress",
            #[cfg(feature = "std")]
            Self::StoreUnavailable(_) => "store_unavailable",
        }
    }

    /// Writes the JSON error body.
    ///
    /// # Errors
    /// Only those of the writer.
    pub fn write_json(&self, out: &mut impl fmt::Write) -> fmt::Result {
        out.write_str(r#"{"type":""#)?;
        out.write_str(self.error_type())?;
        out.write_str(r#"","message":""#)?;
        fmt::write(&mut JsonEscaped(out), format_args!("{self}"))?;
        out.write_str(r#""}"#)
    }

    /// The JSON error body.
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut body = String::with_capacity(96);
        // Writing into a String cannot fail.
        let _ = self.write_json(&mut body);
        body
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signature(error) => fmt::Display::fmt(error, f),
            Self::PayloadTooLarge { limit } => {
                write!(f, "request body is larger than the limit of {limit} bytes")
            }
            Self::IncompleteBody => f.write_str("request body could not be read in full"),
            #[cfg(feature = "events")]
            Self::InvalidEvent(error) => write!(f, "invalid event: {error}"),
            Self::MissingConfiguration => f.write_str("webhook configuration is missing"),
            #[cfg(feature = "std")]
            Self::AlreadyProcessed { event_id } => {
                write!(f, "event {event_id} already processed")
            }
            #[cfg(feature = "std")]
            Self::InProgress { .. } => write!(
                f,
                "event is being processed by another delivery; retry in {} s",
                self.retry_after().unwrap_or(1)
            ),
            #[cfg(feature = "std")]
            Self::StoreUnavailable(_) => {
                f.write_str("event cannot be processed right now; retry later")
            }
        }
    }
}

impl core::error::Error for Rejection {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Signature(error) => Some(error),
            #[cfg(feature = "events")]
            Self::InvalidEvent(error) => Some(error),
            #[cfg(feature = "std")]
            Self::StoreUnavailable(error) => Some(error),
            _ => None,
        }
    }
}

impl From<SignatureError> for Rejection {
    fn from(error: SignatureError) -> Self {
        Self::Signature(error)
    }
}

#[cfg(feature = "std")]
impl From<crate::dedup::StoreError> for Rejection {
    fn from(error: crate::dedup::StoreError) -> Self {
        Self::StoreUnavailable(error)
    }
}

#[cfg(feature = "events")]
impl From<crate::events::EventError> for Rejection {
    fn from(error: crate::events::EventError) -> Self {
        Self::InvalidEvent(error)
    }
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
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(Rejection::Signature(SignatureError::Missing).status(), 401);
        assert_eq!(
            Rejection::Signature(SignatureError::Malformed).status(),
            401
        );
        assert_eq!(Rejection::Signature(SignatureError::Mismatch).status(), 401);
        assert_eq!(Rejection::Signature(SignatureError::Repeated).status(), 401);
        assert_eq!(Rejection::PayloadTooLarge { limit: 1 }.status(), 413);
        assert_eq!(Rejection::IncompleteBody.status(), 400);
    }

    #[test]
    fn body_is_protocols_error_format_and_valid_json() {
        let body = Rejection::PayloadTooLarge { limit: 1024 }.to_json();
        let value: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(value["type"], "invalid_request");
        assert_eq!(
            value["message"],
            "request body is larger than the limit of 1024 bytes"
        );
    }

    #[test]
    fn existing_rejections_keep_their_type_and_have_no_retry_after() {
        for rejection in [
            Rejection::Signature(SignatureError::Mismatch),
            Rejection::PayloadTooLarge { limit: 1 },
            Rejection::IncompleteBody,
        ] {
            assert_eq!(rejection.error_type(), "invalid_request");
            assert_eq!(rejection.retry_after(), None);
            assert!(
                rejection
                    .to_json()
                    .starts_with(r#"{"type":"invalid_request","#)
            );
        }
    }

    #[test]
    fn a_repeated_header_is_a_signature_failure_of_its_own() {
        let repeated = Rejection::from(SignatureError::Repeated);
        let mismatch = Rejection::from(SignatureError::Mismatch);
        assert_eq!(repeated.status(), 401);
        assert_eq!(repeated.error_type(), mismatch.error_type());
        assert_eq!(repeated.retry_after(), None);
        assert!(!repeated.closes_connection());
        assert_eq!(repeated.reason(), "signature_repeated");
        assert_ne!(repeated.reason(), mismatch.reason());
        assert_eq!(
            repeated.to_json(),
            r#"{"type":"invalid_request","message":"more than one x-protocol-signature header"}"#
        );
        assert_ne!(repeated.to_json(), mismatch.to_json());
        let source = core::error::Error::source(&repeated).map(ToString::to_string);
        assert_eq!(source, Some(SignatureError::Repeated.to_string()));
    }

    #[test]
    fn every_signature_failure_has_its_own_reason() {
        let reasons = [
            SignatureError::Missing,
            SignatureError::Malformed,
            SignatureError::Mismatch,
            SignatureError::Repeated,
        ]
        .map(|error| Rejection::from(error).reason());
        assert_eq!(
            reasons,
            [
                "signature_missing",
                "signature_malformed",
                "signature_mismatch",
                "signature_repeated"
            ]
        );
    }

    #[test]
    fn missing_configuration_is_a_server_error() {
        let rejection = Rejection::MissingConfiguration;
        assert_eq!(rejection.status(), 500);
        assert_eq!(rejection.reason(), "missing_configuration");
        assert_eq!(rejection.retry_after(), None);
        assert_eq!(
            rejection.to_json(),
            r#"{"type":"api_error","message":"webhook configuration is missing"}"#
        );
    }

    #[cfg(feature = "std")]
    mod dedup {
        use core::time::Duration;

        use super::*;
        use crate::dedup::StoreError;

        #[test]
        fn already_processed_is_200_with_the_escaped_id() {
            let rejection = Rejection::AlreadyProcessed {
                event_id: String::from("evt\"1\n"),
            };
            assert_eq!(rejection.status(), 200);
            assert_eq!(rejection.reason(), "duplicate");
            assert_eq!(rejection.retry_after(), None);
            assert_eq!(
                rejection.to_json(),
                r#"{"type":"duplicate","message":"event evt\"1\n already processed"}"#
            );
            let value: serde_json::Value =
                serde_json::from_str(&rejection.to_json()).expect("json");
            assert_eq!(value["message"], "event evt\"1\n already processed");
        }

        #[test]
        fn in_progress_is_409_with_the_lease_rounded_up() {
            let after = |millis| Rejection::InProgress {
                retry_after: Duration::from_millis(millis),
            };
            assert_eq!(after(1500).status(), 409);
            assert_eq!(after(1500).reason(), "in_progress");
            assert_eq!(after(1500).retry_after(), Some(2));
            assert_eq!(after(3000).retry_after(), Some(3));
            assert_eq!(after(1).retry_after(), Some(1));
            assert_eq!(after(0).retry_after(), Some(1));
            assert_eq!(
                after(59_001).to_json(),
                r#"{"type":"invalid_request","message":"event is being processed by another delivery; retry in 60 s"}"#
            );
        }

        #[test]
        fn store_unavailable_is_503_without_backend_details() {
            let cause = std::io::Error::other("redis://:hunter2@db connection refused");
            let rejection = Rejection::from(StoreError::unavailable(cause));
            assert_eq!(rejection.status(), 503);
            assert_eq!(rejection.reason(), "store_unavailable");
            assert_eq!(rejection.retry_after(), Some(5));
            assert_eq!(
                rejection.to_json(),
                r#"{"type":"api_error","message":"event cannot be processed right now; retry later"}"#
            );
            assert!(!rejection.to_string().contains("hunter2"));
            let source = core::error::Error::source(&rejection).map(ToString::to_string);
            assert_eq!(source.as_deref(), Some("event store unavailable"));
        }
    }

    #[test]
    fn escapes_quotes_and_controls() {
        let mut out = String::new();
        fmt::Write::write_str(&mut JsonEscaped(&mut out), "a\"b\\c\nd\u{1}e’").expect("write");
        assert_eq!(out, "a\\\"b\\\\c\\nd\\u0001e’");
    }
}
