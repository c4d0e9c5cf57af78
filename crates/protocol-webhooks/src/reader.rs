//! Collecting a body that is a tokio `AsyncRead` (feature `tokio`), as
//! rocket's is.

use alloc::vec;
use core::future::poll_fn;
use core::pin::pin;
use core::task::Poll;

use tokio::io::{AsyncRead, ReadBuf};

use crate::{BodyCollector, Rejection, VerifiedBody};

/// The most read from the stream at a time.
const READ_CHUNK: usize = 16 * 1024;

impl BodyCollector {
    /// Reads `body` to its end within the configuration's
    /// [`body_timeout`](crate::WebhookConfig::body_timeout), then checks the
    /// signature; as [`collect`](Self::collect) for a stream.
    ///
    /// Give it a reader that may yield one byte past the limit, so that a
    /// body over the limit is told from one exactly at it.
    ///
    /// # Errors
    /// [`Rejection::PayloadTooLarge`], [`Rejection::IncompleteBody`],
    /// [`Rejection::BodyTimeout`] or, once the body is read,
    /// [`Rejection::Signature`].
    pub async fn collect_reader<R: AsyncRead>(
        mut self,
        body: R,
    ) -> Result<VerifiedBody, Rejection> {
        let mut body = pin!(body);
        let (after, mut deadline) = (self.timeout, pin!(None::<tokio::time::Sleep>));
        // A typical webhook is a few KiB: a buffer the size of the declared
        // body (and the byte that shows its end) costs less to zero than
        // 16 KiB per request.
        let wanted = self
            .declared_length()
            .and_then(|length| usize::try_from(length.saturating_add(1)).ok());
        let mut chunk = vec![0; wanted.map_or(READ_CHUNK, |wanted| wanted.min(READ_CHUNK))];
        loop {
            let read = poll_fn(|cx| {
                let mut filled = ReadBuf::new(&mut chunk);
                match body.as_mut().poll_read(cx, &mut filled) {
                    Poll::Ready(Ok(())) => Poll::Ready(Ok(filled.filled().len())),
                    Poll::Ready(Err(_)) => Poll::Ready(Err(Rejection::IncompleteBody)),
                    Poll::Pending => {
                        crate::deadline::poll_passed(deadline.as_mut(), after, cx).map(Err)
                    }
                }
            })
            .await?;
            match chunk.get(..read) {
                Some([]) | None => return self.finish(),
                Some(bytes) => self.push(bytes)?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use crate::{RequestHead, WebhookConfig, sign};

    use super::*;

    const SECRET: &str = "whsec_reader";

    fn head(declared: Option<&str>, signature: &str) -> RequestHead {
        RequestHead::new(declared, [signature])
    }

    #[tokio::test]
    async fn reads_and_verifies() {
        let config = WebhookConfig::new(SECRET).expect("config");
        let signature = sign(SECRET, b"hello world").expect("sign").to_hex();
        let body = config
            .collect_body(head(Some("11"), signature.as_str()))
            .expect("head")
            .collect_reader(&b"hello world"[..])
            .await
            .expect("verified");
        assert_eq!(body.as_bytes(), b"hello world");
    }

    #[tokio::test]
    async fn a_short_body_is_incomplete_and_a_long_one_too_large() {
        let config = WebhookConfig::new(SECRET)
            .expect("config")
            .with_body_limit(8);
        let signature = sign(SECRET, b"hello").expect("sign").to_hex();
        let short = config
            .collect_body(head(Some("8"), signature.as_str()))
            .expect("head")
            .collect_reader(&b"hello"[..])
            .await;
        assert!(matches!(short, Err(Rejection::IncompleteBody)), "{short:?}");
        let long = config
            .collect_body(head(None, signature.as_str()))
            .expect("head")
            .collect_reader(&b"hello world"[..])
            .await;
        assert!(
            matches!(long, Err(Rejection::PayloadTooLarge { limit: 8 })),
            "{long:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_times_out() {
        let config = WebhookConfig::new(SECRET)
            .expect("config")
            .with_body_timeout(Duration::from_secs(5));
        let (_client, server) = tokio::io::duplex(64);
        let outcome = config
            .collect_body(head(Some("10"), &"0".repeat(64)))
            .expect("head")
            .collect_reader(server)
            .await;
        assert!(
            matches!(outcome, Err(Rejection::BodyTimeout { after }) if after == Duration::from_secs(5)),
            "{outcome:?}"
        );
    }
}
