//! The extractors' rejection as an axum response.

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;

protocol_webhooks::__extractor_types! {
    /// Why [`Webhook`](crate::Webhook), [`RawWebhook`](crate::RawWebhook) or
    /// [`ClaimedWebhook`](crate::ClaimedWebhook) did not run the handler.
    ///
    /// As a response it is exactly the core's [`Answer`](crate::Answer): its
    /// status, Protocol's JSON error body, and its headers (`Content-Type`,
    /// `Retry-After` on the 409 and 503 of
    /// [`ClaimedWebhook`](crate::ClaimedWebhook), `Connection: close` when
    /// the body was not read to its end). An event that was processed
    /// already is answered 200 with `{"type":"duplicate",...}`, so the sender
    /// stops retrying. It wraps the `Answer` because axum's `IntoResponse`
    /// cannot be implemented for a type of another crate.
    ///
    /// ```
    /// use std::time::Duration;
    /// use axum::response::IntoResponse;
    /// use protocol_webhooks_axum::{Unclaimed, WebhookRejection};
    ///
    /// let busy = WebhookRejection::from(Unclaimed::InProgress {
    ///     event_id: "evt_1".to_owned(),
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
        // Every status the core gives is a valid code; the fallback keeps
        // this total without a panic path.
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        self.0.to_http().map(Body::from).into_response()
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex, PoisonError};

    use protocol_webhooks::Rejection;

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
    fn missing_configuration_is_logged_once_as_an_error() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let rejection = WebhookRejection::logged(Rejection::MissingConfiguration {
                missing: "WebhookConfig",
            });
            assert_eq!(rejection.status(), StatusCode::INTERNAL_SERVER_ERROR);
        });

        let bytes = captured.0.lock().unwrap_or_else(PoisonError::into_inner);
        let logs = String::from_utf8_lossy(&bytes);
        assert_eq!(logs.lines().count(), 1, "{logs}");
        assert!(logs.contains("ERROR"), "{logs}");
        assert!(logs.contains("webhook refused"), "{logs}");
        assert!(logs.contains("reason=\"missing_configuration\""), "{logs}");
        assert!(logs.contains("status=500"), "{logs}");
        assert!(logs.contains("missing=\"WebhookConfig\""), "{logs}");
    }
}
