//! A sample body with the signature Protocol would send for it.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::sample_body;
use crate::events::EventType;
use crate::{Key, KeyError, SIGNATURE_HEADER};

/// A request body with the signature Protocol would send for it (feature
/// `test-util`).
///
/// `Debug` shows the body's length and `<redacted>` for the signature, like
/// every other type of the crate: printed in a test log, the signature would
/// be a valid one for the body under the test's secret, which may be a real
/// secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRequest {
    body: Vec<u8>,
    signature: String,
}

impl SignedRequest {
    /// Signs `body` with `secret`.
    ///
    /// # Errors
    /// [`KeyError::EmptySecret`] for an empty secret.
    pub fn new(secret: impl AsRef<[u8]>, body: impl Into<Vec<u8>>) -> Result<Self, KeyError> {
        let body = body.into();
        let signature = String::from(Key::new(secret)?.sign(&body).to_hex().as_str());
        Ok(Self { body, signature })
    }

    /// A signed sample event of `event_type` with id `evt_sample`.
    ///
    /// # Errors
    /// [`KeyError::EmptySecret`] for an empty secret.
    pub fn sample(secret: impl AsRef<[u8]>, event_type: &EventType) -> Result<Self, KeyError> {
        Self::new(secret, sample_body(event_type, "evt_sample"))
    }

    /// The header to send: always `x-protocol-signature`.
    #[must_use]
    pub fn header_name(&self) -> &'static str {
        SIGNATURE_HEADER
    }

    /// The header value: 64 lower-case hex digits.
    #[must_use]
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// The exact body bytes that were signed.
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Takes the body.
    #[must_use]
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("body_len", &self.body.len())
            .field("signature", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_body_length_but_not_the_signature() {
        let request =
            SignedRequest::sample("whsec_debug", &EventType::MessageCreated).expect("request");
        let signature = request.signature().to_owned();
        assert_eq!(signature.len(), 64);
        for debug in [format!("{request:?}"), format!("{request:#?}")] {
            assert!(!debug.contains(&signature), "{debug}");
            assert!(!debug.contains(&signature.to_ascii_uppercase()), "{debug}");
            // Not even a piece long enough to narrow the signature down.
            for piece in signature.as_bytes().windows(8) {
                let piece = core::str::from_utf8(piece).expect("hex is ASCII");
                assert!(!debug.contains(piece), "{debug} contains {piece}");
            }
            assert!(debug.contains("<redacted>"), "{debug}");
            assert!(debug.contains(&request.body().len().to_string()), "{debug}");
        }
        assert_eq!(
            format!("{request:?}"),
            format!(
                "SignedRequest {{ body_len: {}, signature: \"<redacted>\" }}",
                request.body().len()
            )
        );
    }
}
