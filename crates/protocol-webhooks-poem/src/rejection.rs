//! The HTTP answer to a refused webhook.

use poem::error::ResponseError;
use poem::http::StatusCode;
use poem::{IntoResponse, Response};

/// A webhook request the handler does not see, answered with the status,
/// JSON body and headers of the core's [`Answer`](crate::Answer) inside.
///
/// The extractors return it (as a [`poem::Error`]) when the body is too
/// large (413), the signature is missing, sent more than once, malformed or
/// wrong (401), the body is not a valid event or could not be read (400), or
/// the server registered no [`WebhookConfig`](crate::WebhookConfig) with
/// `.data(config)` (500); [`ClaimedWebhook`](crate::ClaimedWebhook) also
/// when no [`Deduplicator`](crate::Deduplicator) was registered with
/// `.data(deduplicator)` (500), the event was processed already (200, and
/// the handler does not run), is being processed by another delivery (409)
/// or cannot be claimed because the store is unavailable (503). It is a
/// separate type because Poem's response traits cannot be implemented on
/// the core's `Answer` from this crate.
///
/// ```
/// use std::time::Duration;
/// use poem::IntoResponse;
/// use poem::error::ResponseError;
/// use protocol_webhooks_poem::{Rejection, Unclaimed, WebhookRejection};
///
/// let rejection = WebhookRejection::from(Rejection::PayloadTooLarge { limit: 1024 });
/// assert_eq!(rejection.status().as_u16(), 413);
/// assert_eq!(rejection.answer().reason(), "payload_too_large");
///
/// let busy = WebhookRejection::from(Unclaimed::InProgress {
///     event_id: "evt_1".into(),
///     retry_after: Duration::from_millis(2500),
/// });
/// let response = busy.into_response();
/// assert_eq!(response.status().as_u16(), 409);
/// assert_eq!(response.headers()["retry-after"], "3");
/// ```
#[derive(Debug)]
pub struct WebhookRejection(pub(crate) crate::Answer);

impl ResponseError for WebhookRejection {
    fn status(&self) -> StatusCode {
        self.0.to_http().status()
    }

    fn as_response(&self) -> Response {
        answer_response(&self.0)
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        self.as_response()
    }
}

/// The response for an answer of the core: its status, headers and body.
pub(crate) fn answer_response(answer: &crate::Answer) -> Response {
    let (parts, body) = answer.to_http().into_parts();
    let mut response = Response::builder().status(parts.status).body(body);
    *response.headers_mut() = parts.headers;
    response
}
