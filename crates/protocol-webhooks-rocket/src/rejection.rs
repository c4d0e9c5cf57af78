//! The response for a refused webhook request.

use std::io::Cursor;

use protocol_webhooks::{REJECTION_CONTENT_TYPE, Rejection};
use rocket::Request;
use rocket::http::Status;
use rocket::response::{self, Responder, Response};

protocol_webhooks::__extractor_types! {
    /// Why a webhook guard refused a request, answered as JSON.
    ///
    /// The core's [`Rejection`] (401, 413, 400; 500 when the server has no
    /// [`WebhookConfig`](protocol_webhooks::WebhookConfig) or, for
    /// [`ClaimedWebhook`](crate::ClaimedWebhook), no
    /// [`Deduplicator`](protocol_webhooks::dedup::Deduplicator) managed; 200, 409
    /// or 503 from the de-duplication claim). As a [`Responder`] it answers
    /// [`status`](Self::status) with Protocol's JSON error body,
    /// `{"type":"invalid_request","message":"..."}`, and a `Retry-After` header
    /// when [`Rejection::retry_after`] gives one.
    ///
    /// Take `Result<Webhook, WebhookRejection>` as the data guard to handle a
    /// rejection in the handler instead of in the [`catchers`](crate::catchers).
    pub struct WebhookRejection;
}

impl WebhookRejection {
    /// The HTTP status answered: 200 for an event already processed, an
    /// error status otherwise.
    #[must_use]
    pub fn status(&self) -> Status {
        Status::new(self.0.status())
    }
}

/// A rejection as sent: what both the responder and the catchers answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    status: Status,
    body: String,
    retry_after: Option<u64>,
    closes_connection: bool,
}

impl Answer {
    pub(crate) fn of(rejection: &Rejection) -> Self {
        Self {
            status: Status::new(rejection.status()),
            body: rejection.to_json(),
            retry_after: rejection.retry_after(),
            closes_connection: rejection.closes_connection(),
        }
    }

    /// The status, the JSON body and, when the sender should come back
    /// later, `Retry-After` in seconds.
    pub(crate) fn to_response(&self) -> Response<'static> {
        let mut response = Response::build();
        response
            .status(self.status)
            .raw_header("Content-Type", REJECTION_CONTENT_TYPE)
            .sized_body(self.body.len(), Cursor::new(self.body.clone()));
        if let Some(seconds) = self.retry_after {
            response.raw_header("Retry-After", seconds.to_string());
        }
        if self.closes_connection {
            response.raw_header("Connection", "close");
        }
        response.finalize()
    }
}

impl<'r> Responder<'r, 'static> for WebhookRejection {
    fn respond_to(self, _request: &'r Request<'_>) -> response::Result<'static> {
        Ok(Answer::of(&self.0).to_response())
    }
}
