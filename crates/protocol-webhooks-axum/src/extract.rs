//! The extractors: a verified, parsed event, or only the verified raw body.

use axum_core::extract::{FromRef, FromRequest, Request};
use protocol_webhooks::WebhookConfig;

use crate::WebhookRejection;
use crate::body::{read_event, read_verified};

/// Extracts a verified Protocol event from the request.
///
/// The body is read under the configured limit, its `x-protocol-signature`
/// is checked against every configured secret, and only then is it parsed;
/// on any failure the handler does not run and the client gets a
/// [`WebhookRejection`]. Requires `WebhookConfig: FromRef<S>` for the
/// router's state `S`. It reads the body, so it must be the handler's last
/// argument.
///
/// Forgetting the configuration is a compile error, not a failure at run
/// time: without `.with_state(config)` the router's state is `()`.
///
/// ```compile_fail
/// use axum::{Router, routing::post};
/// use protocol_webhooks_axum::Webhook;
///
/// async fn on_webhook(Webhook(event): Webhook) -> String {
///     event.id
/// }
///
/// let app: Router = Router::new().route("/webhooks", post(on_webhook));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook(pub crate::Event);

/// Extracts only the verified raw body, unparsed.
///
/// For handlers that store or enqueue the exact bytes and parse them later
/// with [`VerifiedBody::parse`](crate::VerifiedBody::parse). Size and
/// signature are checked as for [`Webhook`]; the body need not be an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawWebhook(pub crate::VerifiedBody);

impl<S> FromRequest<S> for Webhook
where
    S: Send + Sync,
    WebhookConfig: FromRef<S>,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let config = WebhookConfig::from_ref(state);
        read_event(&config, request)
            .await
            .map(Self::accepted)
            .map_err(WebhookRejection::logged)
    }
}

impl<S> FromRequest<S> for RawWebhook
where
    S: Send + Sync,
    WebhookConfig: FromRef<S>,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let config = WebhookConfig::from_ref(state);
        read_verified(&config, request)
            .await
            .map(Self::accepted)
            .map_err(WebhookRejection::logged)
    }
}
