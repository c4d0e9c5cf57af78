//! The exactly-once extractor: a verified event whose id this delivery
//! claimed.

use poem::{FromRequest, Request, RequestBody};

use crate::WebhookRejection;
use crate::config::{deduplicator, webhook_config};
use crate::extract::verified_event;

/// Extracts a verified, parsed event, like [`Webhook`](crate::Webhook), and
/// claims its id with the [`Deduplicator`](crate::Deduplicator) so that only
/// one delivery of each event runs the handler.
///
/// Needs a [`WebhookConfig`](crate::WebhookConfig) and a
/// [`Deduplicator`](crate::Deduplicator), both added with `.data(...)`.
/// Call [`commit`](Self::commit) once the handler's work succeeded; dropped
/// uncommitted (the handler returned an error, panicked, or the request was
/// dropped) it releases the claim, so the sender's next delivery runs the
/// handler again.
///
/// The handler does not run when the event was processed already (answered
/// 200 with `{"type":"duplicate",...}`, so the sender stops retrying), while
/// another delivery holds the claim (409 with `Retry-After`), or when the
/// store cannot be reached (503 with `Retry-After`).
///
/// ```
/// use poem::handler;
/// use poem::http::StatusCode;
/// use protocol_webhooks_poem::ClaimedWebhook;
///
/// #[handler]
/// async fn on_webhook(claimed: ClaimedWebhook) -> StatusCode {
///     tracing::info!(id = %claimed.id, "handling {}", claimed.event_type);
///     // The work is done: a failed commit only means a redelivery may run
///     // the handler again.
///     if let Err(error) = claimed.commit().await {
///         tracing::warn!(%error, "could not mark the event done");
///     }
///     StatusCode::OK
/// }
/// ```
#[derive(Debug)]
#[must_use = "dropping the claimed webhook releases the claim: commit it once the handler succeeded"]
pub struct ClaimedWebhook(pub crate::ClaimedEvent);

impl<'a> FromRequest<'a> for ClaimedWebhook {
    async fn from_request(request: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        // Both are looked up before the body is read: without either the
        // request can only get a 500.
        let config = webhook_config(request)?;
        let deduplicator = deduplicator(request)?;
        let event = verified_event(request, body, config).await?;
        let claimed = deduplicator
            .claim(event)
            .await
            .map_err(WebhookRejection::logged)?;
        Ok(Self::accepted(claimed))
    }
}
