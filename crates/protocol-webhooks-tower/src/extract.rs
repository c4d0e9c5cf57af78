//! What a verified request carries to the inner service.

/// The verified, parsed event, in the extensions of every request that a
/// [`WebhookLayer::new`](crate::WebhookLayer::new) layer passes on.
///
/// Only a request whose body was within the limit, whose
/// `x-protocol-signature` matched one of the configured secrets and whose
/// body is a Protocol event gets one; read it with
/// `request.extensions().get::<Webhook>()`, or in axum with
/// `Extension<Webhook>`. The request's body is the same bytes, unchanged.
///
/// ```
/// use http::Request;
/// use http_body_util::Full;
/// use bytes::Bytes;
/// use protocol_webhooks_tower::Webhook;
///
/// fn event_id(request: &Request<Full<Bytes>>) -> Option<&str> {
///     request.extensions().get::<Webhook>().map(|webhook| webhook.id.as_str())
/// }
/// # let _ = event_id;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook(pub crate::Event);

/// The verified body, unparsed, in the extensions of every request that a
/// [`WebhookLayer::raw`](crate::WebhookLayer::raw) layer passes on.
///
/// For services that store or enqueue the exact bytes and parse them later
/// with [`VerifiedBody::parse`](crate::VerifiedBody::parse). Size and
/// signature are checked as for [`Webhook`]; the body need not be an event.
/// The request's body is the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawWebhook(pub crate::VerifiedBody);
