//! The response for a refused webhook request.

use std::fmt;
use std::io::Cursor;

use protocol_webhooks::{REJECTION_CONTENT_TYPE, Rejection};
use rocket::Request;
use rocket::http::Status;
use rocket::response::{self, Responder, Response};

/// The message of the 500 answered when no [`WebhookConfig`] is managed.
///
/// [`WebhookConfig`]: protocol_webhooks::WebhookConfig
const MISSING_CONFIG_MESSAGE: &str =
    "the webhook configuration is missing: the server must manage a WebhookConfig";

/// Why a webhook guard refused a request, answered as JSON.
///
/// Nearly always a [`Rejection`] from the core (401, 413 or 400, see
/// [`rejection`](Self::rejection)); otherwise the server forgot to manage a
/// [`WebhookConfig`](protocol_webhooks::WebhookConfig), answered with 500.
/// As a [`Responder`] it answers the status with Protocol's JSON error body,
/// `{"type":"invalid_request","message":"..."}`.
///
/// Take `Result<Webhook, WebhookRejection>` as the data guard to handle a
/// rejection in the handler instead of in the [`catchers`](crate::catchers).
#[derive(Debug)]
pub struct WebhookRejection(Kind);

#[derive(Debug)]
enum Kind {
    Rejected(Rejection),
    MissingConfig,
}

impl WebhookRejection {
    pub(crate) fn missing_config() -> Self {
        Self(Kind::MissingConfig)
    }

    /// The HTTP status to answer with.
    #[must_use]
    pub fn status(&self) -> Status {
        match &self.0 {
            Kind::Rejected(rejection) => Status::new(rejection.status()),
            Kind::MissingConfig => Status::InternalServerError,
        }
    }

    /// The core's rejection, or `None` when the configuration is missing.
    #[must_use]
    pub fn rejection(&self) -> Option<&Rejection> {
        match &self.0 {
            Kind::Rejected(rejection) => Some(rejection),
            Kind::MissingConfig => None,
        }
    }

    /// Takes the core's rejection, or `None` when the configuration is missing.
    #[must_use]
    pub fn into_inner(self) -> Option<Rejection> {
        match self.0 {
            Kind::Rejected(rejection) => Some(rejection),
            Kind::MissingConfig => None,
        }
    }

    /// Whether the server has no [`WebhookConfig`](protocol_webhooks::WebhookConfig) managed.
    #[must_use]
    pub fn is_missing_config(&self) -> bool {
        matches!(self.0, Kind::MissingConfig)
    }

    /// The JSON error body.
    #[must_use]
    pub fn to_json(&self) -> String {
        match &self.0 {
            Kind::Rejected(rejection) => rejection.to_json(),
            Kind::MissingConfig => {
                format!(r#"{{"type":"invalid_request","message":"{MISSING_CONFIG_MESSAGE}"}}"#)
            }
        }
    }

    pub(crate) fn to_response(&self) -> Response<'static> {
        json_response(self.status(), self.to_json())
    }
}

/// The answer for every rejection: the status and the JSON body.
pub(crate) fn json_response(status: Status, body: String) -> Response<'static> {
    Response::build()
        .status(status)
        .raw_header("Content-Type", REJECTION_CONTENT_TYPE)
        .sized_body(body.len(), Cursor::new(body))
        .finalize()
}

impl From<Rejection> for WebhookRejection {
    fn from(rejection: Rejection) -> Self {
        Self(Kind::Rejected(rejection))
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Rejected(rejection) => fmt::Display::fmt(rejection, f),
            Kind::MissingConfig => f.write_str(MISSING_CONFIG_MESSAGE),
        }
    }
}

impl std::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            Kind::Rejected(rejection) => Some(rejection),
            Kind::MissingConfig => None,
        }
    }
}

impl<'r> Responder<'r, 'static> for WebhookRejection {
    fn respond_to(self, _request: &'r Request<'_>) -> response::Result<'static> {
        Ok(self.to_response())
    }
}
