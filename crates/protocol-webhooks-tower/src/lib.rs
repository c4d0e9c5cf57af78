#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod claimed;
mod extract;
mod future;
#[cfg(feature = "inbox")]
mod inbox;
mod layer;
mod rejection;
mod response;
mod service;
mod verify;

pub use protocol_webhooks;
pub use protocol_webhooks::prelude::*;

protocol_webhooks::__impl_extractor!(Webhook, RawWebhook, ClaimedWebhook, WebhookRejection);

pub use claimed::{ClaimedWebhook, PendingClaim};
pub use extract::{RawWebhook, Webhook};
pub use future::ResponseFuture;
#[cfg(feature = "inbox")]
pub use inbox::{InboxService, InboxWebhook};
pub use layer::WebhookLayer;
pub use rejection::WebhookRejection;
pub use response::ResponseBody;
pub use service::WebhookService;

#[cfg(feature = "inbox")]
protocol_webhooks_inbox::__impl_inbox_extractor!(InboxWebhook);
