#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod body;
mod extract;
mod filter;
mod rejection;

pub use protocol_webhooks;
pub use protocol_webhooks::{
    Answer, Rejection, VerifiedBody, WebhookConfig,
    dedup::{ClaimedEvent, Deduplicator, Unclaimed},
    events::{Event, EventType, Payload},
};

pub use extract::{ClaimedWebhook, RawWebhook, Webhook};
pub use filter::{claimed_webhook, raw_webhook, webhook};
pub use rejection::{WebhookRejection, recover};
