#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod body;
mod extract;
mod filter;
mod rejection;

pub use protocol_webhooks;
pub use protocol_webhooks::prelude::*;

protocol_webhooks::__impl_extractor!(Webhook, RawWebhook, ClaimedWebhook, WebhookRejection);

pub use extract::{ClaimedWebhook, RawWebhook, Webhook};
pub use filter::{claimed_webhook, raw_webhook, webhook};
pub use rejection::{WebhookRejection, recover};
