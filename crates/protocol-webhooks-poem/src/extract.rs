//! The extractors: a verified, parsed event and a verified raw body.

use poem::{FromRequest, Request, RequestBody};
use protocol_webhooks::WebhookConfig;
use protocol_webhooks::events::Event;

use crate::WebhookRejection;
use crate::body::read_verified_body;
use crate::config::webhook_config;

/// Extracts a webhook whose signature was verified, parsed into an [`Event`].
///
/// The handler runs only for an authentic, valid event; otherwise the
/// request is answered with a [`WebhookRejection`](crate::WebhookRejection).
/// Needs a [`WebhookConfig`] added with `.data(config)`.
///
/// ```
/// use poem::handler;
/// use protocol_webhooks_poem::{Payload, Webhook};
///
/// #[handler]
/// async fn on_webhook(Webhook(event): Webhook) -> String {
///     match event.payload {
///         Payload::Message(message) => format!("message {}", message.id),
///         _ => format!("event {}", event.id),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook(pub Event);

/// Extracts only the verified raw body, for handlers that store or enqueue
/// it and parse later (with [`VerifiedBody::parse`](crate::VerifiedBody::parse)).
///
/// The size limit and the signature are checked exactly as for [`Webhook`];
/// the body is not parsed, so any authentic bytes pass.
///
/// ```
/// use poem::handler;
/// use protocol_webhooks_poem::RawWebhook;
///
/// #[handler]
/// async fn on_raw_webhook(RawWebhook(body): RawWebhook) -> Vec<u8> {
///     body.into_bytes()
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawWebhook(pub crate::VerifiedBody);

impl<'a> FromRequest<'a> for Webhook {
    async fn from_request(request: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let config = webhook_config(request)?;
        Ok(Self::accepted(verified_event(request, body, config).await?))
    }
}

/// Reads, verifies and parses the body: what [`Webhook`] extracts, and what
/// [`ClaimedWebhook`](crate::ClaimedWebhook) claims.
pub(crate) async fn verified_event(
    request: &Request,
    body: &mut RequestBody,
    config: &WebhookConfig,
) -> poem::Result<Event> {
    let verified = read_verified_body(request, body.take()?, config)
        .await
        .map_err(WebhookRejection::logged)?;
    let event = verified.into_event().map_err(WebhookRejection::logged)?;
    Ok(event)
}

impl<'a> FromRequest<'a> for RawWebhook {
    async fn from_request(request: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let config = webhook_config(request)?;
        let verified = read_verified_body(request, body.take()?, config)
            .await
            .map_err(WebhookRejection::logged)?;
        Ok(Self::accepted(verified))
    }
}
