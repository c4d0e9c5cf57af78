//! Every check a request passes before the inner service sees it: the
//! method, then the core's size, signature, parse and claim.

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use http_body::Body;
use http_body_util::{BodyDataStream, Full};
use protocol_webhooks::dedup::Deduplicator;
use protocol_webhooks::{Rejection, RequestHead, VerifiedBody, WebhookConfig};

use crate::{ClaimedWebhook, PendingClaim, RawWebhook, Webhook, WebhookRejection};

/// The configuration a layer and each of its services share.
#[derive(Debug, Clone)]
pub(crate) struct Verification {
    pub(crate) config: WebhookConfig,
    pub(crate) hands_over: HandsOver,
}

/// What the inner service gets in the request's extensions.
#[derive(Debug, Clone)]
pub(crate) enum HandsOver {
    /// [`Webhook`]: the body is parsed.
    Event,
    /// [`RawWebhook`]: the body is not parsed.
    Raw,
    /// [`PendingClaim`]: the body is parsed and the event's id claimed.
    Claim(Deduplicator),
}

impl Verification {
    /// The request for the inner service, with the verified bytes as its
    /// body and what it [`HandsOver`] in its extensions; or the answer, logged.
    pub(crate) async fn admit<B: Body>(
        &self,
        request: Request<B>,
    ) -> Result<Request<Full<Bytes>>, WebhookRejection> {
        let (mut parts, body) = request.into_parts();
        if parts.method != Method::POST {
            return Err(WebhookRejection::method_not_allowed());
        }
        let verified = read_verified(&self.config, &parts.headers, body)
            .await
            .map_err(WebhookRejection::logged)?;
        let bytes = Bytes::copy_from_slice(verified.as_bytes());
        match &self.hands_over {
            HandsOver::Raw => {
                parts.extensions.insert(RawWebhook::accepted(verified));
            }
            HandsOver::Event => {
                let event = verified.into_event().map_err(WebhookRejection::logged)?;
                parts.extensions.insert(Webhook::accepted(event));
            }
            HandsOver::Claim(deduplicator) => {
                // Only an authentic, well-formed event's id is claimed: a
                // forger must not be able to mark ids done or hold them.
                let event = verified.into_event().map_err(WebhookRejection::logged)?;
                let claimed = deduplicator
                    .claim(event)
                    .await
                    .map_err(WebhookRejection::logged)?;
                parts
                    .extensions
                    .insert(PendingClaim::new(ClaimedWebhook::accepted(claimed)));
            }
        }
        // The inner service reads a whole body: its framing headers must
        // describe that body, not the chunks it arrived in.
        parts.headers.remove(http::header::TRANSFER_ENCODING);
        parts.headers.insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(bytes.len()),
        );
        Ok(Request::from_parts(parts, Full::new(bytes)))
    }
}

/// Hands the head and the body's data frames to the core's collector.
///
/// hyper derives the body's exact size hint from `Content-Length` and holds
/// the body to it, so the hint replaces the header when there is one; the
/// header still counts for a body a middleware re-wrapped without a hint.
/// Trailers carry no body bytes: only data frames are signed.
pub(crate) async fn read_verified<B: Body>(
    config: &WebhookConfig,
    headers: &HeaderMap,
    body: B,
) -> Result<VerifiedBody, Rejection> {
    let head = RequestHead::from_headers(headers).with_declared_length(body.size_hint().exact());
    config
        .collect_body(head)?
        .collect(BodyDataStream::new(body))
        .await
}
