//! The webhook envelope and its typed payload.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
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
    /// The body as received; the raw payload is located in it on demand, so
    /// parsing needs a single pass.
    body: Box<str>,
    verified_with: Option<crate::MatchedKey>,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.event_type == other.event_type
            && self.payload == other.payload
            && self.raw_payload().get() == other.raw_payload().get()
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
    /// For a type this version does not know, the payload as a JSON value
    /// (numbers as `serde_json` parses them; [`Event::raw_payload`] has the
    /// exact bytes).
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

    /// Parses an event from a body the caller owns, keeping it without a
    /// copy (see [`VerifiedBody::into_event`](crate::VerifiedBody::into_event)).
    ///
    /// # Errors
    /// As [`Event::from_slice`].
    pub fn from_vec(body: Vec<u8>) -> Result<Self, EventError> {
        let text = String::from_utf8(body).map_err(|error| EventError::NotUtf8 {
            valid_up_to: error.utf8_error().valid_up_to(),
        })?;
        Self::parse_owned(text.into_boxed_str())
    }

    /// The key that authenticated the body, for an event parsed from a
    /// [`VerifiedBody`](crate::VerifiedBody) (every adapter's events are);
    /// `None` for one parsed from bytes directly.
    #[must_use]
    pub fn verified_with(&self) -> Option<&crate::MatchedKey> {
        self.verified_with.as_ref()
    }

    pub(crate) fn with_key(mut self, key: crate::MatchedKey) -> Self {
        self.verified_with = Some(key);
        self
    }

    fn parse_owned(body: Box<str>) -> Result<Self, EventError> {
        let (id, event_type, payload) = Self::parse_parts(&body)?;
        Ok(Self {
            id,
            event_type,
            payload,
            body,
            verified_with: None,
        })
    }

    fn parse_parts(text: &str) -> Result<(String, EventType, Payload), EventError> {
        let envelope: Envelope<'_> =
            serde_json::from_str(text).map_err(|error| envelope_error(text, &error))?;
        let event_type = envelope.event_type;
        let payload = match envelope.payload {
            PayloadField::Parsed(payload) => payload,
            PayloadField::BeforeType(raw) => parse_payload(&event_type, raw.get())?,
            PayloadField::Absent => parse_payload(&event_type, "null")?,
        };
        if event_type.is_known() && payload.id().is_none_or(str::is_empty) {
            return Err(EventError::Shape {
                path: String::from("payload.id"),
                message: String::from("missing field `id`"),
            });
        }
        Ok((envelope.id, event_type, payload))
    }

    /// The payload exactly as received, for fields or types this version
    /// does not model.
    #[must_use]
    pub fn raw_payload(&self) -> &RawValue {
        /// Only the payload, borrowed from the stored body.
        #[derive(Deserialize)]
        struct PayloadOnly<'a> {
            #[serde(borrow)]
            payload: Option<&'a RawValue>,
        }
        // The body parsed as an event once already, so this cannot fail;
        // `null` stands in for an absent payload.
        match serde_json::from_str::<PayloadOnly<'_>>(&self.body) {
            Ok(PayloadOnly { payload: Some(raw) }) => raw,
            _ => null_payload(),
        }
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

/// Parses a payload that arrived before the envelope's `type`, so it could
/// not be parsed in the same pass.
fn parse_payload(event_type: &EventType, raw: &str) -> Result<Payload, EventError> {
    let mut deserializer = serde_json::Deserializer::from_str(raw);
    let parsed = PayloadSeed(event_type)
        .deserialize(&mut deserializer)
        .and_then(|payload| deserializer.end().map(|()| payload));
    parsed.map_err(|_| payload_error(event_type, raw))
}

/// Deserializes a payload into the model its event type calls for.
struct PayloadSeed<'t>(&'t EventType);

impl<'de> DeserializeSeed<'de> for PayloadSeed<'_> {
    type Value = Payload;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Payload, D::Error> {
        let resource = self.0.resource().filter(|_| self.0.is_known());
        Ok(match resource {
            Some(Resource::Contact) => Payload::Contact(Contact::deserialize(deserializer)?),
            Some(Resource::Conversation) => {
                Payload::Conversation(Conversation::deserialize(deserializer)?)
            }
            Some(Resource::Message) => Payload::Message(Message::deserialize(deserializer)?),
            Some(Resource::Group) => Payload::Group(Group::deserialize(deserializer)?),
            Some(Resource::Attachment) => {
                Payload::Attachment(Attachment::deserialize(deserializer)?)
            }
            None => Payload::Unknown(serde_json::Value::deserialize(deserializer)?),
        })
    }
}

/// Parses again, on the error path only, to learn where the error is:
/// tracking the path on every parse would slow down the valid case.
fn payload_error(event_type: &EventType, raw: &str) -> EventError {
    let mut deserializer = serde_json::Deserializer::from_str(raw);
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(&mut deserializer, &mut track);
    let error = match PayloadSeed(event_type).deserialize(tracked) {
        Ok(_) => match deserializer.end() {
            Ok(()) => {
                return EventError::Shape {
                    path: String::from("payload"),
                    message: String::from("payload does not fit its model"),
                };
            }
            Err(error) => error,
        },
        Err(error) => error,
    };
    let path = prefixed_path("payload", &track.path().to_string());
    EventError::from_json(&error, Some(path))
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

/// The envelope, parsed in one pass when `type` precedes `payload` (as
/// Protocol sends it); otherwise the payload is kept raw and parsed after.
struct Envelope<'a> {
    id: String,
    event_type: EventType,
    payload: PayloadField<'a>,
}

// Lives only on the stack during one parse; boxing the parsed payload would
// cost an allocation per event.
#[allow(clippy::large_enum_variant)]
enum PayloadField<'a> {
    Parsed(Payload),
    BeforeType(&'a RawValue),
    Absent,
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
                let mut payload = PayloadField::Absent;
                while let Some(key) = map.next_key::<Field>()? {
                    match key {
                        Field::id if id.is_some() => return Err(de::Error::duplicate_field("id")),
                        Field::id => id = Some(map.next_value()?),
                        Field::r#type if event_type.is_some() => {
                            return Err(de::Error::duplicate_field("type"));
                        }
                        Field::r#type => event_type = Some(map.next_value()?),
                        Field::payload if !matches!(payload, PayloadField::Absent) => {
                            return Err(de::Error::duplicate_field("payload"));
                        }
                        Field::payload => {
                            payload = match &event_type {
                                Some(event_type) => PayloadField::Parsed(
                                    map.next_value_seed(PayloadSeed(event_type))?,
                                ),
                                None => PayloadField::BeforeType(map.next_value()?),
                            };
                        }
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
        envelope.serialize_field("payload", self.raw_payload())?;
        envelope.end()
    }
}

/// Parses an event from JSON text; see [`Event::from_slice`].
impl core::str::FromStr for Event {
    type Err = EventError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (id, event_type, payload) = Self::parse_parts(text)?;
        Ok(Self {
            id,
            event_type,
            payload,
            body: Box::from(text),
            verified_with: None,
        })
    }
}
