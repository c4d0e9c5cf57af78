//! Incremental verification: hash the body while it is being read.

use core::fmt;

use hmac::Mac;

#[cfg(feature = "alloc")]
use crate::MatchedKey;
use crate::key::HmacSha256;
use crate::{Key, Signature, SignatureError};

#[cfg(feature = "alloc")]
use alloc::{sync::Arc, vec::Vec};

/// Verification in progress over a body that arrives in chunks.
///
/// Made by [`Key::verifier`] or, for several secrets,
/// [`WebhookConfig::verifier`](crate::WebhookConfig::verifier). Feed every
/// chunk to [`update`](Self::update) in order, then call
/// [`verify`](Self::verify) with the header value.
///
/// ```
/// use protocol_webhooks::Key;
///
/// let key = Key::new("whsec_example")?;
/// let header = key.sign(b"hello world").to_hex();
///
/// let mut verifier = key.verifier();
/// verifier.update(b"hello ");
/// verifier.update(b"world");
/// assert!(verifier.verify(header.as_str().as_bytes()).is_ok());
/// # Ok::<(), protocol_webhooks::KeyError>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    first: Option<HmacSha256>,
    // Only secret rotation needs more than one state; `Vec::new` does not
    // allocate, so the single-secret case stays allocation-free.
    #[cfg(feature = "alloc")]
    rest: Vec<HmacSha256>,
    // Every key's label, by position; empty (no allocation) when no key
    // has one.
    #[cfg(feature = "alloc")]
    labels: Vec<Option<Arc<str>>>,
}

impl Verifier {
    /// Starts with one running MAC per key. Without the `alloc` feature only
    /// the first key is used.
    pub(crate) fn new(keys: &[Key]) -> Self {
        #[cfg(feature = "alloc")]
        let labels = if keys.iter().any(|key| key.label().is_some()) {
            keys.iter().map(|key| key.shared_label().cloned()).collect()
        } else {
            Vec::new()
        };
        let mut keyed = keys.iter().map(|key| key.keyed().clone());
        Self {
            first: keyed.next(),
            #[cfg(feature = "alloc")]
            rest: keyed.collect(),
            #[cfg(feature = "alloc")]
            labels,
        }
    }

    /// Feeds the next chunk of the body.
    pub fn update(&mut self, chunk: &[u8]) {
        if let Some(mac) = &mut self.first {
            mac.update(chunk);
        }
        #[cfg(feature = "alloc")]
        for mac in &mut self.rest {
            mac.update(chunk);
        }
    }

    /// Finishes and checks the header value against everything fed so far.
    ///
    /// # Errors
    /// [`SignatureError::Malformed`] when `header` is not 64 hex digits,
    /// [`SignatureError::Mismatch`] when no key authenticates the body.
    pub fn verify(self, header: &[u8]) -> Result<(), SignatureError> {
        let signature = Signature::from_header(header)?;
        self.verify_signature(&signature)
    }

    /// Finishes and checks a decoded signature in constant time.
    ///
    /// # Errors
    /// [`SignatureError::Mismatch`] when no key authenticates the body.
    pub fn verify_signature(self, signature: &Signature) -> Result<(), SignatureError> {
        self.matching_key(signature).map(drop)
    }

    /// Finishes and names the position of the first key that authenticates
    /// the body. Every key's MAC is finished and compared, so the time
    /// taken does not depend on which one matched.
    pub(crate) fn matching_key(self, signature: &Signature) -> Result<usize, SignatureError> {
        let tag = signature.as_bytes();
        let mut matched = None;
        if self.first.is_some_and(|mac| mac.verify_slice(tag).is_ok()) {
            matched = Some(0);
        }
        #[cfg(feature = "alloc")]
        for (index, mac) in self.rest.into_iter().enumerate() {
            if mac.verify_slice(tag).is_ok() {
                matched = matched.or(Some(index + 1));
            }
        }
        matched.ok_or(SignatureError::Mismatch)
    }

    /// As [`matching_key`](Self::matching_key), naming the key.
    #[cfg(feature = "alloc")]
    pub(crate) fn matched_key(
        mut self,
        signature: &Signature,
    ) -> Result<MatchedKey, SignatureError> {
        let labels = core::mem::take(&mut self.labels);
        let index = self.matching_key(signature)?;
        let label = labels.into_iter().nth(index).flatten();
        Ok(MatchedKey::new(index, label))
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Verifier(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_equals_whole() {
        let key = Key::new("k").expect("key");
        let body = b"0123456789abcdefghijklmnopqrstuvwxyz".repeat(10);
        let header = key.sign(&body).to_hex();
        for split in [0, 1, 63, 64, 65, body.len()] {
            let mut verifier = key.verifier();
            verifier.update(&body[..split]);
            verifier.update(&body[split..]);
            assert_eq!(
                verifier.verify(header.as_str().as_bytes()),
                Ok(()),
                "split {split}"
            );
        }
    }
}
