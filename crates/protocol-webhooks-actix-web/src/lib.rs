#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod body;
mod claimed;
mod config;
mod extract;
mod rejection;

pub use claimed::ClaimedWebhook;
pub use extract::{RawWebhook, Webhook};
pub use protocol_webhooks;
pub use protocol_webhooks::dedup::{ClaimedEvent, Deduplicator, StoreError, Unclaimed};
pub use protocol_webhooks::events::{Event, EventType, Payload};
pub use protocol_webhooks::{Answer, Rejection, VerifiedBody, WebhookConfig};
pub use rejection::WebhookRejection;
