//! The HTTP answer to a refused webhook.

use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpResponse, ResponseError};
use protocol_webhooks::{REJECTION_CONTENT_TYPE, Rejection};

protocol_webhooks::__extractor_types! {
    /// A refused webhook request, answered with the status of
    /// [`Rejection::status`], the JSON body of [`Rejection::to_json`] and, when
    /// [`Rejection::retry_after`] gives one, a `Retry-After` header in seconds.
    ///
    /// The extractors fail with an [`actix_web::Error`] wrapping this type, so a
    /// handler taking `Result<Webhook, actix_web::Error>` can inspect it with
    /// [`actix_web::Error::as_error`].
    pub struct WebhookRejection;
}

impl WebhookRejection {
    /// Wraps a rejection the extractors produced, logging its class once.
    pub(crate) fn logged(rejection: Rejection) -> Self {
        match &rejection {
            // A redelivery of a processed event is routine: the sender is
            // told to stop retrying, nothing went wrong.
            Rejection::AlreadyProcessed { event_id } => tracing::info!(
                reason = rejection.reason(),
                status = rejection.status(),
                %event_id,
                "webhook already processed"
            ),
            // The class only: details could carry the received signature
            // or a store address.
            _ => tracing::warn!(
                reason = rejection.reason(),
                status = rejection.status(),
                "webhook rejected"
            ),
        }
        Self(rejection)
    }
}

impl ResponseError for WebhookRejection {
    fn status_code(&self) -> StatusCode {
        // Every status a rejection names is a valid code; the fallback only
        // guards against a future variant naming an invalid one.
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(REJECTION_CONTENT_TYPE);
        if let Some(seconds) = self.0.retry_after() {
            response.insert_header((RETRY_AFTER, seconds));
        }
        if self.0.closes_connection() {
            // Also stops actix-web from draining the rest of an oversized
            // body before it can take the next request.
            response.force_close();
        }
        response.body(self.0.to_json())
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use actix_web::body::MessageBody;
    use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
    use protocol_webhooks::SignatureError;
    use protocol_webhooks::dedup::StoreError;

    use super::*;

    fn header(
        response: &HttpResponse,
        name: impl actix_web::http::header::AsHeaderName,
    ) -> Option<&[u8]> {
        response.headers().get(name).map(HeaderValue::as_bytes)
    }

    #[test]
    fn answers_with_the_rejection_status_and_json_body() {
        let rejection = WebhookRejection::from(Rejection::Signature(SignatureError::Mismatch));
        let response = rejection.error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(&response, CONTENT_TYPE),
            Some(REJECTION_CONTENT_TYPE.as_bytes())
        );
        assert_eq!(header(&response, RETRY_AFTER), None);
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

    #[test]
    fn in_progress_is_409_with_retry_after_in_whole_seconds() {
        let rejection = WebhookRejection::from(Rejection::InProgress {
            retry_after: Duration::from_millis(2_500),
        });
        let response = rejection.error_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(header(&response, RETRY_AFTER), Some(&b"3"[..]));
    }

    #[test]
    fn store_unavailable_is_503_with_retry_after_and_api_error() {
        let rejection = WebhookRejection::from(Rejection::StoreUnavailable(
            StoreError::unavailable("redis://:hunter2@db refused"),
        ));
        let response = rejection.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(header(&response, RETRY_AFTER), Some(&b"5"[..]));
        let body = response.into_body().try_into_bytes().unwrap_or_default();
        assert_eq!(
            body,
            r#"{"type":"api_error","message":"event cannot be processed right now; retry later"}"#
        );
    }

    #[test]
    fn already_processed_is_200_with_the_duplicate_body() {
        let rejection = WebhookRejection::from(Rejection::AlreadyProcessed {
            event_id: String::from("evt_1"),
        });
        let response = rejection.error_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, RETRY_AFTER), None);
        let body = response.into_body().try_into_bytes().unwrap_or_default();
        assert_eq!(
            body,
            r#"{"type":"duplicate","message":"event evt_1 already processed"}"#
        );
    }

    #[test]
    fn missing_configuration_is_500_api_error() {
        let response = WebhookRejection::from(Rejection::MissingConfiguration).error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = response.into_body().try_into_bytes().unwrap_or_default();
        assert_eq!(
            body,
            r#"{"type":"api_error","message":"webhook configuration is missing"}"#
        );
    }
}
