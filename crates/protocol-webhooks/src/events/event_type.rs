//! The `type` of an event: `<resource>.<action>`, open to types added later.

use alloc::borrow::ToOwned;
use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kind of object an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Resource {
    /// A contact.
    Contact,
    /// A conversation.
    Conversation,
    /// A message.
    Message,
    /// A group.
    Group,
    /// An attachment.
    Attachment,
}

impl Resource {
    /// Every resource Protocol documents.
    pub const ALL: [Self; 5] = [
        Self::Contact,
        Self::Conversation,
        Self::Message,
        Self::Group,
        Self::Attachment,
    ];

    /// The name used in event types, e.g. `contact`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Conversation => "conversation",
            Self::Message => "message",
            Self::Group => "group",
            Self::Attachment => "attachment",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|resource| resource.as_str() == name)
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Action {
    /// It was created.
    Created,
    /// It was changed.
    Updated,
    /// It was deleted.
    Deleted,
}

impl Action {
    /// Every action Protocol documents.
    pub const ALL: [Self; 3] = [Self::Created, Self::Updated, Self::Deleted];

    /// The name used in event types, e.g. `created`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == name)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event's `type`.
///
/// The 15 documented types are variants; any other string, such as a type
/// Protocol adds later, is kept exactly in [`EventType::Unknown`] so that it
/// never fails to parse.
///
/// ```
/// use protocol_webhooks::events::{Action, EventType, Resource};
///
/// let kind: EventType = "message.updated".parse().unwrap();
/// assert_eq!(kind, EventType::MessageUpdated);
/// assert_eq!(kind.resource(), Some(Resource::Message));
/// assert_eq!(kind.action(), Some(Action::Updated));
///
/// let later: EventType = "message.pinned".parse().unwrap();
/// assert_eq!(later, EventType::Unknown("message.pinned".into()));
/// assert_eq!(later.resource(), Some(Resource::Message));
/// assert_eq!(later.action(), None);
/// assert_eq!(later.to_string(), "message.pinned");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// `contact.created`: a new contact was created.
    ContactCreated,
    /// `contact.updated`: an existing contact was updated.
    ContactUpdated,
    /// `contact.deleted`: a contact was successfully deleted.
    ContactDeleted,
    /// `conversation.created`: a new conversation was created.
    ConversationCreated,
    /// `conversation.updated`: an existing conversation was updated.
    ConversationUpdated,
    /// `conversation.deleted`: a conversation was successfully deleted.
    ConversationDeleted,
    /// `message.created`: a new message was created.
    MessageCreated,
    /// `message.updated`: an existing message was updated.
    MessageUpdated,
    /// `message.deleted`: a message was successfully deleted.
    MessageDeleted,
    /// `group.created`: a new group was created.
    GroupCreated,
    /// `group.updated`: an existing group was updated.
    GroupUpdated,
    /// `group.deleted`: a group was successfully deleted.
    GroupDeleted,
    /// `attachment.created`: a new attachment was created.
    AttachmentCreated,
    /// `attachment.updated`: an existing attachment was updated.
    AttachmentUpdated,
    /// `attachment.deleted`: an attachment was successfully deleted.
    AttachmentDeleted,
    /// Any other type, exactly as received.
    Unknown(String),
}

impl EventType {
    /// The 15 documented types, grouped by resource.
    pub const KNOWN: [Self; 15] = [
        Self::ContactCreated,
        Self::ContactUpdated,
        Self::ContactDeleted,
        Self::ConversationCreated,
        Self::ConversationUpdated,
        Self::ConversationDeleted,
        Self::MessageCreated,
        Self::MessageUpdated,
        Self::MessageDeleted,
        Self::GroupCreated,
        Self::GroupUpdated,
        Self::GroupDeleted,
        Self::AttachmentCreated,
        Self::AttachmentUpdated,
        Self::AttachmentDeleted,
    ];

    /// The documented type for a resource and an action.
    #[must_use]
    pub const fn new(resource: Resource, action: Action) -> Self {
        use Action::{Created, Deleted, Updated};
        match (resource, action) {
            (Resource::Contact, Created) => Self::ContactCreated,
            (Resource::Contact, Updated) => Self::ContactUpdated,
            (Resource::Contact, Deleted) => Self::ContactDeleted,
            (Resource::Conversation, Created) => Self::ConversationCreated,
            (Resource::Conversation, Updated) => Self::ConversationUpdated,
            (Resource::Conversation, Deleted) => Self::ConversationDeleted,
            (Resource::Message, Created) => Self::MessageCreated,
            (Resource::Message, Updated) => Self::MessageUpdated,
            (Resource::Message, Deleted) => Self::MessageDeleted,
            (Resource::Group, Created) => Self::GroupCreated,
            (Resource::Group, Updated) => Self::GroupUpdated,
            (Resource::Group, Deleted) => Self::GroupDeleted,
            (Resource::Attachment, Created) => Self::AttachmentCreated,
            (Resource::Attachment, Updated) => Self::AttachmentUpdated,
            (Resource::Attachment, Deleted) => Self::AttachmentDeleted,
        }
    }

    /// The type as sent on the wire, e.g. `contact.created`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::ContactCreated => "contact.created",
            Self::ContactUpdated => "contact.updated",
            Self::ContactDeleted => "contact.deleted",
            Self::ConversationCreated => "conversation.created",
            Self::ConversationUpdated => "conversation.updated",
            Self::ConversationDeleted => "conversation.deleted",
            Self::MessageCreated => "message.created",
            Self::MessageUpdated => "message.updated",
            Self::MessageDeleted => "message.deleted",
            Self::GroupCreated => "group.created",
            Self::GroupUpdated => "group.updated",
            Self::GroupDeleted => "group.deleted",
            Self::AttachmentCreated => "attachment.created",
            Self::AttachmentUpdated => "attachment.updated",
            Self::AttachmentDeleted => "attachment.deleted",
            Self::Unknown(other) => other,
        }
    }

    /// The resource: for an unknown type, the part before the first dot when
    /// it names a documented resource.
    #[must_use]
    pub fn resource(&self) -> Option<Resource> {
        self.split().0
    }

    /// The action: for an unknown type, the part after the first dot when it
    /// names a documented action.
    #[must_use]
    pub fn action(&self) -> Option<Action> {
        self.split().1
    }

    /// Whether this is one of the 15 documented types.
    #[must_use]
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown(_))
    }

    /// A one-line description from Protocol's documentation, for the
    /// documented types.
    #[must_use]
    pub fn description(&self) -> Option<&'static str> {
        let resource = self.resource()?;
        let action = self.action()?;
        if !self.is_known() {
            return None;
        }
        Some(match (resource, action) {
            (Resource::Contact, Action::Created) => "A new contact was created.",
            (Resource::Contact, Action::Updated) => "An existing contact was updated.",
            (Resource::Contact, Action::Deleted) => "A contact was successfully deleted.",
            (Resource::Conversation, Action::Created) => "A new conversation was created.",
            (Resource::Conversation, Action::Updated) => "An existing conversation was updated.",
            (Resource::Conversation, Action::Deleted) => "A conversation was successfully deleted.",
            (Resource::Message, Action::Created) => "A new message was created.",
            (Resource::Message, Action::Updated) => "An existing message was updated.",
            (Resource::Message, Action::Deleted) => "A message was successfully deleted.",
            (Resource::Group, Action::Created) => "A new group was created.",
            (Resource::Group, Action::Updated) => "An existing group was updated.",
            (Resource::Group, Action::Deleted) => "A group was successfully deleted.",
            (Resource::Attachment, Action::Created) => "A new attachment was created.",
            (Resource::Attachment, Action::Updated) => "An existing attachment was updated.",
            (Resource::Attachment, Action::Deleted) => "An attachment was successfully deleted.",
        })
    }

    fn split(&self) -> (Option<Resource>, Option<Action>) {
        let text = self.as_str();
        match text.split_once('.') {
            Some((resource, action)) => (Resource::from_name(resource), Action::from_name(action)),
            None => (Resource::from_name(text), None),
        }
    }

    fn parse_known(text: &str) -> Option<Self> {
        let (resource, action) = text.split_once('.')?;
        Some(Self::new(
            Resource::from_name(resource)?,
            Action::from_name(action)?,
        ))
    }
}

impl From<&str> for EventType {
    fn from(text: &str) -> Self {
        Self::parse_known(text).unwrap_or_else(|| Self::Unknown(text.to_owned()))
    }
}

impl From<String> for EventType {
    fn from(text: String) -> Self {
        Self::parse_known(&text).unwrap_or(Self::Unknown(text))
    }
}

impl FromStr for EventType {
    type Err = core::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(text))
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = EventType;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event type string")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<EventType, E> {
                Ok(EventType::from(text))
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<EventType, E> {
                Ok(EventType::from(text))
            }
        }

        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_fifteen_round_trip() {
        for kind in EventType::KNOWN {
            let text = kind.to_string();
            assert_eq!(text.parse::<EventType>(), Ok(kind.clone()));
            let json = serde_json::to_string(&kind).expect("serialize");
            assert_eq!(
                serde_json::from_str::<EventType>(&json).expect("parse"),
                kind
            );
            assert!(kind.description().is_some());
            let resource = kind.resource().expect("resource");
            let action = kind.action().expect("action");
            assert_eq!(EventType::new(resource, action), kind);
        }
    }

    #[test]
    fn unknown_types_keep_the_exact_string() {
        for text in [
            "invoice.paid",
            "contact.merged",
            "contact",
            "",
            "Contact.Created",
            "contact.created.v2",
        ] {
            let kind = EventType::from(text);
            assert_eq!(kind, EventType::Unknown(text.into()), "{text}");
            assert_eq!(kind.as_str(), text);
            assert_eq!(kind.description(), None);
        }
        assert_eq!(
            EventType::from("contact.merged").resource(),
            Some(Resource::Contact)
        );
        assert_eq!(
            EventType::from("invoice.deleted").action(),
            Some(Action::Deleted)
        );
    }
}
