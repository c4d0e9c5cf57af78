//! The HTTP answer to a refused webhook.

use core::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use protocol_webhooks::{REJECTION_CONTENT_TYPE, Rejection};

/// A refused webhook request, answered with the status of
/// [`Rejection::status`] and the JSON body of [`Rejection::to_json`].
///
/// The extractors fail with an [`actix_web::Error`] wrapping this type, so a
/// handler taking `Result<Webhook, actix_web::Error>` can inspect it with
/// [`actix_web::Error::as_error`].
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

    /// Wraps a rejection the extractors produced, logging its class once.
    pub(crate) fn logged(rejection: Rejection) -> Self {
        tracing::warn!(
            reason = rejection.reason(),
            status = rejection.status(),
            "webhook rejected"
        );
        Self(rejection)
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
        self.0.source()
    }
}

impl ResponseError for WebhookRejection {
    fn status_code(&self) -> StatusCode {
        // Every status a rejection names is a valid client error code.
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::BAD_REQUEST)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type(REJECTION_CONTENT_TYPE)
            .body(self.0.to_json())
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
    use protocol_webhooks::SignatureError;

    use super::*;

    #[test]
    fn answers_with_the_rejection_status_and_json_body() {
        let rejection = WebhookRejection::from(Rejection::Signature(SignatureError::Mismatch));
        let response = rejection.error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response
                .headers()
                .get(CONTENT_TYPE)
                .map(HeaderValue::as_bytes),
            Some(REJECTION_CONTENT_TYPE.as_bytes())
        );
        let body = response.into_body().try_into_bytes().unwrap_or_default();
        assert_eq!(body, rejection.rejection().to_json().as_bytes());
    }

    #[test]
    fn payload_too_large_is_413() {
        let rejection = WebhookRejection::from(Rejection::PayloadTooLarge { limit: 8 });
        assert_eq!(rejection.status_code(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            rejection.to_string(),
            "request body is larger than the limit of 8 bytes"
        );
        assert!(matches!(
            rejection.into_inner(),
            Rejection::PayloadTooLarge { limit: 8 }
        ));
    }
}
