//! Reading the request body under the limit while it is hashed.

use core::pin::pin;

use futures_util::StreamExt;
use poem::http::header::CONTENT_LENGTH;
use poem::{Body, Request};
use protocol_webhooks::{
    Rejection, SIGNATURE_HEADER, SignatureError, VerifiedBody, WebhookConfig,
    signature_header_value,
};

/// Reads `body` chunk by chunk into the core's collector and checks the
/// signature: size first (from `Content-Length` before any byte is read,
/// then from the bytes themselves), then signature.
pub(crate) async fn read_verified_body(
    request: &Request,
    body: Body,
    config: &WebhookConfig,
) -> Result<VerifiedBody, Rejection> {
    let mut collector = config.collect_body(declared_length(request))?;
    let mut chunks = pin!(body.into_bytes_stream());
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|_| Rejection::IncompleteBody)?;
        // Returning here drops the stream: nothing more is read or buffered.
        collector.push(&chunk)?;
    }
    collector.finish(signature_header(request)?)
}

/// The declared `Content-Length`; an unreadable one counts as undeclared,
/// since the bytes are counted as they arrive anyway.
fn declared_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The signature header's raw bytes: a value that is not visible ASCII is
/// still present, and the core refuses it as malformed.
///
/// # Errors
/// [`SignatureError::Repeated`] when the header is sent more than once.
fn signature_header(request: &Request) -> Result<Option<&[u8]>, SignatureError> {
    let value = signature_header_value(request.headers().get_all(SIGNATURE_HEADER))?;
    Ok(value.map(poem::http::HeaderValue::as_bytes))
}
