//! The filters: read the request, verify it, and extract the webhook.

use core::fmt;

use core::convert::Infallible;
use futures_util::Stream;
use protocol_webhooks::dedup::Deduplicator;
use protocol_webhooks::{Rejection, VerifiedBody, WebhookConfig};

use warp::http::HeaderMap;
use warp::{Buf, Filter};

use crate::body::{RequestHead, collect_verified};
use crate::rejection::reject;
use crate::{ClaimedWebhook, RawWebhook, Webhook};

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
    verified_body(config).and_then(parse_event)
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
    webhook(config)
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
    verified_body(config).map(RawWebhook)
}

fn verified_body(
    config: WebhookConfig,
) -> impl Filter<Extract = (VerifiedBody,), Error = warp::Rejection> + Clone {
    warp::any()
        .map(move || config.clone())
        .and(request_head())
        .and(warp::body::stream())
        .and_then(verify_request)
}

/// Takes what verification needs from the request head.
///
/// Every value of the signature header is needed to refuse a repeated one,
/// and warp's only filter that sees more than a header's first value is
/// `headers_cloned`: the map is cloned once per request, and the cost of
/// that clone is what refusing a repeated header costs on warp.
fn request_head() -> impl Filter<Extract = (RequestHead,), Error = Infallible> + Clone {
    warp::header::headers_cloned().map(|headers: HeaderMap| RequestHead::from_headers(&headers))
}

async fn verify_request<S, B, E>(
    config: WebhookConfig,
    head: RequestHead,
    body: S,
) -> Result<VerifiedBody, warp::Rejection>
where
    S: Stream<Item = Result<B, E>>,
    B: Buf,
    E: fmt::Display,
{
    collect_verified(&config, head, body).await.map_err(reject)
}

async fn parse_event(body: VerifiedBody) -> Result<Webhook, warp::Rejection> {
    body.into_event()
        .map(Webhook)
        .map_err(|error| reject(Rejection::InvalidEvent(error)))
}

async fn claim_event(
    Webhook(event): Webhook,
    deduplicator: Deduplicator,
) -> Result<ClaimedWebhook, warp::Rejection> {
    deduplicator
        .claim(event)
        .await
        .map(ClaimedWebhook)
        .map_err(reject)
}
