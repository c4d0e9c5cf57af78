#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod body;
mod claimed;
mod extract;
mod rejection;

pub use claimed::ClaimedWebhook;
pub use extract::{RawWebhook, Webhook};
pub use protocol_webhooks;
pub use protocol_webhooks::prelude::*;

protocol_webhooks::__impl_extractor!(Webhook, RawWebhook, ClaimedWebhook, WebhookRejection);
pub use rejection::WebhookRejection;
