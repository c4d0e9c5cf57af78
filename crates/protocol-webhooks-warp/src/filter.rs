//! The filters: read the request, verify it, and extract the webhook.

use protocol_webhooks::dedup::Deduplicator;
use protocol_webhooks::events::Event;
use protocol_webhooks::{VerifiedBody, WebhookConfig};
use warp::Filter;

use crate::body::verified_body;
use crate::{ClaimedWebhook, RawWebhook, Webhook, WebhookRejection};

/// A filter that extracts a verified, parsed [`Webhook`].
///
/// It checks the size (`config`'s body limit), then the `x-protocol-signature`
/// header against every configured secret, then parses the event, and
/// rejects with a [`WebhookRejection`](crate::WebhookRejection) at the first
/// check that fails. Add [`recover`](crate::recover) to answer those
/// rejections with Protocol's JSON error.
///
/// The filter reads the request body, so put it after the path and method
/// filters of its route.
pub fn webhook(
    config: WebhookConfig,
) -> impl Filter<Extract = (Webhook,), Error = warp::Rejection> + Clone {
    verified_body(config)
        .and_then(parse_event)
        .map(Webhook::accepted)
}

/// A filter that extracts a verified, parsed event whose id this delivery
/// claimed in `deduplicator`: a [`ClaimedWebhook`], for handlers that must
/// run exactly once per event.
///
/// It runs the checks of [`webhook`] first, so only authentic, valid events
/// are claimed. Then it claims the event id; when another delivery has the
/// event, it rejects with a [`WebhookRejection`](crate::WebhookRejection)
/// that [`recover`](crate::recover) answers as
///
/// | the event is | answer |
/// |---|---|
/// | done: a delivery committed it | 200 `{"type":"duplicate",...}`, the handler does not run |
/// | claimed by a delivery still running | 409 with `Retry-After` (the rest of its lease) |
/// | unknown: the store cannot be used | 503 with `Retry-After` |
///
/// The handler calls [`ClaimedWebhook::commit`] once its work succeeded;
/// dropping the claim uncommitted releases it, so the next delivery runs the
/// handler.
///
/// `deduplicator` is cheap to clone; give every route that handles the
/// same events a clone of the same one (or, across replicas, one over the
/// same shared store).
pub fn claimed_webhook(
    config: WebhookConfig,
    deduplicator: Deduplicator,
) -> impl Filter<Extract = (ClaimedWebhook,), Error = warp::Rejection> + Clone {
    verified_body(config)
        .and_then(parse_event)
        .and(warp::any().map(move || deduplicator.clone()))
        .and_then(claim_event)
}

/// A filter that extracts a verified, unparsed [`RawWebhook`].
///
/// The same size and signature checks as [`webhook`], without parsing: the
/// body need not be an event, or even JSON.
pub fn raw_webhook(
    config: WebhookConfig,
) -> impl Filter<Extract = (RawWebhook,), Error = warp::Rejection> + Clone {
    verified_body(config).map(RawWebhook::accepted)
}

async fn parse_event(body: VerifiedBody) -> Result<Event, warp::Rejection> {
    body.into_event()
        .map_err(|error| warp::reject::custom(WebhookRejection::logged(error)))
}

async fn claim_event(
    event: Event,
    deduplicator: Deduplicator,
) -> Result<ClaimedWebhook, warp::Rejection> {
    deduplicator
        .claim(event)
        .await
        .map(ClaimedWebhook::accepted)
        .map_err(|unclaimed| warp::reject::custom(WebhookRejection::logged(unclaimed)))
}
