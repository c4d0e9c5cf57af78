//! The endpoint's webhook secret, keyed once into HMAC-SHA256.

use core::fmt;

#[cfg(feature = "alloc")]
use alloc::sync::Arc;
use hmac::{KeyInit, Mac};

use crate::{KeyError, Signature, SignatureError, Verifier};

pub(crate) type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// One webhook secret, ready to sign and verify.
///
/// The secret is hashed into HMAC's inner and outer states once, here; each
/// message then starts from a copy of those states instead of re-keying. The
/// secret bytes themselves are not kept. The keyed states are key material
/// and are zeroized when the `Key` is dropped; `Debug` prints the key's
/// [label](Self::labeled), or `<redacted>` without one.
///
/// ```
/// use protocol_webhooks::Key;
///
/// let key = Key::new("whsec_example")?;
/// let signature = key.sign(br#"{"id":"1","type":"contact.created","payload":{"id":"c"}}"#);
/// assert!(key.verify(br#"{"id":"1","type":"contact.created","payload":{"id":"c"}}"#,
///                    signature.to_hex().as_str().as_bytes()).is_ok());
/// # Ok::<(), protocol_webhooks::KeyError>(())
/// ```
#[derive(Clone)]
pub struct Key {
    keyed: HmacSha256,
    #[cfg(feature = "alloc")]
    label: Option<Arc<str>>,
}

impl Key {
    /// Keys HMAC-SHA256 with `secret`, used exactly as given (no trimming,
    /// no decoding: Protocol keys the HMAC with the secret's bytes).
    ///
    /// # Errors
    /// [`KeyError::EmptySecret`] for an empty secret.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let secret = secret.as_ref();
        if secret.is_empty() {
            return Err(KeyError::EmptySecret);
        }
        let keyed = HmacSha256::new_from_slice(secret).map_err(|_| KeyError::EmptySecret)?;
        Ok(Self {
            keyed,
            #[cfg(feature = "alloc")]
            label: None,
        })
    }

    /// Names the key, e.g. after the month its secret was issued, so that
    /// logs, metrics and [`MatchedKey`] can tell the secrets of a rotation
    /// apart without showing them. The label is not secret.
    ///
    /// ```
    /// use protocol_webhooks::Key;
    ///
    /// let key = Key::new("whsec_example")?.labeled("2026-11");
    /// assert_eq!(key.label(), Some("2026-11"));
    /// assert_eq!(format!("{key:?}"), r#"Key("2026-11")"#);
    /// # Ok::<(), protocol_webhooks::KeyError>(())
    /// ```
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn labeled(mut self, label: impl Into<Arc<str>>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// The key's label, if it was [given one](Self::labeled).
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// Signs `body`, as Protocol does.
    #[must_use]
    pub fn sign(&self, body: &[u8]) -> Signature {
        let mut mac = self.keyed.clone();
        mac.update(body);
        Signature::from_bytes(mac.finalize().into_bytes().into())
    }

    /// Checks a header value against `body`, comparing in constant time.
    ///
    /// # Errors
    /// [`SignatureError::Malformed`] when `header` is not 64 hex digits,
    /// [`SignatureError::Mismatch`] when it does not authenticate `body`.
    pub fn verify(&self, body: &[u8], header: &[u8]) -> Result<(), SignatureError> {
        // Hashing first lets the CPU decode the header while the SHA rounds
        // are still in flight; a malformed header costs an attacker no less
        // than a well-formed wrong one already does.
        let mut mac = self.keyed.clone();
        mac.update(body);
        let signature = Signature::from_header(header)?;
        mac.verify_slice(signature.as_bytes())
            .map_err(|_| SignatureError::Mismatch)
    }

    /// Checks an already-decoded signature against `body` in constant time.
    ///
    /// # Errors
    /// [`SignatureError::Mismatch`] when it does not authenticate `body`.
    pub fn verify_signature(
        &self,
        body: &[u8],
        signature: &Signature,
    ) -> Result<(), SignatureError> {
        let mut mac = self.keyed.clone();
        mac.update(body);
        mac.verify_slice(signature.as_bytes())
            .map_err(|_| SignatureError::Mismatch)
    }

    /// Starts an incremental verification: feed the body as it arrives.
    #[must_use]
    pub fn verifier(&self) -> Verifier {
        Verifier::new(core::slice::from_ref(self))
    }

    pub(crate) fn keyed(&self) -> &HmacSha256 {
        &self.keyed
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn shared_label(&self) -> Option<&Arc<str>> {
        self.label.as_ref()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "alloc")]
        if let Some(label) = &self.label {
            return f.debug_tuple("Key").field(label).finish();
        }
        f.write_str("Key(<redacted>)")
    }
}

/// Which of a configuration's keys authenticated a body: its position in
/// [`WebhookConfig::keys`](crate::WebhookConfig::keys) (0 is the first
/// secret given) and its [label](Key::labeled).
///
/// During a rotation, watch which key bodies are verified with: once the
/// previous secret no longer shows up, it can be retired.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MatchedKey {
    index: usize,
    label: Option<Arc<str>>,
}

#[cfg(feature = "alloc")]
impl MatchedKey {
    pub(crate) fn new(index: usize, label: Option<Arc<str>>) -> Self {
        Self { index, label }
    }

    /// The key's position in the configuration, 0 for the first.
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// The key's label, if it has one.
    #[must_use]
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    #[cfg(feature = "metrics")]
    pub(crate) fn shared_label(&self) -> Option<&Arc<str>> {
        self.label.as_ref()
    }
}

/// The label, or the position as `#0`, `#1`...: how logs and metrics name
/// the key.
#[cfg(feature = "alloc")]
impl fmt::Display for MatchedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.label {
            Some(label) => f.write_str(label),
            None => write!(f, "#{}", self.index),
        }
    }
}

/// Verifies `header` against `body` with any of `keys`, as during a secret
/// rotation. Allocates nothing.
///
/// # Errors
/// [`SignatureError::Malformed`] when `header` is not 64 hex digits,
/// [`SignatureError::Mismatch`] when no key authenticates `body` (also when
/// `keys` is empty).
pub fn verify_with_any(keys: &[Key], body: &[u8], header: &[u8]) -> Result<(), SignatureError> {
    let signature = Signature::from_header(header)?;
    matching_key(keys, body, &signature).map(drop)
}

/// The position of the first of `keys` that authenticates `body`.
pub(crate) fn matching_key(
    keys: &[Key],
    body: &[u8],
    signature: &Signature,
) -> Result<usize, SignatureError> {
    // Which key matched is not secret, so stopping at the first match leaks
    // nothing an attacker could use; each comparison itself is constant time.
    keys.iter()
        .position(|key| key.verify_signature(body, signature).is_ok())
        .ok_or(SignatureError::Mismatch)
}

/// Signs `body` with `secret`: [`Key::sign`] for a secret used once.
///
/// For senders and tests; receivers should build a [`Key`] once instead.
/// [`Signature::to_hex`] gives the header value.
///
/// # Errors
/// [`KeyError::EmptySecret`] for an empty secret.
///
/// ```
/// let signature = protocol_webhooks::sign("It's a secret", b"{}")?;
/// assert_eq!(signature.to_hex().as_str().len(), 64);
/// # Ok::<(), protocol_webhooks::KeyError>(())
/// ```
pub fn sign(secret: impl AsRef<[u8]>, body: &[u8]) -> Result<Signature, KeyError> {
    Ok(Key::new(secret)?.sign(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_secret_is_refused() {
        assert_eq!(Key::new("").err(), Some(KeyError::EmptySecret));
        assert_eq!(Key::new([0u8; 0]).err(), Some(KeyError::EmptySecret));
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let key = Key::new("s3cret").expect("key");
        let signature = key.sign(b"body");
        assert_eq!(key.verify_signature(b"body", &signature), Ok(()));
        assert_eq!(
            key.verify_signature(b"body!", &signature),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rotation_accepts_any_configured_key() {
        let old = Key::new("old").expect("key");
        let new = Key::new("new").expect("key");
        let other = Key::new("other").expect("key");
        let keys = [new.clone(), old.clone()];
        for signer in [&old, &new] {
            let header = signer.sign(b"x").to_hex();
            assert_eq!(
                verify_with_any(&keys, b"x", header.as_str().as_bytes()),
                Ok(())
            );
        }
        let header = other.sign(b"x").to_hex();
        assert_eq!(
            verify_with_any(&keys, b"x", header.as_str().as_bytes()),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_with_any(&[], b"x", header.as_str().as_bytes()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn debug_is_redacted() {
        let key = Key::new("super-secret-value").expect("key");
        let debug = format!("{key:?}");
        assert_eq!(debug, "Key(<redacted>)");
        let labeled = format!("{:?}", key.labeled("2026-11"));
        assert_eq!(labeled, r#"Key("2026-11")"#);
    }

    #[test]
    fn the_matched_key_is_named_by_label_or_position() {
        let keys = [
            Key::new("new").expect("key").labeled("2026-12"),
            Key::new("old").expect("key"),
        ];
        let config = crate::WebhookConfig::from_key(keys[0].clone()).with_key(keys[1].clone());
        for (signer, index, label, shown) in
            [(1, 1, None, "#1"), (0, 0, Some("2026-12"), "2026-12")]
        {
            let signature = keys[signer].sign(b"x");
            assert_eq!(matching_key(&keys, b"x", &signature), Ok(index));
            let mut verifier = config.verifier();
            verifier.update(b"x");
            let matched = verifier.matched_key(&signature).expect("matches");
            assert_eq!((matched.index(), matched.label()), (index, label));
            assert_eq!(matched.to_string(), shown);
        }
    }

    #[test]
    fn key_material_is_zeroized_on_drop() {
        // The keyed HMAC state is all the key material a `Key` holds; sha2's
        // `zeroize` feature makes its block states wipe themselves on drop.
        fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        assert_zeroize_on_drop::<<sha2::Sha256 as hmac::digest::block_api::CoreProxy>::Core>();
    }
}
