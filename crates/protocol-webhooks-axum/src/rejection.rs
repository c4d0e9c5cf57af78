//! The extractors' rejection as an axum response.

use core::fmt;

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use protocol_webhooks::{REJECTION_CONTENT_TYPE, Rejection};

/// Why [`Webhook`](crate::Webhook) or [`RawWebhook`](crate::RawWebhook)
/// refused a request.
///
/// As a response it is the status of [`Rejection::status`] (401, 413 or
/// 400) with Protocol's JSON error body,
/// `{"type":"invalid_request","message":"..."}`. It wraps the core's
/// [`Rejection`] because axum's `IntoResponse` cannot be implemented for a
/// type of another crate.
#[derive(Debug)]
pub struct WebhookRejection(Rejection);

impl WebhookRejection {
    /// The reason the request was refused.
    #[must_use]
    pub fn rejection(&self) -> &Rejection {
        &self.0
    }

    /// Takes the reason the request was refused.
    #[must_use]
    pub fn into_inner(self) -> Rejection {
        self.0
    }

    /// The HTTP status this rejection answers with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        // Every status the core defines is a valid code; the fallback keeps
        // this total without a panic path.
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::BAD_REQUEST)
    }
}

impl From<Rejection> for WebhookRejection {
    fn from(rejection: Rejection) -> Self {
        Self(rejection)
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Transparent: `Display` already shows the rejection, so the source is the
/// rejection's own cause.
impl core::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.0.source()
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.0.to_json()));
        *response.status_mut() = self.status();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(REJECTION_CONTENT_TYPE),
        );
        response
    }
}
