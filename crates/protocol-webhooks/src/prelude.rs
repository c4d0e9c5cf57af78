//! The nouns a receiver names, re-exported by every framework adapter so
//! that each offers them under the same names: `use
//! protocol_webhooks_axum::{Event, Payload, WebhookConfig}` reads the same
//! in all five.

pub use crate::dedup::{ClaimedEvent, Deduplicator, StoreError, Unclaimed};
pub use crate::events::{Event, EventType, Payload};
pub use crate::{Answer, Key, MatchedKey, Rejection, VerifiedBody, WebhookConfig};
