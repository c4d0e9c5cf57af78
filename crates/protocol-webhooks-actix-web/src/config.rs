//! Finding the [`WebhookConfig`] in the app data, and the answer when it is
//! not there.

use core::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use protocol_webhooks::{REJECTION_CONTENT_TYPE, WebhookConfig};

/// The configuration registered with `App::app_data(config)` or
/// `App::app_data(web::Data::new(config))`, the innermost one winning.
pub(crate) fn registered_config(request: &HttpRequest) -> Result<WebhookConfig, MissingConfig> {
    request
        .app_data::<WebhookConfig>()
        .or_else(|| {
            request
                .app_data::<web::Data<WebhookConfig>>()
                .map(web::Data::get_ref)
        })
        .cloned()
        .ok_or_else(|| {
            tracing::error!(
                "no WebhookConfig in the app data: register one with \
                 `App::app_data(config)` or `App::app_data(web::Data::new(config))`"
            );
            MissingConfig
        })
}

/// No [`WebhookConfig`] was registered: a bug in the server, not in the
/// request, hence 500.
#[derive(Debug)]
pub(crate) struct MissingConfig;

impl MissingConfig {
    /// Protocol's error format, as every rejection uses.
    const JSON: &'static str =
        r#"{"type":"invalid_request","message":"webhook configuration is missing"}"#;
}

impl fmt::Display for MissingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("webhook configuration is missing")
    }
}

impl core::error::Error for MissingConfig {}

impl ResponseError for MissingConfig {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type(REJECTION_CONTENT_TYPE)
            .body(Self::JSON)
    }
}
