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
/// | [`Signature`](Self::Signature) (missing, malformed, mismatch) | 401 |
/// | [`PayloadTooLarge`](Self::PayloadTooLarge) | 413 |
/// | [`IncompleteBody`](Self::IncompleteBody) | 400 |
/// | `InvalidEvent` (feature `events`) | 400 |
///
/// The body is Protocol's error format,
/// `{"type":"invalid_request","message":"..."}`; the message never contains
/// the secret, the received header or the expected signature.
#[derive(Debug)]
#[non_exhaustive]
pub enum Rejection {
    /// The signature header is missing, malformed or does not match.
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
}

impl Rejection {
    /// The HTTP status code to answer with.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Signature(_) => 401,
            Self::PayloadTooLarge { .. } => 413,
            Self::IncompleteBody => 400,
            #[cfg(feature = "events")]
            Self::InvalidEvent(_) => 400,
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
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::IncompleteBody => "incomplete_body",
            #[cfg(feature = "events")]
            Self::InvalidEvent(_) => "invalid_event",
        }
    }

    /// Writes the JSON error body.
    ///
    /// # Errors
    /// Only those of the writer.
    pub fn write_json(&self, out: &mut impl fmt::Write) -> fmt::Result {
        out.write_str(r#"{"type":"invalid_request","message":""#)?;
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
    fn escapes_quotes_and_controls() {
        let mut out = String::new();
        fmt::Write::write_str(&mut JsonEscaped(&mut out), "a\"b\\c\nd\u{1}e’").expect("write");
        assert_eq!(out, "a\\\"b\\\\c\\nd\\u0001e’");
    }
}
