//! The response for a refused webhook request.

use std::borrow::Cow;
use std::io::Cursor;

use rocket::Request;
use rocket::http::Status;
use rocket::response::{self, Responder, Response};

/// Why a webhook guard did not hand the request to the handler: the
/// core's [`Answer`](protocol_webhooks::Answer), sent as Protocol's JSON
/// error body.
///
/// A refused request (401, 413, 400), an event another delivery handles
/// or handled (409, 200, or 503 when the store is down; for
/// [`ClaimedWebhook`](crate::ClaimedWebhook)), or 500 when the server
/// lacks what the guard needs. For that 500, manage a
/// [`WebhookConfig`](protocol_webhooks::WebhookConfig) and, for
/// `ClaimedWebhook`, a [`Deduplicator`](protocol_webhooks::dedup::Deduplicator):
/// attach [`WebhookFairing`](crate::WebhookFairing) (with
/// [`with_deduplicator`](crate::WebhookFairing::with_deduplicator)), or
/// `rocket.manage(config).manage(deduplicator)`. As a [`Responder`] it
/// answers the answer's status, body and headers (`Content-Type`, and
/// `Retry-After` or `Connection: close` when they apply).
///
/// Take `Result<Webhook, WebhookRejection>` as the data guard to handle a
/// rejection in the handler instead of in the [`catchers`](crate::catchers).
#[derive(Debug)]
pub struct WebhookRejection(pub(crate) crate::Answer);

impl WebhookRejection {
    /// The HTTP status answered: 200 for an event already processed, an
    /// error status otherwise.
    #[must_use]
    pub fn status(&self) -> Status {
        Status::new(self.answer().status())
    }
}

/// An answer's parts as Rocket's response: what both the responder and the
/// catchers send.
pub(crate) fn respond(
    status: u16,
    body: String,
    headers: impl IntoIterator<Item = (&'static str, Cow<'static, str>)>,
) -> Response<'static> {
    let mut response = Response::build();
    response
        .status(Status::new(status))
        .sized_body(body.len(), Cursor::new(body));
    for (name, value) in headers {
        response.raw_header(name, value);
    }
    response.finalize()
}

impl<'r> Responder<'r, 'static> for WebhookRejection {
    fn respond_to(self, _request: &'r Request<'_>) -> response::Result<'static> {
        let answer = self.answer();
        Ok(respond(answer.status(), answer.body(), answer.headers()))
    }
}
