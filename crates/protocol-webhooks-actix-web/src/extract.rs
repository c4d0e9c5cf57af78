//! The extractors: a verified event, or a verified raw body.

use core::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use protocol_webhooks::events::Event;

use crate::body::IncomingBody;
use crate::config::registered_config;
use crate::rejection::WebhookRejection;

/// actix-web's payload stream is not `Send`, so neither is extraction.
pub(crate) type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

/// Extracts a verified, parsed Protocol event.
///
/// The body is read under the configured limit, its `x-protocol-signature`
/// checked against the configured secrets, and only then parsed. On failure
/// the handler does not run and the client gets the
/// [`WebhookRejection`] answer (401, 413 or 400); without a registered
/// [`WebhookConfig`](crate::WebhookConfig) it gets a 500.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook(pub Event);

/// Extracts the verified raw body without parsing it, for receivers that
/// store or enqueue the bytes and parse later.
///
/// Verification is the same as for [`Webhook`]: size, then signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawWebhook(pub crate::VerifiedBody);

impl FromRequest for Webhook {
    type Error = actix_web::Error;
    type Future = LocalFuture<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let incoming = incoming_body(request, payload);
        Box::pin(async move { Ok(Self::accepted(verified_event(incoming?).await?)) })
    }
}

impl FromRequest for RawWebhook {
    type Error = actix_web::Error;
    type Future = LocalFuture<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let incoming = incoming_body(request, payload);
        Box::pin(async move {
            let body = incoming?.verify().await.map_err(WebhookRejection::logged)?;
            Ok(Self::accepted(body))
        })
    }
}

/// Takes what verification needs from the request now, so the returned
/// future owns everything it uses.
pub(crate) fn incoming_body(
    request: &HttpRequest,
    payload: &mut Payload,
) -> Result<IncomingBody, WebhookRejection> {
    let config = registered_config(request)?;
    Ok(IncomingBody::new(config, request.headers(), payload.take()))
}

/// Size, signature, then parsing: everything [`Webhook`] checks, shared
/// with the exactly-once extractor.
pub(crate) async fn verified_event(incoming: IncomingBody) -> Result<Event, WebhookRejection> {
    let body = incoming.verify().await.map_err(WebhookRejection::logged)?;
    body.into_event().map_err(WebhookRejection::logged)
}
