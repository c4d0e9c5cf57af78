//! Reading the raw request body under the limit while verifying it.

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_LENGTH, HeaderMap, HeaderValue};
use protocol_webhooks::{Rejection, RequestHead, SIGNATURE_HEADER, VerifiedBody, WebhookConfig};

/// What verification needs from a request, taken before the handler runs so
/// the extraction future owns it: the configuration, the decoded head and
/// the body stream itself.
pub(crate) struct IncomingBody {
    config: WebhookConfig,
    head: RequestHead,
    payload: Payload,
}

impl IncomingBody {
    pub(crate) fn new(config: WebhookConfig, headers: &HeaderMap, payload: Payload) -> Self {
        // actix-web 4 has its own `http` 0.2 types, so the head is built from
        // the raw values rather than with `RequestHead::from_headers`.
        let head = RequestHead::new(
            headers.get_all(CONTENT_LENGTH).map(HeaderValue::as_bytes),
            headers.get_all(SIGNATURE_HEADER).map(HeaderValue::as_bytes),
        );
        Self {
            config,
            head,
            payload,
        }
    }

    /// Size, then signature. The raw `Payload` is read because actix-web's
    /// own body limit applies only to the `Bytes` and `String` extractors.
    /// The declared length is checked here rather than in `new`, so a server
    /// missing a registration answers 500 whatever the request.
    pub(crate) async fn verify(self) -> Result<VerifiedBody, Rejection> {
        let collector = self.config.collect_body(self.head)?;
        collector.collect(self.payload).await
    }
}
