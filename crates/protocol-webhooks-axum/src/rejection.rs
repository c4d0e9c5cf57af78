//! The extractors' rejection: how it is logged, and answered as an axum
//! response.

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use http::header::{CONNECTION, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, StatusCode};
use protocol_webhooks::{REJECTION_CONTENT_TYPE, Rejection};

protocol_webhooks::__extractor_types! {
    /// Why [`Webhook`](crate::Webhook), [`RawWebhook`](crate::RawWebhook) or
    /// [`ClaimedWebhook`](crate::ClaimedWebhook) refused a request.
    ///
    /// As a response it is the status of [`Rejection::status`] with Protocol's
    /// JSON error body, [`Rejection::to_json`], and a `Retry-After` header in
    /// seconds when [`Rejection::retry_after`] gives one (409 and 503 from
    /// [`ClaimedWebhook`](crate::ClaimedWebhook)). An event that was processed
    /// already is answered 200 with `{"type":"duplicate",...}`, so the sender
    /// stops retrying. It wraps the core's [`Rejection`] because axum's
    /// `IntoResponse` cannot be implemented for a type of another crate.
    ///
    /// ```
    /// use std::time::Duration;
    /// use axum::response::IntoResponse;
    /// use protocol_webhooks_axum::{Rejection, WebhookRejection};
    ///
    /// let busy = WebhookRejection::from(Rejection::InProgress {
    ///     retry_after: Duration::from_millis(2500),
    /// });
    /// let response = busy.into_response();
    /// assert_eq!(response.status(), 409);
    /// assert_eq!(response.headers()["retry-after"], "3");
    /// assert_eq!(response.headers()["content-type"], "application/json");
    /// ```
    pub struct WebhookRejection;
}

impl WebhookRejection {
    /// The HTTP status this rejection answers with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        // Every status the core defines is a valid code; the fallback keeps
        // this total without a panic path.
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.0.to_json()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(REJECTION_CONTENT_TYPE),
        );
        if let Some(seconds) = self.0.retry_after() {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.0.closes_connection() {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// Logs the refusal where it is made, so it is recorded once even when a
/// handler takes `Result<_, WebhookRejection>` and answers by itself, and
/// wraps it for the response.
///
/// A duplicate is routine (the sender retried after a success), so it is
/// `INFO`; a server without configuration is a bug, so `ERROR` (the
/// extractors' `FromRef` bounds already make that a compile error, so this
/// only keeps the levels the same in every adapter); anything else is a
/// `WARN`. Only the failure class and the
/// status are logged: never a header, a body or a backend error that could
/// carry a connection string.
pub(crate) fn reject(rejection: Rejection) -> WebhookRejection {
    let (reason, status) = (rejection.reason(), rejection.status());
    match rejection {
        Rejection::AlreadyProcessed { .. } => {
            tracing::info!(reason, status, "webhook already processed");
        }
        Rejection::MissingConfiguration => {
            tracing::error!(reason, status, "webhook rejected");
        }
        _ => tracing::warn!(reason, status, "webhook rejected"),
    }
    WebhookRejection(rejection)
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex, PoisonError};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn missing_configuration_is_logged_as_an_error() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let rejection = reject(Rejection::MissingConfiguration);
            assert_eq!(rejection.status(), StatusCode::INTERNAL_SERVER_ERROR);
        });

        let bytes = captured.0.lock().unwrap_or_else(PoisonError::into_inner);
        let logs = String::from_utf8_lossy(&bytes);
        assert!(logs.contains("ERROR"), "{logs}");
        assert!(logs.contains("reason=\"missing_configuration\""), "{logs}");
        assert!(logs.contains("status=500"), "{logs}");
    }
}
