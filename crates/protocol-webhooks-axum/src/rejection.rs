//! The extractors' rejection as an axum response.

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;

/// Why [`Webhook`](crate::Webhook), [`RawWebhook`](crate::RawWebhook) or
/// [`ClaimedWebhook`](crate::ClaimedWebhook) did not run the handler.
///
/// As a response it is exactly the core's [`Answer`](crate::Answer): its
/// status, Protocol's JSON error body, and its headers (`Content-Type`,
/// `Retry-After` on the 409 and 503 of
/// [`ClaimedWebhook`](crate::ClaimedWebhook), `Connection: close` when
/// the body was not read to its end). An event that was processed
/// already is answered 200 with `{"type":"duplicate",...}`, so the sender
/// stops retrying. It wraps the `Answer` because axum's `IntoResponse`
/// cannot be implemented for a type of another crate.
///
/// ```
/// use std::time::Duration;
/// use axum::response::IntoResponse;
/// use protocol_webhooks_axum::{Unclaimed, WebhookRejection};
///
/// let busy = WebhookRejection::from(Unclaimed::InProgress {
///     event_id: "evt_1".to_owned(),
///     retry_after: Duration::from_millis(2500),
/// });
/// let response = busy.into_response();
/// assert_eq!(response.status(), 409);
/// assert_eq!(response.headers()["retry-after"], "3");
/// assert_eq!(response.headers()["content-type"], "application/json");
/// ```
#[derive(Debug)]
pub struct WebhookRejection(pub(crate) crate::Answer);

impl WebhookRejection {
    /// The HTTP status this rejection answers with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        // Every status the core gives is a valid code; the fallback keeps
        // this total without a panic path.
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        self.0.to_http().map(Body::from).into_response()
    }
}
