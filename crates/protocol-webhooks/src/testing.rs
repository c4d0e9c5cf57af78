//! Sample events and signed requests, for testing handlers without a network.
//!
//! The samples are Protocol's documented example objects, wrapped in an
//! envelope: `*.deleted` samples carry only the id, as deletions may.
//!
//! ```
//! use protocol_webhooks::events::EventType;
//! use protocol_webhooks::testing::SignedRequest;
//!
//! let request = SignedRequest::sample("whsec_test", &EventType::MessageCreated)?;
//! assert_eq!(request.header_name(), "x-protocol-signature");
//! let config = protocol_webhooks::WebhookConfig::new("whsec_test")?;
//! let event = config.verify_event(request.body(), Some(request.signature().as_bytes()))?;
//! assert_eq!(event.event_type, EventType::MessageCreated);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::events::{EventType, Resource};
use crate::{Key, KeyError, SIGNATURE_HEADER};

/// Protocol's documented example contact.
pub const CONTACT: &str = include_str!("../fixtures/models/contact.json");
/// Protocol's documented example conversation.
pub const CONVERSATION: &str = include_str!("../fixtures/models/conversation.json");
/// Protocol's documented example message (its text contains `’`).
pub const MESSAGE: &str = include_str!("../fixtures/models/message.json");
/// Protocol's documented example of an updated message.
pub const MESSAGE_UPDATED: &str = include_str!("../fixtures/models/message.updated.json");
/// Protocol's documented example group.
pub const GROUP: &str = include_str!("../fixtures/models/group.json");
/// Protocol's documented example attachment.
pub const ATTACHMENT: &str = include_str!("../fixtures/models/attachment.json");
/// A complete `message.updated` webhook body, pretty-printed as documented.
pub const MESSAGE_UPDATED_EVENT: &str = include_str!("../fixtures/events/message.updated.json");

/// The documented example object for a type: the update example for
/// `message.updated`, the resource's example otherwise.
#[must_use]
pub fn sample_payload(event_type: &EventType) -> Option<&'static str> {
    if *event_type == EventType::MessageUpdated {
        return Some(MESSAGE_UPDATED);
    }
    Some(match event_type.resource()? {
        Resource::Contact => CONTACT,
        Resource::Conversation => CONVERSATION,
        Resource::Message => MESSAGE,
        Resource::Group => GROUP,
        Resource::Attachment => ATTACHMENT,
    })
}

/// A sample webhook body for `event_type` with the given event id.
///
/// Known types carry their documented example object (id only for
/// `*.deleted`); an unknown type carries `{"id": "sample"}`.
#[must_use]
pub fn sample_body(event_type: &EventType, event_id: &str) -> Vec<u8> {
    let payload: String = match (event_type.action(), sample_payload(event_type)) {
        (Some(crate::events::Action::Deleted), Some(object)) if event_type.is_known() => {
            let id = serde_json::from_str::<serde_json::Value>(object)
                .ok()
                .and_then(|value| value.get("id").cloned())
                .unwrap_or(serde_json::Value::Null);
            serde_json::json!({ "id": id }).to_string()
        }
        (_, Some(object)) if event_type.is_known() => String::from(object.trim_end()),
        _ => String::from(r#"{"id":"sample"}"#),
    };
    let envelope = serde_json::json!({ "id": event_id, "type": event_type.as_str() });
    // Splice the payload in as text so the documented bytes stay verbatim.
    let mut body = envelope.to_string();
    body.pop();
    body.push_str(",\"payload\":");
    body.push_str(&payload);
    body.push('}');
    body.into_bytes()
}

/// A request body with the signature Protocol would send for it.
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
