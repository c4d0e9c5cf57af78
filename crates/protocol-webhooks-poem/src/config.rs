//! Finding the [`WebhookConfig`] registered on the route.

use core::fmt;

use poem::error::ResponseError;
use poem::http::StatusCode;
use poem::{Request, Response};
use protocol_webhooks::{REJECTION_CONTENT_TYPE, WebhookConfig};

/// The error answered when no [`WebhookConfig`] was registered with
/// `.data(config)` on the route or app: a server bug, answered with 500.
///
/// Its body has the same shape as every rejection,
/// `{"type":"invalid_request","message":"..."}`, and names only the missing
/// configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MissingWebhookConfig;

impl MissingWebhookConfig {
    const MESSAGE: &'static str = "the webhook configuration is missing";
    const JSON: &'static str =
        r#"{"type":"invalid_request","message":"the webhook configuration is missing"}"#;
}

impl fmt::Display for MissingWebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::MESSAGE)
    }
}

impl core::error::Error for MissingWebhookConfig {}

impl ResponseError for MissingWebhookConfig {
    fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn as_response(&self) -> Response {
        Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .content_type(REJECTION_CONTENT_TYPE)
            .body(Self::JSON)
    }
}

/// The configuration added with `.data(config)`, or the 500 for a server
/// that forgot it.
pub(crate) fn webhook_config(request: &Request) -> Result<&WebhookConfig, MissingWebhookConfig> {
    request.data::<WebhookConfig>().ok_or_else(|| {
        tracing::error!(
            path = request.uri().path(),
            "no WebhookConfig registered: add `.data(config)` to the route or app"
        );
        MissingWebhookConfig
    })
}
