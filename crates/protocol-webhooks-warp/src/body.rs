//! Reading a request under the size limit while its signature is computed.

use core::fmt;
use core::pin::pin;

use futures_util::{Stream, TryStreamExt};
use protocol_webhooks::{Rejection, VerifiedBody, WebhookConfig};
use warp::Buf;
use warp::http::header::HeaderValue;

/// What verification needs from the request head.
pub(crate) struct RequestHead {
    declared_length: Option<u64>,
    signature: Option<HeaderValue>,
}

impl RequestHead {
    /// The head from the two values verification needs. `signature` stays
    /// raw bytes so that a non-ASCII value counts as present but malformed
    /// rather than missing.
    pub(crate) fn new(declared_length: Option<u64>, signature: Option<HeaderValue>) -> Self {
        Self {
            declared_length,
            signature,
        }
    }
}

/// Reads `body` chunk by chunk into the core's collector, stopping at the
/// first chunk that passes the limit, then checks the signature.
///
/// A body declared larger than the limit is refused before any of it is read.
pub(crate) async fn collect_verified<S, B, E>(
    config: &WebhookConfig,
    head: RequestHead,
    body: S,
) -> Result<VerifiedBody, Rejection>
where
    S: Stream<Item = Result<B, E>>,
    B: Buf,
    E: fmt::Display,
{
    let mut collector = config.collect_body(head.declared_length)?;
    let mut body = pin!(body);
    while let Some(mut chunk) = body.try_next().await.map_err(|error| {
        tracing::debug!(%error, "webhook body could not be read in full");
        Rejection::IncompleteBody
    })? {
        while chunk.has_remaining() {
            let bytes = chunk.chunk();
            let read = bytes.len();
            collector.push(bytes)?;
            chunk.advance(read);
        }
    }
    collector.finish(head.signature.as_ref().map(HeaderValue::as_bytes))
}

#[cfg(test)]
mod tests {
    use core::sync::atomic::{AtomicUsize, Ordering};

    use bytes::Bytes;
    use futures_util::stream;
    use protocol_webhooks::{SignatureError, sign};

    use super::*;

    const SECRET: &str = "whsec_body";

    fn head(declared_length: Option<u64>, signature: Option<&[u8]>) -> RequestHead {
        RequestHead {
            declared_length,
            signature: signature.map(|value| HeaderValue::from_bytes(value).expect("header value")),
        }
    }

    /// A body stream that counts how many chunks were taken from it.
    fn counted<'a>(
        parts: &[&'static [u8]],
        taken: &'a AtomicUsize,
    ) -> impl Stream<Item = Result<Bytes, String>> + 'a {
        let parts: Vec<_> = parts
            .iter()
            .map(|part| Ok(Bytes::from_static(part)))
            .collect();
        stream::iter(parts).inspect_ok(move |_| {
            taken.fetch_add(1, Ordering::SeqCst);
        })
    }

    #[tokio::test]
    async fn chunks_are_joined_and_verified() {
        let config = WebhookConfig::new(SECRET).expect("config");
        let signature = sign(SECRET, b"hello world").expect("sign");
        let taken = AtomicUsize::new(0);
        let verified = collect_verified(
            &config,
            head(None, Some(signature.as_str().as_bytes())),
            counted(&[b"hello", b"", b" world"], &taken),
        )
        .await
        .expect("verified");
        assert_eq!(verified.as_bytes(), b"hello world");
        assert_eq!(taken.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn declared_length_over_the_limit_reads_nothing() {
        let config = WebhookConfig::new(SECRET)
            .expect("config")
            .with_body_limit(4);
        let taken = AtomicUsize::new(0);
        let outcome =
            collect_verified(&config, head(Some(5), None), counted(&[b"ab"], &taken)).await;
        assert!(matches!(
            outcome,
            Err(Rejection::PayloadTooLarge { limit: 4 })
        ));
        assert_eq!(taken.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn undeclared_body_stops_at_the_first_chunk_over_the_limit() {
        let config = WebhookConfig::new(SECRET)
            .expect("config")
            .with_body_limit(4);
        let taken = AtomicUsize::new(0);
        let body = counted(&[b"abc", b"def", b"ghi", b"jkl"], &taken);
        let outcome = collect_verified(&config, head(None, None), body).await;
        assert!(matches!(
            outcome,
            Err(Rejection::PayloadTooLarge { limit: 4 })
        ));
        assert_eq!(taken.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_stream_error_is_an_incomplete_body() {
        let config = WebhookConfig::new(SECRET).expect("config");
        let body = stream::iter([
            Ok(Bytes::from_static(b"{\"id\"")),
            Err(String::from("reset")),
        ]);
        let outcome = collect_verified(&config, head(Some(100), None), body).await;
        assert!(matches!(outcome, Err(Rejection::IncompleteBody)));
    }

    #[tokio::test]
    async fn a_non_ascii_signature_is_malformed_not_missing() {
        let config = WebhookConfig::new(SECRET).expect("config");
        let taken = AtomicUsize::new(0);
        let signature = [b'a'; 63]
            .iter()
            .copied()
            .chain([0xff])
            .collect::<Vec<u8>>();
        let outcome = collect_verified(
            &config,
            head(None, Some(&signature)),
            counted(&[b"{}"], &taken),
        )
        .await;
        assert!(matches!(
            outcome,
            Err(Rejection::Signature(SignatureError::Malformed))
        ));
        let outcome = collect_verified(&config, head(None, None), counted(&[b"{}"], &taken)).await;
        assert!(matches!(
            outcome,
            Err(Rejection::Signature(SignatureError::Missing))
        ));
    }
}
