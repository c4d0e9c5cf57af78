//! Reading a request body under the webhook limit while verifying it.

use protocol_webhooks::{
    Rejection, SIGNATURE_HEADER, SignatureError, VerifiedBody, WebhookConfig,
    signature_header_value,
};
use rocket::Request;
use rocket::data::{ByteUnit, Data};
use rocket::tokio::io::AsyncReadExt;

/// How much of the body is read from the stream at a time.
const READ_CHUNK: usize = 16 * 1024;

/// Reads the body chunk by chunk into the core's collector, then checks the
/// signature: size first, then signature.
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
    let declared = declared_length(request);
    let mut collector = config.collect_body(declared)?;
    let cap = u64::try_from(config.body_limit())
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut stream = data.open(ByteUnit::from(cap));
    // A typical webhook is a few KiB: size the buffer to the declared body
    // (plus the byte that shows the end) instead of zeroing 16 KiB for it.
    let buffer_len = declared.map_or(READ_CHUNK, |length| {
        usize::try_from(length)
            .unwrap_or(READ_CHUNK)
            .saturating_add(1)
            .min(READ_CHUNK)
    });
    let mut chunk = vec![0; buffer_len];
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
    collector.finish(signature_header(request)?)
}

/// The declared `Content-Length`, so an oversized body is refused before a
/// byte of it is read. A value that is not a number is ignored: the limit
/// still holds while reading.
fn declared_length(request: &Request<'_>) -> Option<u64> {
    request
        .headers()
        .get_one("Content-Length")
        .and_then(|value| value.trim().parse().ok())
}

/// Rocket matches header names without regard to case. It drops values that
/// are not UTF-8 before any guard runs, so such a header arrives as missing,
/// and a header repeated with such a value arrives with one value fewer: a
/// single value left is verified as if it had been sent alone.
///
/// # Errors
/// [`SignatureError::Repeated`] when the header is sent more than once.
fn signature_header<'r>(request: &'r Request<'_>) -> Result<Option<&'r [u8]>, SignatureError> {
    let value = signature_header_value(request.headers().get(SIGNATURE_HEADER))?;
    Ok(value.map(str::as_bytes))
}
