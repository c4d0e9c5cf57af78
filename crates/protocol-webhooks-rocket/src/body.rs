//! Reading a request body under the webhook limit while verifying it.

use protocol_webhooks::{Rejection, RequestHead, SIGNATURE_HEADER, VerifiedBody, WebhookConfig};
use rocket::Request;
use rocket::data::{ByteUnit, Data};

/// Hands the head and the body stream to the core, which checks the size,
/// the deadline, then the signature.
///
/// The stream is opened with the webhook limit plus one byte, not with
/// Rocket's `limits`: one byte past the limit is what tells an oversized
/// body from one exactly at the limit, and Rocket's limits (`bytes`,
/// `data-form`, ...) must neither cut a webhook short nor let it grow.
/// Rocket reads the first bytes of every body before routing and hides a
/// connection error met there; the core refuses the short body that shows.
pub(crate) async fn read_verified(
    request: &Request<'_>,
    data: Data<'_>,
    config: &WebhookConfig,
) -> Result<VerifiedBody, Rejection> {
    let headers = request.headers();
    // Rocket matches header names without regard to case. It drops values
    // that are not UTF-8 before any guard runs, so such a header arrives as
    // missing, and a header repeated with such a value arrives with one
    // value fewer: a single value left is verified as if sent alone.
    let head = RequestHead::new(headers.get("Content-Length"), headers.get(SIGNATURE_HEADER));
    let cap = u64::try_from(config.body_limit())
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    config
        .collect_body(head)?
        .collect_reader(data.open(ByteUnit::from(cap)))
        .await
}
