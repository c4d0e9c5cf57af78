//! Why a request was refused before its handler could run.

use core::fmt;

use crate::SignatureError;

/// Why a webhook request was refused.
///
/// | variant | status | reason |
/// |---|---|---|
/// | [`Signature`](Self::Signature) (missing, malformed, mismatch, repeated) | 401 | `signature_*` |
/// | [`PayloadTooLarge`](Self::PayloadTooLarge) | 413 | `payload_too_large` |
/// | [`IncompleteBody`](Self::IncompleteBody) | 400 | `incomplete_body` |
/// | [`BodyTimeout`](Self::BodyTimeout) | 408 | `body_timeout` |
/// | `InvalidEvent` (feature `events`) | 400 | `invalid_event` |
/// | [`MissingConfiguration`](Self::MissingConfiguration) | 500 | `missing_configuration` |
/// | [`MethodNotAllowed`](Self::MethodNotAllowed) | 405, with `Allow: POST` | `method_not_allowed` |
///
/// Adapters answer it through [`Answer`](crate::Answer), which gives the
/// body and headers. `Display` never contains the secret, the received
/// header or the expected signature.
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
    /// The body did not arrive in full within the configured time.
    BodyTimeout {
        /// The time allowed.
        after: core::time::Duration,
    },
    /// The body is authentic but not a valid Protocol event.
    #[cfg(feature = "events")]
    InvalidEvent(crate::events::EventError),
    /// The server has no webhook configuration: a bug in the server, not in
    /// the request. Adapters answer it when none was registered.
    MissingConfiguration {
        /// The type the server did not register, such as `WebhookConfig`.
        missing: &'static str,
    },
    /// The request used another method than `POST` on a webhook route.
    /// Routing happens before any extractor runs, so only an application's
    /// own fallback for the route answers it.
    MethodNotAllowed,
}

impl Rejection {
    /// The HTTP status code to answer with.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Signature(_) => 401,
            Self::PayloadTooLarge { .. } => 413,
            Self::IncompleteBody => 400,
            Self::BodyTimeout { .. } => 408,
            #[cfg(feature = "events")]
            Self::InvalidEvent(_) => 400,
            Self::MissingConfiguration { .. } => 500,
            Self::MethodNotAllowed => 405,
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
            Self::BodyTimeout { .. } => "body_timeout",
            #[cfg(feature = "events")]
            Self::InvalidEvent(_) => "invalid_event",
            Self::MissingConfiguration { .. } => "missing_configuration",
            Self::MethodNotAllowed => "method_not_allowed",
        }
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
            Self::BodyTimeout { after } => write!(
                f,
                "request body did not arrive within {} s",
                after.as_secs_f64()
            ),
            #[cfg(feature = "events")]
            Self::InvalidEvent(error) => write!(f, "invalid event: {error}"),
            Self::MissingConfiguration { .. } => f.write_str("webhook configuration is missing"),
            Self::MethodNotAllowed => f.write_str("webhooks are sent with POST"),
        }
    }
}

impl core::error::Error for Rejection {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Signature(error) => Some(error),
            #[cfg(feature = "events")]
            Self::InvalidEvent(error) => Some(error),
            _ => None,
        }
    }
}

impl From<SignatureError> for Rejection {
    fn from(error: SignatureError) -> Self {
        Self::Signature(error)
    }
}

#[cfg(feature = "events")]
impl From<crate::events::EventError> for Rejection {
    fn from(error: crate::events::EventError) -> Self {
        Self::InvalidEvent(error)
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
        assert_eq!(
            Rejection::MissingConfiguration { missing: "x" }.status(),
            500
        );
    }

    #[test]
    fn a_repeated_header_is_a_signature_failure_of_its_own() {
        let repeated = Rejection::from(SignatureError::Repeated);
        let mismatch = Rejection::from(SignatureError::Mismatch);
        assert_eq!(repeated.status(), 401);
        assert_ne!(repeated.reason(), mismatch.reason());
        assert_eq!(
            repeated.to_string(),
            "more than one x-protocol-signature header"
        );
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
}
