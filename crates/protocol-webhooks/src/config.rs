//! The receiver's configuration: secrets and the body limit.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use crate::{Key, KeyError, Rejection, RequestHead, SignatureError, Verifier, body::BodyCollector};

/// The body limit used unless configured otherwise: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// How long a body may take to arrive unless configured otherwise: 30 s.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything a receiver needs: one or more secrets and a body limit.
///
/// Several secrets let a rotation proceed without dropping requests: a
/// signature made with any of them verifies. Cloning is cheap (a reference
/// count), so frameworks may clone it per request. `Debug` redacts the keys.
///
/// ```
/// use protocol_webhooks::WebhookConfig;
///
/// let config = WebhookConfig::new("whsec_current")?
///     .with_secret("whsec_previous")?
///     .with_body_limit(256 * 1024);
/// assert_eq!(config.body_limit(), 256 * 1024);
/// # Ok::<(), protocol_webhooks::KeyError>(())
/// ```
#[derive(Clone)]
pub struct WebhookConfig {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    keys: Vec<Key>,
    body_limit: usize,
    body_timeout: Duration,
}

impl WebhookConfig {
    /// A configuration with one secret and the default 1 MiB body limit.
    ///
    /// # Errors
    /// [`KeyError::EmptySecret`] for an empty secret.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        Ok(Self::from_key(Key::new(secret)?))
    }

    /// A configuration with one prepared key and the default body limit.
    #[must_use]
    pub fn from_key(key: Key) -> Self {
        Self {
            inner: Arc::new(Inner {
                keys: alloc::vec![key],
                body_limit: DEFAULT_BODY_LIMIT,
                body_timeout: DEFAULT_BODY_TIMEOUT,
            }),
        }
    }

    /// Adds another accepted secret, for rotation.
    ///
    /// # Errors
    /// [`KeyError::EmptySecret`] for an empty secret.
    pub fn with_secret(self, secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        Ok(self.with_key(Key::new(secret)?))
    }

    /// Adds another accepted key, for rotation.
    #[must_use]
    pub fn with_key(mut self, key: Key) -> Self {
        Arc::make_mut(&mut self.inner).keys.push(key);
        self
    }

    /// Sets the largest body accepted, in bytes.
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.inner).body_limit = bytes;
        self
    }

    /// The largest body accepted, in bytes.
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.inner.body_limit
    }

    /// Sets how long the whole body may take to arrive, counted from when
    /// reading it starts, right after the request head: past it the request
    /// is refused with 408 and the connection closed, so a client that
    /// trickles its body cannot hold a connection for long. The deadline is
    /// enforced by `BodyCollector::collect` and `collect_reader` (feature
    /// `tokio`), which every adapter uses.
    #[must_use]
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        Arc::make_mut(&mut self.inner).body_timeout = timeout;
        self
    }

    /// How long the whole body may take to arrive.
    #[must_use]
    pub fn body_timeout(&self) -> Duration {
        self.inner.body_timeout
    }

    /// The accepted keys, in the order they were added.
    #[must_use]
    pub fn keys(&self) -> &[Key] {
        &self.inner.keys
    }

    /// Checks a whole body against the header value, allocating nothing.
    ///
    /// # Errors
    /// [`SignatureError::Missing`] for `None`, otherwise as
    /// [`verify_with_any`](crate::verify_with_any).
    pub fn verify(&self, body: &[u8], header: Option<&[u8]>) -> Result<(), SignatureError> {
        crate::verify_with_any(self.keys(), body, header.ok_or(SignatureError::Missing)?)
    }

    /// Starts an incremental verification with every key.
    #[must_use]
    pub fn verifier(&self) -> Verifier {
        Verifier::new(self.keys())
    }

    /// Starts reading a request body under this configuration's limit.
    ///
    /// A body whose `head` declares more than the limit is refused before a
    /// byte is read.
    ///
    /// # Errors
    /// [`Rejection::PayloadTooLarge`] when the declared length is over the limit.
    pub fn collect_body(&self, head: RequestHead) -> Result<BodyCollector, Rejection> {
        BodyCollector::new(self, head)
    }

    /// Checks the size, then the signature, and only then parses the event:
    /// unauthenticated bytes are never parsed.
    ///
    /// # Errors
    /// The [`Rejection`] for the first check that fails, in that order.
    #[cfg(feature = "events")]
    pub fn verify_event(
        &self,
        body: &[u8],
        header: Option<&[u8]>,
    ) -> Result<crate::events::Event, Rejection> {
        if body.len() > self.body_limit() {
            return Err(Rejection::PayloadTooLarge {
                limit: self.body_limit(),
            });
        }
        let header = header.ok_or(SignatureError::Missing)?;
        let signature = crate::Signature::from_header(header)?;
        let index = crate::key::matching_key(self.keys(), body, &signature)?;
        let key = &self.keys()[index];
        let key = crate::MatchedKey::new(index, key.shared_label().cloned());
        Ok(crate::events::Event::from_slice(body)?.with_key(key))
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("keys", &self.inner.keys.len())
            .field("body_limit", &self.inner.body_limit)
            .field("body_timeout", &self.inner.body_timeout)
            .finish()
    }
}
