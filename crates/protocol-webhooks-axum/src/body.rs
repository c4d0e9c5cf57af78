//! Reading the request body under the configured limit while hashing it.

use axum_core::extract::Request;
use http_body::Body as _;
use protocol_webhooks::events::Event;
use protocol_webhooks::{Rejection, RequestHead, VerifiedBody, WebhookConfig};

/// Hands the head and the body's data frames to the core's collector.
///
/// hyper derives the body's exact size hint from `Content-Length` and holds
/// the body to it, so the hint replaces the header when there is one; the
/// header still counts for a body a middleware re-wrapped without a hint.
/// Trailers carry no body bytes: only data frames are signed.
pub(crate) async fn read_verified(
    config: &WebhookConfig,
    request: Request,
) -> Result<VerifiedBody, Rejection> {
    let (parts, body) = request.into_parts();
    let head =
        RequestHead::from_headers(&parts.headers).with_declared_length(body.size_hint().exact());
    config
        .collect_body(head)?
        .collect(body.into_data_stream())
        .await
}

/// Reads, verifies and only then parses the event.
pub(crate) async fn read_event(
    config: &WebhookConfig,
    request: Request,
) -> Result<Event, Rejection> {
    Ok(read_verified(config, request).await?.into_event()?)
}
