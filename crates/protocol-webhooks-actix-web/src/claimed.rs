//! The exactly-once extractor: a verified event whose id this delivery
//! claimed.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::config::registered_deduplicator;
use crate::extract::{LocalFuture, incoming_body, verified_event};
use crate::rejection::WebhookRejection;

/// Extracts a verified, parsed Protocol event and claims its id, so that
/// exactly one delivery of each event runs the handler.
///
/// It checks what [`Webhook`](crate::Webhook) checks, in the same order
/// (size, signature, parsing), and then claims the event id with the
/// [`Deduplicator`](crate::Deduplicator) registered in the app data. Call
/// [`commit`](Self::commit) once the handler's work succeeded; dropped
/// uncommitted — the handler returned an error, panicked, or the request
/// was dropped — it releases the claim, so the sender's next delivery runs
/// the handler.
///
/// Other deliveries do not reach the handler. They are answered with the
/// [`WebhookRejection`]:
///
/// - 200 `{"type":"duplicate",...}` when the event was processed already;
/// - 409 with `Retry-After` while another delivery holds the claim;
/// - 503 with `Retry-After` when the de-duplication store is unreachable;
/// - 500 `{"type":"api_error",...}` without a registered
///   [`WebhookConfig`](crate::WebhookConfig) or `Deduplicator`.
///
/// Dereferences to the [`ClaimedEvent`](crate::ClaimedEvent), which
/// dereferences to the [`Event`](crate::Event).
#[derive(Debug)]
#[must_use = "dropping the claimed webhook releases the claim: commit it once the handler succeeded"]
pub struct ClaimedWebhook(pub crate::ClaimedEvent);

impl FromRequest for ClaimedWebhook {
    type Error = actix_web::Error;
    type Future = LocalFuture<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Both registrations are looked up before the body is read: a
        // missing one is a server bug, answered without reading anything.
        let prepared = incoming_body(request, payload).and_then(|incoming| {
            registered_deduplicator(request).map(|deduplicator| (incoming, deduplicator))
        });
        Box::pin(async move {
            let (incoming, deduplicator) = prepared?;
            // Only an authentic, valid event may claim an id: a forged one
            // must not be able to mark a real event as done or in progress.
            let event = verified_event(incoming).await?;
            let claimed = deduplicator
                .claim(event)
                .await
                .map_err(WebhookRejection::logged)?;
            Ok(Self::accepted(claimed))
        })
    }
}
