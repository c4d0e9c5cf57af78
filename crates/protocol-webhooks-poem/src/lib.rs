#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod body;
mod claimed;
mod config;
mod extract;
#[cfg(feature = "inbox")]
mod inbox;
mod rejection;

pub use protocol_webhooks;
pub use protocol_webhooks::prelude::*;

protocol_webhooks::__impl_extractor!(Webhook, RawWebhook, ClaimedWebhook, WebhookRejection);

pub use claimed::ClaimedWebhook;
pub use extract::{RawWebhook, Webhook};
#[cfg(feature = "inbox")]
pub use inbox::InboxWebhook;
pub use rejection::WebhookRejection;

#[cfg(feature = "inbox")]
protocol_webhooks_inbox::__impl_inbox_extractor!(InboxWebhook);
