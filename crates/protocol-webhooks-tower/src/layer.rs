//! The layer: what to verify, and what to hand the inner service.

use protocol_webhooks::WebhookConfig;
use protocol_webhooks::dedup::Deduplicator;
use tower_layer::Layer;

use crate::WebhookService;
use crate::verify::{HandsOver, Verification};

/// A [`tower::Layer`](tower_layer::Layer) that verifies Protocol webhooks
/// in front of an `http` service.
///
/// The [`WebhookService`] it makes answers every request that is not an
/// authentic Protocol webhook itself, from the core's
/// [`Answer`](crate::Answer), and calls the inner service only with one
/// that is:
///
/// 1. a method other than `POST` is answered 405 with `Allow: POST`;
/// 2. the body is read under the configured limit and deadline, and
///    refused with 413 (by its `Content-Length` before a byte is read, or
///    as it streams), 400 when cut short or 408 when too slow;
/// 3. `x-protocol-signature` is checked against every configured secret
///    over the exact bytes: 401 when missing, repeated, malformed or wrong;
/// 4. the body is parsed as an event (400 when it is not one), except for
///    a [`raw`](Self::raw) layer;
/// 5. for an [`exactly_once`](Self::exactly_once) layer, the event's id is
///    claimed (200 `duplicate`, 409 or 503 when this delivery does not get
///    the claim).
///
/// The inner service then gets a `Request<Full<Bytes>>` with the method,
/// URI, headers and extensions of the original and the verified bytes as
/// its body, plus [`Webhook`](crate::Webhook),
/// [`RawWebhook`](crate::RawWebhook) or [`PendingClaim`](crate::PendingClaim)
/// in its extensions. Each refusal is logged once, by the core.
///
/// Cloning it is cheap: the configuration and the de-duplicator are
/// reference-counted.
///
/// ```
/// use protocol_webhooks_tower::{WebhookConfig, WebhookLayer};
/// use tower::ServiceBuilder;
/// # async fn handle(_: http::Request<http_body_util::Full<bytes::Bytes>>)
/// #     -> Result<http::Response<String>, std::convert::Infallible> { Ok(Default::default()) }
///
/// let service = ServiceBuilder::new()
///     .layer(WebhookLayer::new(WebhookConfig::new("whsec_from_protocol")?))
///     .service_fn(handle);
/// # let _ = service;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct WebhookLayer {
    verification: Verification,
}

impl WebhookLayer {
    /// Verifies and parses: the inner service gets a
    /// [`Webhook`](crate::Webhook) in the request's extensions.
    #[must_use]
    pub fn new(config: WebhookConfig) -> Self {
        Self::handing_over(config, HandsOver::Event)
    }

    /// Verifies without parsing: the inner service gets a
    /// [`RawWebhook`](crate::RawWebhook) in the request's extensions, and
    /// any signed body passes, event or not.
    #[must_use]
    pub fn raw(config: WebhookConfig) -> Self {
        Self::handing_over(config, HandsOver::Raw)
    }

    /// Verifies, parses, and claims the event's id with `deduplicator`, so
    /// that exactly one delivery of each event reaches the inner service,
    /// across retries and replicas. The inner service gets a
    /// [`PendingClaim`](crate::PendingClaim) in the request's extensions
    /// instead of a [`Webhook`](crate::Webhook); it takes the
    /// [`ClaimedWebhook`](crate::ClaimedWebhook) with
    /// [`ClaimedWebhook::take_from`](crate::ClaimedWebhook::take_from) and
    /// commits it once its work succeeded.
    ///
    /// The event is parsed whichever constructor made the layer: only an
    /// event has an id to claim.
    #[must_use]
    pub fn exactly_once(self, deduplicator: Deduplicator) -> Self {
        Self::handing_over(self.verification.config, HandsOver::Claim(deduplicator))
    }

    fn handing_over(config: WebhookConfig, hands_over: HandsOver) -> Self {
        Self {
            verification: Verification { config, hands_over },
        }
    }
}

impl<S> Layer<S> for WebhookLayer {
    type Service = WebhookService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WebhookService::new(inner, self.verification.clone())
    }
}
