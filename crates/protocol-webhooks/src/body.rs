//! Reading a request body under a limit while hashing it.

use alloc::vec::Vec;
use core::fmt;

use crate::{
    MatchedKey, Rejection, RequestHead, Signature, SignatureError, Verifier, WebhookConfig,
};

/// Collects a request body chunk by chunk, refusing it as soon as it passes
/// the limit and hashing each chunk as it arrives.
///
/// This is the whole body-handling contract of every adapter: call
/// [`WebhookConfig::collect_body`] with the [`RequestHead`],
/// [`push`](Self::push) each chunk (or hand over the whole body stream with
/// `collect`, feature `stream`), then [`finish`](Self::finish), which
/// reports a signature failure the head already showed or checks the
/// signature against the bytes. Never more than `limit` bytes are buffered.
///
/// ```
/// use protocol_webhooks::{Rejection, RequestHead, WebhookConfig};
///
/// let config = WebhookConfig::new("whsec_example")?.with_body_limit(8);
/// let mut body = config.collect_body(RequestHead::new(None::<&[u8]>, [[b'0'; 64]]))?;
/// body.push(b"12345")?;
/// assert!(matches!(body.push(b"6789"), Err(Rejection::PayloadTooLarge { limit: 8 })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct BodyCollector {
    buffer: Vec<u8>,
    verifier: Verifier,
    limit: usize,
    declared_length: Option<u64>,
    #[cfg(feature = "tokio")]
    pub(crate) timeout: core::time::Duration,
    signature: Result<Signature, SignatureError>,
}

impl BodyCollector {
    pub(crate) fn new(config: &WebhookConfig, head: RequestHead) -> Result<Self, Rejection> {
        let limit = config.body_limit();
        let declared_length = head.declared_length();
        let capacity = match declared_length {
            Some(length) if length > limit as u64 => {
                return Err(Rejection::PayloadTooLarge { limit });
            }
            // The declared length is at most the limit here, so reserving it
            // is bounded; a body that later turns out shorter wastes little.
            Some(length) => usize::try_from(length).unwrap_or(limit),
            None => 0,
        };
        Ok(Self {
            buffer: Vec::with_capacity(capacity),
            verifier: config.verifier(),
            limit,
            declared_length,
            #[cfg(feature = "tokio")]
            timeout: config.body_timeout(),
            signature: head.into_signature(),
        })
    }

    /// Appends the next chunk.
    ///
    /// # Errors
    /// [`Rejection::PayloadTooLarge`] once the body passes the limit; the
    /// caller should stop reading.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Rejection> {
        if chunk.len() > self.limit - self.buffer.len() {
            return Err(Rejection::PayloadTooLarge { limit: self.limit });
        }
        self.verifier.update(chunk);
        self.buffer.extend_from_slice(chunk);
        Ok(())
    }

    /// Bytes collected so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    /// Whether nothing has been collected yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// The length the head declared, if any.
    #[must_use]
    pub fn declared_length(&self) -> Option<u64> {
        self.declared_length
    }

    /// Checks the head's signature against the complete body.
    ///
    /// # Errors
    /// [`Rejection::IncompleteBody`] when fewer bytes arrived than the head
    /// declared (a framework that reads ahead may hide the connection error
    /// that cut the body short), then [`Rejection::Signature`] when the
    /// header is missing, repeated, malformed or wrong.
    pub fn finish(self) -> Result<VerifiedBody, Rejection> {
        #[cfg(feature = "metrics")]
        crate::metrics::body_read(self.buffer.len());
        let received = u64::try_from(self.buffer.len()).ok();
        if self
            .declared_length
            .is_some_and(|declared| received != Some(declared))
        {
            return Err(Rejection::IncompleteBody);
        }
        let key = self.verifier.matched_key(&self.signature?)?;
        #[cfg(feature = "metrics")]
        crate::metrics::verified(&key);
        Ok(VerifiedBody {
            bytes: self.buffer,
            key,
        })
    }
}

impl fmt::Debug for BodyCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyCollector")
            .field("len", &self.buffer.len())
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// A request body whose signature has been verified: the exact bytes received.
///
/// Only [`BodyCollector::finish`] makes one, so holding a `VerifiedBody` is
/// proof of authenticity.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedBody {
    bytes: Vec<u8>,
    key: MatchedKey,
}

impl VerifiedBody {
    /// The verified bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The key that authenticated the body.
    #[must_use]
    pub fn verified_with(&self) -> &MatchedKey {
        &self.key
    }

    /// Takes the verified bytes.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Parses the verified bytes as a Protocol event.
    ///
    /// # Errors
    /// [`EventError`](crate::events::EventError) when the body is not a valid event.
    #[cfg(feature = "events")]
    pub fn parse(&self) -> Result<crate::events::Event, crate::events::EventError> {
        let event = crate::events::Event::from_slice(&self.bytes)?;
        Ok(event.with_key(self.key.clone()))
    }

    /// Parses the verified bytes as a Protocol event that keeps them, without
    /// copying them as [`parse`](Self::parse) does.
    ///
    /// # Errors
    /// [`EventError`](crate::events::EventError) when the body is not a valid event.
    #[cfg(feature = "events")]
    pub fn into_event(self) -> Result<crate::events::Event, crate::events::EventError> {
        let event = crate::events::Event::from_vec(self.bytes)?;
        Ok(event.with_key(self.key))
    }
}

impl AsRef<[u8]> for VerifiedBody {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for VerifiedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedBody")
            .field("len", &self.bytes.len())
            .field("verified_with", &self.key)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SignatureError;

    fn head(declared_length: Option<u64>, signature: Option<&[u8]>) -> RequestHead {
        let length = declared_length.map(|length| length.to_string());
        RequestHead::new(length.as_deref().map(str::as_bytes), signature)
    }

    fn config(limit: usize) -> WebhookConfig {
        WebhookConfig::new("secret")
            .expect("key")
            .with_body_limit(limit)
    }

    #[test]
    fn declared_length_over_limit_is_refused_before_reading() {
        let config = config(10);
        assert!(matches!(
            config.collect_body(head(Some(11), None)),
            Err(Rejection::PayloadTooLarge { limit: 10 })
        ));
        assert!(config.collect_body(head(Some(10), None)).is_ok());
    }

    #[test]
    fn body_exactly_at_limit_is_accepted() {
        let config = config(10);
        let header = config.keys()[0].sign(b"0123456789").to_hex();
        let mut body = config
            .collect_body(head(None, Some(header.as_str().as_bytes())))
            .expect("start");
        body.push(b"01234").expect("push");
        body.push(b"56789").expect("push");
        body.push(b"").expect("empty chunk");
        let verified = body.finish().expect("verified");
        assert_eq!(verified.as_bytes(), b"0123456789");
    }

    #[test]
    fn one_byte_over_is_refused() {
        let config = config(10);
        let mut body = config.collect_body(head(None, None)).expect("start");
        body.push(b"0123456789").expect("push");
        assert!(matches!(
            body.push(b"x"),
            Err(Rejection::PayloadTooLarge { .. })
        ));
        assert_eq!(body.len(), 10);
    }

    #[test]
    fn a_body_shorter_than_declared_is_incomplete() {
        let config = config(10);
        let mut body = config.collect_body(head(Some(5), None)).expect("start");
        body.push(b"1234").expect("push");
        assert!(matches!(body.finish(), Err(Rejection::IncompleteBody)));
    }

    #[test]
    fn missing_header_is_refused() {
        let body = config(10).collect_body(head(None, None)).expect("start");
        assert!(matches!(
            body.finish(),
            Err(Rejection::Signature(SignatureError::Missing))
        ));
    }
}
