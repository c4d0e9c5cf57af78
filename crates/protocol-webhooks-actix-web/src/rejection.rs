//! The HTTP answer to a webhook request that does not reach the handler.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// A webhook request the handler does not see, answered with the core's
/// [`Answer`](crate::Answer) as it is: its status, its JSON body and each
/// of its headers.
///
/// The extractors fail with an [`actix_web::Error`] wrapping this type, so a
/// handler taking `Result<Webhook, actix_web::Error>` can inspect it with
/// [`actix_web::Error::as_error`] and [`answer`](Self::answer).
///
/// A route without a registered [`WebhookConfig`](crate::WebhookConfig)
/// (or, for [`ClaimedWebhook`](crate::ClaimedWebhook), a
/// [`Deduplicator`](crate::Deduplicator)) is answered 500
/// `missing_configuration`, logged as an error naming what is missing:
/// register it with `App::app_data(value)` or
/// `App::app_data(web::Data::new(value))`.
#[derive(Debug)]
pub struct WebhookRejection(pub(crate) crate::Answer);

impl ResponseError for WebhookRejection {
    fn status_code(&self) -> StatusCode {
        // Every status an answer names is a valid code; the fallback only
        // keeps this free of a panic path.
        StatusCode::from_u16(self.answer().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        answer_response(self.answer())
    }
}

/// The response for an answer of the core: its status, headers and body.
pub(crate) fn answer_response(answer: &crate::Answer) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for (name, value) in answer.headers() {
        response.insert_header((name, value.into_owned()));
    }
    if answer.closes_connection() {
        // actix-web writes `Connection` from the connection type, not
        // from the header; closing also stops it from draining the rest
        // of an oversized body before it can take the next request.
        response.force_close();
    }
    response.body(answer.body())
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use actix_web::body::MessageBody;
    use actix_web::http::header::{CONNECTION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
    use protocol_webhooks::dedup::{StoreError, Unclaimed};
    use protocol_webhooks::{ANSWER_CONTENT_TYPE, Rejection, SignatureError};

    use super::*;

    fn header(
        response: &HttpResponse,
        name: impl actix_web::http::header::AsHeaderName,
    ) -> Option<&[u8]> {
        response.headers().get(name).map(HeaderValue::as_bytes)
    }

    fn body(response: HttpResponse) -> String {
        let bytes = response.into_body().try_into_bytes().unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn answers_with_the_status_and_json_body_of_the_answer() {
        let rejection = WebhookRejection::from(Rejection::Signature(SignatureError::Mismatch));
        let response = rejection.error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(&response, CONTENT_TYPE),
            Some(ANSWER_CONTENT_TYPE.as_bytes())
        );
        assert_eq!(header(&response, RETRY_AFTER), None);
        assert_eq!(header(&response, CONNECTION), None);
        assert!(response.head().keep_alive());
        assert_eq!(body(response), rejection.answer().body());
    }

    #[test]
    fn payload_too_large_is_413_and_closes_the_connection() {
        let rejection = WebhookRejection::from(Rejection::PayloadTooLarge { limit: 8 });
        assert_eq!(rejection.status_code(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            rejection.to_string(),
            "request body is larger than the limit of 8 bytes"
        );
        let response = rejection.error_response();
        assert_eq!(header(&response, CONNECTION), Some(&b"close"[..]));
        assert!(!response.head().keep_alive());
        assert!(matches!(
            rejection.into_inner().rejection(),
            Some(Rejection::PayloadTooLarge { limit: 8 })
        ));
    }

    #[test]
    fn in_progress_is_409_with_retry_after_in_whole_seconds() {
        let rejection = WebhookRejection::from(Unclaimed::InProgress {
            event_id: String::from("evt_1"),
            retry_after: Duration::from_millis(2_500),
        });
        let response = rejection.error_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(header(&response, RETRY_AFTER), Some(&b"3"[..]));
    }

    #[test]
    fn store_unavailable_is_503_with_retry_after_and_api_error() {
        let rejection = WebhookRejection::from(Unclaimed::StoreUnavailable {
            event_id: String::from("evt_1"),
            error: StoreError::unavailable("redis://:hunter2@db refused"),
        });
        let response = rejection.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(header(&response, RETRY_AFTER), Some(&b"5"[..]));
        assert_eq!(
            body(response),
            r#"{"type":"api_error","message":"event cannot be processed right now; retry later"}"#
        );
    }

    #[test]
    fn a_duplicate_is_200_with_the_duplicate_body() {
        let rejection = WebhookRejection::from(Unclaimed::Duplicate {
            event_id: String::from("evt_1"),
        });
        let response = rejection.error_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, RETRY_AFTER), None);
        assert_eq!(
            body(response),
            r#"{"type":"duplicate","message":"event evt_1 already processed"}"#
        );
    }

    #[test]
    fn missing_configuration_is_500_api_error() {
        let response = WebhookRejection::from(Rejection::MissingConfiguration {
            missing: "WebhookConfig",
        })
        .error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body(response),
            r#"{"type":"api_error","message":"webhook configuration is missing"}"#
        );
    }
}
