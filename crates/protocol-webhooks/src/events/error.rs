//! Why an authentic body is not a valid event.

use alloc::string::{String, ToString};
use core::fmt;

/// An authentic body that is not a valid Protocol event (HTTP 400).
///
/// The messages describe the body's shape, never the signature or secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventError {
    /// The body is not UTF-8, so it cannot be JSON.
    NotUtf8 {
        /// Bytes before the first invalid sequence.
        valid_up_to: usize,
    },
    /// The body is not well-formed JSON: empty, truncated, trailing garbage,
    /// or nested deeper than the parser allows.
    Syntax {
        /// What the parser found.
        message: String,
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error, from 1.
        column: usize,
    },
    /// The JSON does not have the shape of an event: not an object, a
    /// missing `id` or `type`, or a field of the wrong type.
    Shape {
        /// Where in the document, e.g. `payload.contact.created_at`; `.` for
        /// the document itself.
        path: String,
        /// What was wrong there.
        message: String,
    },
}

impl EventError {
    pub(crate) fn from_json(error: &serde_json::Error, path: Option<String>) -> Self {
        let message = strip_position(&error.to_string());
        match (error.classify(), path) {
            (serde_json::error::Category::Data, Some(path)) => Self::Shape { path, message },
            (serde_json::error::Category::Data, None) => Self::Shape {
                path: String::from("."),
                message,
            },
            _ => Self::Syntax {
                message,
                line: error.line(),
                column: error.column(),
            },
        }
    }

    /// The JSON path of a shape error, if this is one.
    #[must_use]
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Shape { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// serde_json appends " at line L column C"; the position is reported in
/// its own fields instead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => String::from(&message[..at]),
        None => String::from(message),
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotUtf8 { valid_up_to } => {
                write!(f, "body is not valid UTF-8 (after byte {valid_up_to})")
            }
            Self::Syntax {
                message,
                line,
                column,
            } => write!(
                f,
                "body is not valid JSON: {message} at line {line} column {column}"
            ),
            Self::Shape { path, message } => write!(f, "at `{path}`: {message}"),
        }
    }
}

impl core::error::Error for EventError {}
