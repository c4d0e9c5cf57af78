//! The webhook envelope and its typed payload.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use core::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{Attachment, Contact, Conversation, EventError, EventType, Group, Message, Resource};

/// A verified Protocol webhook event.
///
/// ```
/// use protocol_webhooks::events::{Event, EventType, Payload};
///
/// let body = br#"{"id":"a056V7R7NmNRjl70","type":"conversation.updated","payload":{"id":"WAz8eIbvDR60rouK","is_muted":true}}"#;
/// let event = Event::from_slice(body)?;
/// assert_eq!(event.event_type, EventType::ConversationUpdated);
/// match &event.payload {
///     Payload::Conversation(conversation) => assert_eq!(conversation.is_muted, Some(true)),
///     other => panic!("unexpected payload {other:?}"),
/// }
/// assert_eq!(event.resource_id(), Some("WAz8eIbvDR60rouK"));
/// # Ok::<(), protocol_webhooks::events::EventError>(())
/// ```
///
/// Parse only bytes whose signature was checked; the adapters and
/// [`WebhookConfig::verify_event`](crate::WebhookConfig::verify_event) do
/// that in the right order.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Event {
    /// The event's id, unique per event: use it to de-duplicate deliveries.
    pub id: String,
    /// The event's type, e.g. `message.updated`.
    pub event_type: EventType,
    /// The typed payload.
    pub payload: Payload,
    raw_payload: Box<RawValue>,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.event_type == other.event_type
            && self.payload == other.payload
            && self.raw_payload.get() == other.raw_payload.get()
    }
}

/// An event's payload: the resource object the event is about.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Payload {
    /// For `contact.*` events.
    Contact(Contact),
    /// For `conversation.*` events.
    Conversation(Conversation),
    /// For `message.*` events.
    Message(Message),
    /// For `group.*` events.
    Group(Group),
    /// For `attachment.*` events.
    Attachment(Attachment),
    /// For a type this version does not know, the payload as received.
    Unknown(serde_json::Value),
}

impl Payload {
    /// The resource object's id (for an unknown type, its `"id"` string if any).
    #[must_use]
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Contact(object) => Some(&object.id),
            Self::Conversation(object) => Some(&object.id),
            Self::Message(object) => Some(&object.id),
            Self::Group(object) => Some(&object.id),
            Self::Attachment(object) => Some(&object.id),
            Self::Unknown(value) => value.get("id").and_then(serde_json::Value::as_str),
        }
    }
}

impl Event {
    /// Parses an event from the exact body bytes.
    ///
    /// A type this version does not know parses as [`EventType::Unknown`]
    /// with [`Payload::Unknown`]; unknown fields are kept in each model's
    /// `extra`. A documented type whose payload does not fit its model is an
    /// error naming the JSON path.
    ///
    /// # Errors
    /// [`EventError`] when the body is not UTF-8, not JSON, or not an event.
    pub fn from_slice(body: &[u8]) -> Result<Self, EventError> {
        let text = core::str::from_utf8(body).map_err(|error| EventError::NotUtf8 {
            valid_up_to: error.valid_up_to(),
        })?;
        text.parse()
    }

    fn parse_text(text: &str) -> Result<Self, EventError> {
        let envelope: Envelope<'_> =
            serde_json::from_str(text).map_err(|error| envelope_error(text, &error))?;
        let event_type = envelope.event_type;
        let raw_payload = match envelope.payload {
            Some(raw) => raw,
            None => null_payload(),
        };
        let payload = parse_payload(&event_type, raw_payload.get())?;
        Ok(Self {
            id: envelope.id,
            event_type,
            payload,
            raw_payload: raw_payload.to_owned(),
        })
    }

    /// The payload exactly as received, for fields or types this version
    /// does not model.
    #[must_use]
    pub fn raw_payload(&self) -> &RawValue {
        &self.raw_payload
    }

    /// The resource object's id, e.g. the message id of a `message.updated`.
    #[must_use]
    pub fn resource_id(&self) -> Option<&str> {
        self.payload.id()
    }
}

fn null_payload() -> &'static RawValue {
    // "null" is valid JSON, so this conversion cannot fail.
    serde_json::from_str("null").unwrap_or_else(|_| unreachable!())
}

fn parse_payload(event_type: &EventType, raw: &str) -> Result<Payload, EventError> {
    let Some(resource) = event_type.resource().filter(|_| event_type.is_known()) else {
        return serde_json::from_str(raw)
            .map(Payload::Unknown)
            .map_err(|error| EventError::from_json(&error, None));
    };
    let parsed = match resource {
        Resource::Contact => typed(raw).map(Payload::Contact),
        Resource::Conversation => typed(raw).map(Payload::Conversation),
        Resource::Message => typed(raw).map(Payload::Message),
        Resource::Group => typed(raw).map(Payload::Group),
        Resource::Attachment => typed(raw).map(Payload::Attachment),
    };
    let payload = parsed.map_err(|()| payload_error(resource, raw))?;
    if payload.id().is_none_or(str::is_empty) {
        return Err(EventError::Shape {
            path: String::from("payload.id"),
            message: String::from("missing field `id`"),
        });
    }
    Ok(payload)
}

fn typed<T: for<'de> Deserialize<'de>>(raw: &str) -> Result<T, ()> {
    serde_json::from_str(raw).map_err(|_| ())
}

/// Parses again, on the error path only, to learn where the error is:
/// tracking the path on every parse would slow down the valid case.
fn payload_error(resource: Resource, raw: &str) -> EventError {
    fn locate<T: for<'de> Deserialize<'de>>(raw: &str) -> EventError {
        let mut deserializer = serde_json::Deserializer::from_str(raw);
        match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
            Ok(_) => EventError::Shape {
                path: String::from("payload"),
                message: String::from("payload does not fit its model"),
            },
            Err(error) => {
                let path = prefixed_path("payload", &error.path().to_string());
                EventError::from_json(error.inner(), Some(path))
            }
        }
    }
    match resource {
        Resource::Contact => locate::<Contact>(raw),
        Resource::Conversation => locate::<Conversation>(raw),
        Resource::Message => locate::<Message>(raw),
        Resource::Group => locate::<Group>(raw),
        Resource::Attachment => locate::<Attachment>(raw),
    }
}

fn envelope_error(text: &str, error: &serde_json::Error) -> EventError {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let path = serde_path_to_error::deserialize::<_, Envelope<'_>>(&mut deserializer)
        .err()
        .map(|error| error.path().to_string());
    EventError::from_json(error, path)
}

fn prefixed_path(prefix: &str, path: &str) -> String {
    if path == "." {
        String::from(prefix)
    } else if path.starts_with('[') {
        alloc::format!("{prefix}{path}")
    } else {
        alloc::format!("{prefix}.{path}")
    }
}

/// The envelope with the payload left unparsed, borrowed from the body.
struct Envelope<'a> {
    id: String,
    event_type: EventType,
    payload: Option<&'a RawValue>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Envelope<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[allow(non_camel_case_types)]
        enum Field {
            id,
            r#type,
            payload,
            Other,
        }

        impl<'de> Deserialize<'de> for Field {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct FieldVisitor;
                impl Visitor<'_> for FieldVisitor {
                    type Value = Field;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a field name")
                    }
                    fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                        Ok(match name {
                            "id" => Field::id,
                            "type" => Field::r#type,
                            "payload" => Field::payload,
                            _ => Field::Other,
                        })
                    }
                }
                deserializer.deserialize_identifier(FieldVisitor)
            }
        }

        struct EnvelopeVisitor<'a>(core::marker::PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for EnvelopeVisitor<'a> {
            type Value = Envelope<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event object with `id`, `type` and `payload`")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'a>, A::Error> {
                let mut id: Option<String> = None;
                let mut event_type: Option<EventType> = None;
                let mut payload: Option<&'a RawValue> = None;
                while let Some(key) = map.next_key::<Field>()? {
                    match key {
                        Field::id if id.is_some() => return Err(de::Error::duplicate_field("id")),
                        Field::id => id = Some(map.next_value()?),
                        Field::r#type if event_type.is_some() => {
                            return Err(de::Error::duplicate_field("type"));
                        }
                        Field::r#type => event_type = Some(map.next_value()?),
                        Field::payload if payload.is_some() => {
                            return Err(de::Error::duplicate_field("payload"));
                        }
                        Field::payload => payload = Some(map.next_value()?),
                        // Envelope fields Protocol adds later are skipped.
                        Field::Other => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(Envelope {
                    id: id.ok_or_else(|| de::Error::missing_field("id"))?,
                    event_type: event_type.ok_or_else(|| de::Error::missing_field("type"))?,
                    payload,
                })
            }
        }

        deserializer.deserialize_map(EnvelopeVisitor(core::marker::PhantomData))
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut envelope = serializer.serialize_struct("Event", 3)?;
        envelope.serialize_field("id", &self.id)?;
        envelope.serialize_field("type", &self.event_type)?;
        envelope.serialize_field("payload", &self.raw_payload)?;
        envelope.end()
    }
}

/// Parses an event from JSON text; see [`Event::from_slice`].
impl core::str::FromStr for Event {
    type Err = EventError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse_text(text)
    }
}
