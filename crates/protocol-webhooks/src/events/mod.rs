//! Protocol's event model (feature `events`).
//!
//! An event is `{"id": "...", "type": "<resource>.<action>", "payload": {...}}`.
//! [`Event::from_slice`] parses the exact body bytes into an [`Event`] whose
//! [`Payload`] is the typed resource object.

mod error;
mod event;
mod event_type;
mod model;
mod resources;
mod timestamp;

pub use error::EventError;
pub use event::{Event, Payload};
pub use event_type::{Action, EventType, Resource};
pub use resources::{Attachment, Contact, Conversation, Group, Message, Reaction};
pub use timestamp::Timestamp;
#[cfg(feature = "std")]
pub use timestamp::TimestampOutOfRange;
