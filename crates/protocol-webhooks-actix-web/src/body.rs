//! Reading the raw request body under the limit while verifying it.

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_LENGTH, HeaderMap, HeaderValue};
use futures_util::StreamExt as _;
use protocol_webhooks::{
    Rejection, SIGNATURE_HEADER, SignatureError, VerifiedBody, WebhookConfig,
    signature_header_value,
};

/// What verification needs from a request, taken before the handler runs:
/// the configuration, the head's declared length and signature, and the
/// body stream itself.
pub(crate) struct IncomingBody {
    config: WebhookConfig,
    declared_length: Option<u64>,
    /// Decided from the head, but reported only once the body is read, so
    /// the size is checked first whatever the header.
    signature: Result<Option<HeaderValue>, SignatureError>,
    payload: Payload,
}

impl IncomingBody {
    pub(crate) fn new(config: WebhookConfig, headers: &HeaderMap, payload: Payload) -> Self {
        Self {
            config,
            declared_length: declared_length(headers),
            // `HeaderMap` lookups ignore the case of the name. The value is
            // kept as raw bytes: one that is not visible ASCII is malformed,
            // not missing.
            signature: signature_header_value(headers.get_all(SIGNATURE_HEADER))
                .map(Option::<&HeaderValue>::cloned),
            payload,
        }
    }

    /// Size, then signature: the raw `Payload` is read chunk by chunk
    /// because actix-web's own body limit applies only to the `Bytes` and
    /// `String` extractors.
    pub(crate) async fn verify(mut self) -> Result<VerifiedBody, Rejection> {
        let mut body = self.config.collect_body(self.declared_length)?;
        while let Some(chunk) = self.payload.next().await {
            let chunk = chunk.map_err(|error| {
                tracing::debug!(%error, "webhook body stream failed");
                Rejection::IncompleteBody
            })?;
            body.push(&chunk)?;
        }
        let signature = self.signature?;
        body.finish(signature.as_ref().map(HeaderValue::as_bytes))
    }
}

/// The `Content-Length`, when present and a number. Anything else is left to
/// the limit checks during reading.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
