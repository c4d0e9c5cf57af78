//! The filters: read the request, verify it, and extract the webhook.

use core::fmt;

use futures_util::Stream;
use protocol_webhooks::{Rejection, VerifiedBody, WebhookConfig};
use warp::http::HeaderMap;
use warp::{Buf, Filter};

use crate::body::{RequestHead, collect_verified};
use crate::rejection::reject;
use crate::{RawWebhook, Webhook};

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
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and_then(verify_request)
}

async fn verify_request<S, B, E>(
    config: WebhookConfig,
    headers: HeaderMap,
    body: S,
) -> Result<VerifiedBody, warp::Rejection>
where
    S: Stream<Item = Result<B, E>>,
    B: Buf,
    E: fmt::Display,
{
    collect_verified(&config, RequestHead::from_headers(&headers), body)
        .await
        .map_err(reject)
}

async fn parse_event(body: VerifiedBody) -> Result<Webhook, warp::Rejection> {
    body.parse()
        .map(Webhook)
        .map_err(|error| reject(Rejection::InvalidEvent(error)))
}
