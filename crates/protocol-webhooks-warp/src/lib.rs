#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod body;
mod extract;
mod filter;
#[cfg(feature = "inbox")]
mod inbox;
mod rejection;

pub use protocol_webhooks;
pub use protocol_webhooks::prelude::*;

protocol_webhooks::__impl_extractor!(Webhook, RawWebhook, ClaimedWebhook, WebhookRejection);

pub use extract::{ClaimedWebhook, RawWebhook, Webhook};
pub use filter::{claimed_webhook, raw_webhook, webhook};
#[cfg(feature = "inbox")]
pub use inbox::{InboxWebhook, inbox_webhook};
pub use rejection::{WebhookRejection, recover};

#[cfg(feature = "inbox")]
protocol_webhooks_inbox::__impl_inbox_extractor!(InboxWebhook);
