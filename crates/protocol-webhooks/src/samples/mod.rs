//! Protocol's documented example objects, and sample webhook bodies made
//! from them: `*.deleted` samples carry only the id, as deletions may.
//!
//! The samples serve the CLI's `send` and `example` commands, and tests.
//! [`SignedRequest`] (feature `test-util`) also signs them, for testing a
//! handler without a network:
//!
//! ```
//! use protocol_webhooks::events::EventType;
//! use protocol_webhooks::samples::{SignedRequest, sample_body};
//!
//! let body = sample_body(&EventType::MessageCreated, "evt_1");
//! let request = SignedRequest::new("whsec_test", body)?;
//! assert_eq!(request.header_name(), "x-protocol-signature");
//! let config = protocol_webhooks::WebhookConfig::new("whsec_test")?;
//! let event = config.verify_event(request.body(), Some(request.signature().as_bytes()))?;
//! assert_eq!(event.event_type, EventType::MessageCreated);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "test-util")]
mod signed;
#[cfg(feature = "test-util")]
pub use signed::SignedRequest;

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::events::{EventType, Resource};

/// Protocol's documented example contact.
pub const CONTACT: &str = include_str!("../../fixtures/models/contact.json");
/// Protocol's documented example conversation.
pub const CONVERSATION: &str = include_str!("../../fixtures/models/conversation.json");
/// Protocol's documented example message (its text contains `’`).
pub const MESSAGE: &str = include_str!("../../fixtures/models/message.json");
/// Protocol's documented example of an updated message.
pub const MESSAGE_UPDATED: &str = include_str!("../../fixtures/models/message.updated.json");
/// Protocol's documented example group.
pub const GROUP: &str = include_str!("../../fixtures/models/group.json");
/// Protocol's documented example attachment.
pub const ATTACHMENT: &str = include_str!("../../fixtures/models/attachment.json");
/// A complete `message.updated` webhook body, pretty-printed as documented.
pub const MESSAGE_UPDATED_EVENT: &str = include_str!("../../fixtures/events/message.updated.json");

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
