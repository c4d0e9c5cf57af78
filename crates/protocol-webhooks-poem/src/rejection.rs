//! The HTTP answer to a refused webhook.

use core::fmt;

use poem::error::ResponseError;
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use protocol_webhooks::{REJECTION_CONTENT_TYPE, Rejection};

/// A refused webhook request, answered with the status and JSON body of the
/// [`Rejection`] inside.
///
/// The extractors return it (as a [`poem::Error`]) when the body is too
/// large (413), the signature is missing, malformed or wrong (401), or the
/// body is not a valid event or could not be read (400). It is a separate
/// type because Poem's response traits cannot be implemented on the core's
/// [`Rejection`] from this crate.
///
/// ```
/// use poem::error::ResponseError;
/// use protocol_webhooks_poem::{Rejection, WebhookRejection};
///
/// let rejection = WebhookRejection::from(Rejection::PayloadTooLarge { limit: 1024 });
/// assert_eq!(rejection.status().as_u16(), 413);
/// assert_eq!(rejection.rejection().reason(), "payload_too_large");
/// ```
#[derive(Debug)]
pub struct WebhookRejection(Rejection);

impl WebhookRejection {
    /// The core rejection.
    #[must_use]
    pub fn rejection(&self) -> &Rejection {
        &self.0
    }

    /// Takes the core rejection.
    #[must_use]
    pub fn into_inner(self) -> Rejection {
        self.0
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

impl core::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl ResponseError for WebhookRejection {
    fn status(&self) -> StatusCode {
        // Every status the core returns is a valid code; the fallback only
        // keeps this total.
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::BAD_REQUEST)
    }

    fn as_response(&self) -> Response {
        Response::builder()
            .status(ResponseError::status(self))
            .content_type(REJECTION_CONTENT_TYPE)
            .body(self.0.to_json())
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        self.as_response()
    }
}
