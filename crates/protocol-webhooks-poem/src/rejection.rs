//! The HTTP answer to a refused webhook.

use poem::error::ResponseError;
use poem::http::header::{CONNECTION, RETRY_AFTER};
use poem::http::{HeaderValue, StatusCode};
use poem::{IntoResponse, Response};
use protocol_webhooks::{REJECTION_CONTENT_TYPE, Rejection};

protocol_webhooks::__extractor_types! {
    /// A refused webhook request, answered with the status, JSON body and
    /// `Retry-After` of the [`Rejection`] inside.
    ///
    /// The extractors return it (as a [`poem::Error`]) when the body is too
    /// large (413), the signature is missing, sent more than once, malformed or
    /// wrong (401), the body is not a valid event or could not be read (400), or
    /// the configuration is missing (500);
    /// [`ClaimedWebhook`](crate::ClaimedWebhook) also when the event was
    /// processed already (200, and the handler does not run), is being
    /// processed by another delivery (409) or cannot be claimed because the
    /// store is unavailable (503). It is a separate type because Poem's
    /// response traits cannot be implemented on the core's [`Rejection`] from
    /// this crate.
    ///
    /// ```
    /// use std::time::Duration;
    /// use poem::IntoResponse;
    /// use poem::error::ResponseError;
    /// use protocol_webhooks_poem::{Rejection, WebhookRejection};
    ///
    /// let rejection = WebhookRejection::from(Rejection::PayloadTooLarge { limit: 1024 });
    /// assert_eq!(rejection.status().as_u16(), 413);
    /// assert_eq!(rejection.rejection().reason(), "payload_too_large");
    ///
    /// let busy = WebhookRejection::from(Rejection::InProgress {
    ///     retry_after: Duration::from_millis(2500),
    /// });
    /// let response = busy.into_response();
    /// assert_eq!(response.status().as_u16(), 409);
    /// assert_eq!(response.headers()["retry-after"], "3");
    /// ```
    pub struct WebhookRejection;
}

impl ResponseError for WebhookRejection {
    fn status(&self) -> StatusCode {
        // Every status the core returns is a valid code; the fallback only
        // keeps this total.
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::BAD_REQUEST)
    }

    fn as_response(&self) -> Response {
        let mut response = Response::builder()
            .status(ResponseError::status(self))
            .content_type(REJECTION_CONTENT_TYPE)
            .body(self.0.to_json());
        if let Some(seconds) = self.0.retry_after() {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.0.closes_connection() {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        self.as_response()
    }
}

/// Logs a refusal by its class only, never the header, the body or a
/// secret, and wraps it for Poem. A duplicate is logged at `info`: it is
/// the sender retrying, answered 200, not something to look into.
pub(crate) fn rejected(rejection: Rejection) -> WebhookRejection {
    let reason = rejection.reason();
    let status = rejection.status();
    if matches!(rejection, Rejection::AlreadyProcessed { .. }) {
        tracing::info!(reason, status, "webhook already processed");
    } else {
        tracing::warn!(reason, status, "webhook rejected");
    }
    WebhookRejection::from(rejection)
}
