#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod body;
mod catchers;
mod claimed;
mod extract;
mod fairing;
mod outcome;
mod rejection;

pub use protocol_webhooks;
pub use protocol_webhooks::{
    Answer, Rejection, VerifiedBody, WebhookConfig,
    dedup::{ClaimedEvent, Deduplicator, Unclaimed},
    events::{Event, EventType, Payload},
};

pub use catchers::catchers;
pub use claimed::ClaimedWebhook;
pub use extract::{RawWebhook, Webhook};
pub use fairing::WebhookFairing;
pub use rejection::WebhookRejection;
