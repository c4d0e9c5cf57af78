//! Reading the request body under the configured limit while hashing it.

use axum_core::body::Body;
use axum_core::extract::Request;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, HeaderValue};
use http_body::Body as _;
use http_body_util::BodyExt as _;
use protocol_webhooks::{
    Rejection, SIGNATURE_HEADER, VerifiedBody, WebhookConfig, signature_header_value,
};

/// Feeds the body to the core's collector frame by frame, then checks the
/// signature header against the exact bytes received.
///
/// Reading stops at the first chunk that passes the limit: the rest of an
/// oversized body is never buffered.
pub(crate) async fn read_verified(
    config: &WebhookConfig,
    request: Request,
) -> Result<VerifiedBody, Rejection> {
    let (parts, mut body) = request.into_parts();
    let mut collector = config.collect_body(declared_length(&parts.headers, &body))?;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| {
            tracing::debug!(%error, "webhook request body could not be read");
            Rejection::IncompleteBody
        })?;
        // Trailers carry no body bytes; only data frames are signed.
        if let Some(chunk) = frame.data_ref() {
            collector.push(chunk)?;
        }
    }
    // Looked at only now, so a repeated header is refused after the size
    // check like every other signature failure.
    let signature = signature_header_value(parts.headers.get_all(SIGNATURE_HEADER))?;
    collector.finish(signature.map(HeaderValue::as_bytes))
}

/// The length the client announced, so an oversized body is refused before
/// a byte of it is read.
///
/// hyper derives the body's exact size hint from `Content-Length` and holds
/// the body to it, so the hint is the authoritative value; the header is the
/// fallback for bodies that a middleware re-wrapped without a hint.
fn declared_length(headers: &HeaderMap, body: &Body) -> Option<u64> {
    body.size_hint()
        .exact()
        .or_else(|| headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok())
}
