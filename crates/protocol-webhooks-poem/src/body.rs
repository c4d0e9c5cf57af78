//! Reading the request body under the limit while it is hashed.

use poem::{Body, Request};
use protocol_webhooks::{Rejection, RequestHead, VerifiedBody, WebhookConfig};

/// Hands the request's head and body stream to the core, which refuses an
/// over-limit declared length before reading, stops at the first chunk past
/// the limit, and checks the signature once the body is complete.
pub(crate) async fn read_verified_body(
    request: &Request,
    body: Body,
    config: &WebhookConfig,
) -> Result<VerifiedBody, Rejection> {
    let head = RequestHead::from_headers(request.headers());
    config
        .collect_body(head)?
        .collect(body.into_bytes_stream())
        .await
}
