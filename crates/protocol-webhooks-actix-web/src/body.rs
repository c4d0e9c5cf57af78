//! Reading the raw request body under the limit while verifying it.

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_LENGTH, HeaderMap, HeaderValue};
use futures_util::StreamExt as _;
use protocol_webhooks::{Rejection, SIGNATURE_HEADER, VerifiedBody, WebhookConfig};

/// What verification needs from a request, taken before the handler runs:
/// the configuration, the head's declared length and signature, and the
/// body stream itself.
pub(crate) struct IncomingBody {
    config: WebhookConfig,
    declared_length: Option<u64>,
    signature: Option<HeaderValue>,
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
            signature: headers.get(SIGNATURE_HEADER).cloned(),
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
        body.finish(self.signature.as_ref().map(HeaderValue::as_bytes))
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
