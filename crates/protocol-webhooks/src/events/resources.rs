//! One model per Protocol resource, with the fields of its API reference.
//!
//! Only `id` is required; every other documented field may be null or
//! absent (deleted events often carry only the id), and fields Protocol adds
//! later land in `extra`.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::Timestamp;
use super::model::resource_model;

resource_model! {
    /// A person you can message.
    pub struct Contact {
        /// The contact's username.
        username: String,
        /// The contact's phone number.
        phone_number: String,
        /// The URL of the contact's avatar image.
        avatar_url: String,
        /// The name shown for the contact.
        display_name: String,
        /// The conversation with this contact.
        conversation_id: String,
        /// When the contact was last active.
        last_active_at: Timestamp,
        /// When the contact was created.
        created_at: Timestamp,
    }
}

resource_model! {
    /// A conversation with a contact or a group.
    pub struct Conversation {
        /// The contact the conversation is with, if any.
        contact_id: String,
        /// The group the conversation belongs to, if any.
        group_id: String,
        /// The pinned message, if any.
        pinned_message_id: String,
        /// Whether the conversation is pinned.
        is_pinned: bool,
        /// Whether the conversation is muted.
        is_muted: bool,
        /// When the conversation was last active.
        last_active_at: Timestamp,
        /// When the conversation was last opened.
        last_opened_at: Timestamp,
        /// When the conversation was created.
        created_at: Timestamp,
        /// When the conversation was archived.
        archived_at: Timestamp,
    }
}

resource_model! {
    /// A message in a conversation.
    pub struct Message {
        /// The conversation the message belongs to.
        conversation_id: String,
        /// The contact who sent the message.
        contact: Contact,
        /// The message text.
        message: String,
        /// Reactions to the message.
        reactions: Vec<Reaction>,
        /// Files attached to the message.
        attachments: Vec<Attachment>,
        /// When the message was read.
        read_at: Timestamp,
        /// When the message was created.
        created_at: Timestamp,
        /// When the message was last updated.
        updated_at: Timestamp,
    }
}

resource_model! {
    /// A group of contacts sharing a conversation.
    pub struct Group {
        /// The group's name.
        name: String,
        /// The group's description.
        description: String,
        /// The URL of the group's avatar image.
        avatar_url: String,
        /// The group's conversation.
        conversation_id: String,
        /// The group's members.
        contacts: Vec<Contact>,
        /// When the group was created.
        created_at: Timestamp,
        /// When the group was archived.
        archived_at: Timestamp,
    }
}

resource_model! {
    /// A file attached to a message.
    pub struct Attachment {
        /// The message the file is attached to.
        message_id: String,
        /// The file's name.
        filename: String,
        /// Where the file can be downloaded.
        file_url: String,
        /// The file's MIME type, e.g. `image/jpeg`.
        file_type: String,
        /// The file's size in bytes.
        file_size: u64,
        /// When the attachment was created.
        created_at: Timestamp,
    }
}

/// One reaction object on a message: reaction names mapped to the usernames
/// that reacted, as in `{"red_angry_face": ["KateMcCallister"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reaction(pub BTreeMap<String, Vec<String>>);

impl Reaction {
    /// Reaction names with the usernames that reacted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0
            .iter()
            .map(|(name, usernames)| (name.as_str(), usernames.as_slice()))
    }
}
