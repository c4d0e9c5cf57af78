//! Collecting a body that arrives as a stream of `Buf` chunks (feature
//! `stream`): actix-web's payload, warp's and poem's body streams, and any
//! `http-body` body turned into a data stream.

use core::future::poll_fn;
use core::pin::pin;
use core::task::Poll;

use bytes::Buf;
use futures_core::Stream;

use crate::{BodyCollector, Rejection, VerifiedBody};

impl BodyCollector {
    /// Reads `body` to its end, then checks the signature.
    ///
    /// Reading stops at the first chunk that passes the limit, and the
    /// stream is dropped there: the rest of an oversized body is never
    /// buffered. A stream error (the client hung up, broken framing) is
    /// [`Rejection::IncompleteBody`]. With the `tokio` feature the whole body
    /// must arrive within the configuration's
    /// [`body_timeout`](crate::WebhookConfig::body_timeout), or the request
    /// is [`Rejection::BodyTimeout`]; without it there is no deadline here.
    ///
    /// # Errors
    /// [`Rejection::PayloadTooLarge`], [`Rejection::IncompleteBody`],
    /// [`Rejection::BodyTimeout`] or, once the body is read,
    /// [`Rejection::Signature`].
    ///
    /// ```
    /// use protocol_webhooks::{Key, RequestHead, WebhookConfig};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
    ///
    /// let config = WebhookConfig::new("whsec_example")?;
    /// let signature = Key::new("whsec_example")?.sign(b"hello world").to_hex();
    /// let head = RequestHead::new(None::<&[u8]>, [signature.as_str()]);
    /// let chunks = futures_util::stream::iter([
    ///     Ok::<_, std::io::Error>(&b"hello "[..]),
    ///     Ok(&b"world"[..]),
    /// ]);
    /// let body = config.collect_body(head)?.collect(chunks).await?;
    /// assert_eq!(body.as_bytes(), b"hello world");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn collect<S, B, E>(mut self, body: S) -> Result<VerifiedBody, Rejection>
    where
        S: Stream<Item = Result<B, E>>,
        B: Buf,
    {
        let mut body = pin!(body);
        #[cfg(feature = "tokio")]
        let (after, mut deadline) = (self.timeout, pin!(None::<tokio::time::Sleep>));
        loop {
            let next = poll_fn(|cx| match body.as_mut().poll_next(cx) {
                Poll::Ready(chunk) => Poll::Ready(Ok::<_, Rejection>(chunk)),
                #[cfg(feature = "tokio")]
                Poll::Pending => {
                    crate::deadline::poll_passed(deadline.as_mut(), after, cx).map(Err)
                }
                #[cfg(not(feature = "tokio"))]
                Poll::Pending => Poll::Pending,
            })
            .await?;
            let Some(chunk) = next else { break };
            // The cause (a reset, broken framing) is the client's; the
            // answer's one log line records the refusal.
            let mut chunk = chunk.map_err(|_| Rejection::IncompleteBody)?;
            while chunk.has_remaining() {
                let bytes = chunk.chunk();
                let read = bytes.len();
                self.push(bytes)?;
                chunk.advance(read);
            }
        }
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use core::sync::atomic::{AtomicUsize, Ordering};

    use alloc::string::String;
    use alloc::vec::Vec;
    use bytes::Bytes;
    use futures_util::{StreamExt, stream};

    use crate::{RequestHead, SignatureError, WebhookConfig, sign};

    use super::*;

    const SECRET: &str = "whsec_body";

    fn head(declared_length: Option<u64>, signatures: &[&[u8]]) -> RequestHead {
        let length = declared_length.map(|length| length.to_string());
        RequestHead::new(length.as_deref().map(str::as_bytes), signatures)
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
        stream::iter(parts).inspect(move |_| {
            taken.fetch_add(1, Ordering::SeqCst);
        })
    }

    async fn collect(
        config: &WebhookConfig,
        head: RequestHead,
        body: impl Stream<Item = Result<Bytes, String>>,
    ) -> Result<VerifiedBody, Rejection> {
        config.collect_body(head)?.collect(body).await
    }

    fn config(limit: usize) -> WebhookConfig {
        WebhookConfig::new(SECRET)
            .expect("config")
            .with_body_limit(limit)
    }

    #[tokio::test]
    async fn chunks_are_joined_and_verified() {
        let signature = sign(SECRET, b"hello world").expect("sign").to_hex();
        let taken = AtomicUsize::new(0);
        let body = counted(&[b"hello", b"", b" world"], &taken);
        let verified = collect(
            &config(100),
            head(None, &[signature.as_str().as_bytes()]),
            body,
        )
        .await
        .expect("verified");
        assert_eq!(verified.as_bytes(), b"hello world");
        assert_eq!(taken.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn declared_length_over_the_limit_reads_nothing() {
        let taken = AtomicUsize::new(0);
        let outcome = collect(&config(4), head(Some(5), &[]), counted(&[b"ab"], &taken)).await;
        assert!(matches!(
            outcome,
            Err(Rejection::PayloadTooLarge { limit: 4 })
        ));
        assert_eq!(taken.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn undeclared_body_stops_at_the_first_chunk_over_the_limit() {
        let taken = AtomicUsize::new(0);
        let body = counted(&[b"abc", b"def", b"ghi", b"jkl"], &taken);
        let outcome = collect(&config(4), head(None, &[]), body).await;
        assert!(matches!(
            outcome,
            Err(Rejection::PayloadTooLarge { limit: 4 })
        ));
        assert_eq!(taken.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stalls_times_out_with_what_arrived_kept_out() {
        let config = config(100).with_body_timeout(core::time::Duration::from_secs(30));
        let first = stream::iter([Ok::<_, String>(Bytes::from_static(b"{\"id\""))]);
        let body = first.chain(stream::pending());
        let outcome = collect(&config, head(Some(50), &[]), body).await;
        assert!(
            matches!(outcome, Err(Rejection::BodyTimeout { after }) if after.as_secs() == 30),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_stream_error_is_an_incomplete_body() {
        let body = stream::iter([
            Ok(Bytes::from_static(b"{\"id\"")),
            Err(String::from("reset")),
        ]);
        let outcome = collect(&config(100), head(Some(100), &[]), body).await;
        assert!(matches!(outcome, Err(Rejection::IncompleteBody)));
    }

    #[tokio::test]
    async fn a_repeated_signature_is_refused_once_the_body_is_read() {
        let signature = sign(SECRET, b"{}").expect("sign").to_hex();
        let valid = signature.as_str().as_bytes();
        for values in [[valid, valid], [valid, &[b'0'; 64][..]], [&b"x"[..], valid]] {
            let taken = AtomicUsize::new(0);
            let outcome = collect(
                &config(100),
                head(None, &values),
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
    async fn the_size_is_checked_before_the_signature() {
        let taken = AtomicUsize::new(0);
        for declared in [None, Some(6)] {
            let outcome = collect(
                &config(4),
                head(declared, &[b"x", b"y"]),
                counted(&[b"abc", b"def"], &taken),
            )
            .await;
            assert!(
                matches!(outcome, Err(Rejection::PayloadTooLarge { limit: 4 })),
                "{outcome:?}"
            );
        }
    }

    #[tokio::test]
    async fn buf_chunks_made_of_several_slices_are_read_whole() {
        let signature = sign(SECRET, b"hello world").expect("sign").to_hex();
        let chained = Buf::chain(&b"hello "[..], &b"world"[..]);
        let body = stream::iter([Ok::<_, String>(chained)]);
        let verified = config(100)
            .collect_body(head(None, &[signature.as_str().as_bytes()]))
            .expect("head")
            .collect(body)
            .await
            .expect("verified");
        assert_eq!(verified.as_bytes(), b"hello world");
    }
}
