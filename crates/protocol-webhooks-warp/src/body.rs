//! Reading a request under the size limit while its signature is computed.

use core::fmt;
use core::pin::pin;

use futures_util::{Stream, TryStreamExt};
use protocol_webhooks::{
    Rejection, SIGNATURE_HEADER, SignatureError, VerifiedBody, WebhookConfig,
    signature_header_value,
};
use warp::Buf;
use warp::http::header::{CONTENT_LENGTH, HeaderMap, HeaderValue};

/// What verification needs from the request head.
pub(crate) struct RequestHead {
    declared_length: Option<u64>,
    /// Decided from the head, but reported only once the body is read, so
    /// the size is checked first whatever the header.
    signature: Result<Option<HeaderValue>, SignatureError>,
}

impl RequestHead {
    /// Takes the declared length and the signature header's one value.
    ///
    /// hyper refuses a malformed Content-Length before it gets here; any
    /// other source of an unparsable one still cannot pass the limit, which
    /// is enforced again on every chunk. The signature stays raw bytes so
    /// that a non-ASCII value counts as present but malformed rather than
    /// missing.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let declared_length = headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse().ok());
        let signature = signature_header_value(headers.get_all(SIGNATURE_HEADER))
            .map(Option::<&HeaderValue>::cloned);
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
    let signature = head.signature?;
    collector.finish(signature.as_ref().map(HeaderValue::as_bytes))
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
        let mut headers = HeaderMap::new();
        if let Some(length) = declared_length {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
        if let Some(value) = signature {
            headers.insert(
                SIGNATURE_HEADER,
                HeaderValue::from_bytes(value).expect("header value"),
            );
        }
        RequestHead::from_headers(&headers)
    }

    /// A head carrying the signature header once per value.
    fn repeated_head(declared_length: Option<u64>, values: &[&[u8]]) -> RequestHead {
        let mut headers = HeaderMap::new();
        if let Some(length) = declared_length {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
        for value in values {
            headers.append(
                SIGNATURE_HEADER,
                HeaderValue::from_bytes(value).expect("header value"),
            );
        }
        RequestHead::from_headers(&headers)
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
    #[test]
    fn the_head_reads_the_declared_length() {
        assert_eq!(head(Some(42), None).declared_length, Some(42));
        assert_eq!(head(None, None).declared_length, None);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("forty-two"));
        assert_eq!(RequestHead::from_headers(&headers).declared_length, None);
    }

    #[tokio::test]
    async fn a_repeated_signature_is_refused_once_the_body_is_read() {
        let config = WebhookConfig::new(SECRET).expect("config");
        let signature = sign(SECRET, b"{}").expect("sign");
        let valid = signature.as_str().as_bytes();
        for values in [[valid, valid], [valid, &[b'0'; 64][..]], [&b"x"[..], valid]] {
            let taken = AtomicUsize::new(0);
            let outcome = collect_verified(
                &config,
                repeated_head(None, &values),
                counted(&[b"{", b"}"], &taken),
            )
            .await;
            assert!(
                matches!(outcome, Err(Rejection::Signature(SignatureError::Repeated))),
                "{outcome:?}"
            );
            assert_eq!(taken.load(Ordering::SeqCst), 2, "the body is read first");
        }
    }

    #[tokio::test]
    async fn the_size_is_checked_before_a_repeated_signature() {
        let config = WebhookConfig::new(SECRET)
            .expect("config")
            .with_body_limit(4);
        let signature = sign(SECRET, b"abcdef").expect("sign");
        let valid = signature.as_str().as_bytes();
        let taken = AtomicUsize::new(0);
        let outcome = collect_verified(
            &config,
            repeated_head(None, &[valid, valid]),
            counted(&[b"abc", b"def"], &taken),
        )
        .await;
        assert!(
            matches!(outcome, Err(Rejection::PayloadTooLarge { limit: 4 })),
            "{outcome:?}"
        );
        let outcome = collect_verified(
            &config,
            repeated_head(Some(6), &[valid, valid]),
            counted(&[b"abc", b"def"], &taken),
        )
        .await;
        assert!(
            matches!(outcome, Err(Rejection::PayloadTooLarge { limit: 4 })),
            "{outcome:?}"
        );
    }
}
