//! Reading a request body under the webhook limit while verifying it.

use protocol_webhooks::{Rejection, RequestHead, SIGNATURE_HEADER, VerifiedBody, WebhookConfig};
use rocket::Request;
use rocket::data::{ByteUnit, Data};
use rocket::tokio::io::AsyncReadExt;

/// How much of the body is read from the stream at a time.
const READ_CHUNK: usize = 16 * 1024;

/// Reads the body chunk by chunk into the core's collector, which checks
/// the size, then the signature.
///
/// The stream is opened with the webhook limit plus one byte, not with
/// Rocket's `limits`: one byte past the limit is what tells an oversized
/// body from one exactly at the limit, and Rocket's limits (`bytes`,
/// `data-form`, ...) must neither cut a webhook short nor let it grow.
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
    let declared = head.declared_length();
    let mut collector = config.collect_body(head)?;
    let cap = u64::try_from(config.body_limit())
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut stream = data.open(ByteUnit::from(cap));
    // A typical webhook is a few KiB: size the buffer to the declared body
    // (plus the byte that shows the end) instead of zeroing 16 KiB for it.
    let wanted = declared.and_then(|length| usize::try_from(length.saturating_add(1)).ok());
    let mut chunk = vec![0; wanted.map_or(READ_CHUNK, |wanted| wanted.min(READ_CHUNK))];
    loop {
        let read = stream
            .read(&mut chunk)
            .await
            .map_err(|_| Rejection::IncompleteBody)?;
        let Some(bytes) = chunk.get(..read).filter(|bytes| !bytes.is_empty()) else {
            break;
        };
        collector.push(bytes)?;
    }
    // Rocket reads the first bytes of every body before routing and hides a
    // connection error met there; a short body is how it shows.
    if declared.is_some_and(|length| u64::try_from(collector.len()).ok() != Some(length)) {
        return Err(Rejection::IncompleteBody);
    }
    collector.finish()
}
