//! Reading a request body under the webhook limit while verifying it.

use protocol_webhooks::{Rejection, RequestHead, SIGNATURE_HEADER, VerifiedBody, WebhookConfig};
use rocket::Request;
use rocket::data::{ByteUnit, Data};

/// How many body bytes Rocket 0.5 reads before routing, to look for a
/// `_method` form field: `"_method=delete".len()`.
const PEEKED: u64 = 14;

/// Hands the head and the body stream to the core, which checks the size,
/// the deadline, then the signature.
///
/// The stream is opened with the webhook limit plus one byte, not with
/// Rocket's `limits`: one byte past the limit is what tells an oversized
/// body from one exactly at the limit, and Rocket's limits (`bytes`,
/// `data-form`, ...) must neither cut a webhook short nor let it grow.
///
/// Rocket reads the first bytes of every body before routing and hides a
/// read error met there (a connection cut, broken chunked framing): it
/// logs it and leaves a body that looks shorter, or complete. The state it
/// leaves shows it, and the body is refused as incomplete; a read error
/// met later reaches the core as the stream's error.
pub(crate) async fn read_verified(
    request: &Request<'_>,
    data: Data<'_>,
    config: &WebhookConfig,
) -> Result<VerifiedBody, Rejection> {
    let headers = request.headers();
    // Rocket matches header names without regard to case. It drops values
    // that are not UTF-8 before any fairing or guard runs, so such a header
    // arrives as missing, and a header repeated with such a value arrives
    // with one value fewer: a single value left is verified as if sent alone.
    let head = RequestHead::new(headers.get("Content-Length"), headers.get(SIGNATURE_HEADER));
    let cap = u64::try_from(config.body_limit())
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let collector = config.collect_body(head)?;
    let read_to_end = data.peek_complete();
    let body = data.open(ByteUnit::from(cap));
    if peek_failed(read_to_end, body.hint(), cap) {
        return Err(Rejection::IncompleteBody);
    }
    collector.collect_reader(body).await
}

/// Whether Rocket's read before routing stopped at an error: it reads until
/// it holds [`PEEKED`] bytes or the body ends, and stops early only at an
/// error. `buffered` is what it holds, as far as the stream opened at `cap`
/// shows it; when that is all of `cap`, the body is over the limit anyway.
fn peek_failed(read_to_end: bool, buffered: usize, cap: u64) -> bool {
    let buffered = u64::try_from(buffered).unwrap_or(u64::MAX);
    !read_to_end && buffered < PEEKED && buffered < cap
}

#[cfg(test)]
mod tests {
    use super::peek_failed;

    #[test]
    fn a_peek_short_of_its_bytes_without_the_end_of_the_body_failed() {
        let cap = 1024 * 1024 + 1;
        // Stopped at an error, before or within the first bytes.
        assert!(peek_failed(false, 0, cap));
        assert!(peek_failed(false, 13, cap));
        // All it looks for, or the whole body: nothing to tell.
        assert!(!peek_failed(false, 14, cap));
        assert!(!peek_failed(false, 512, cap));
        assert!(!peek_failed(true, 0, cap));
        assert!(!peek_failed(true, 5, cap));
        // A limit below the peek: the stream shows no more than the cap,
        // and a body that fills it is refused as too large.
        assert!(!peek_failed(false, 9, 9));
        assert!(peek_failed(false, 3, 9));
    }
}
