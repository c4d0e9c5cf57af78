//! The answer to a request the layer refuses, as an `http` response.

use http::StatusCode;

use crate::ResponseBody;

/// Why a [`WebhookService`](crate::WebhookService) answered a request
/// itself instead of calling the inner service.
///
/// As a response it is exactly the core's [`Answer`](crate::Answer): its
/// status, Protocol's JSON error body, and its headers (`Content-Type`,
/// `Allow: POST` on a 405, `Retry-After` on the 409 and 503 of
/// [`WebhookLayer::exactly_once`](crate::WebhookLayer::exactly_once),
/// `Connection: close` when the body was not read to its end). An event
/// that was processed already is answered 200 with
/// `{"type":"duplicate",...}`, so the sender stops retrying.
///
/// ```
/// use std::time::Duration;
/// use http_body_util::Full;
/// use bytes::Bytes;
/// use protocol_webhooks_tower::{Unclaimed, WebhookRejection};
///
/// let busy = WebhookRejection::from(Unclaimed::InProgress {
///     event_id: "evt_1".to_owned(),
///     retry_after: Duration::from_millis(2500),
/// });
/// let response = busy.into_response::<Full<Bytes>>();
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

    /// The response, with the body type of a
    /// [`WebhookService`](crate::WebhookService) over an inner service
    /// whose responses have bodies of type `B`.
    #[must_use]
    pub fn into_response<B>(self) -> http::Response<ResponseBody<B>> {
        self.0.to_http().map(ResponseBody::answer)
    }
}
