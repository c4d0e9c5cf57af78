//! What verification needs from a request's head, decided before its body.

use core::fmt;

use crate::{Signature, SignatureError, signature_header_value};

/// The two headers verification reads: the declared `Content-Length` and
/// every value of `x-protocol-signature`, parsed once, before the body.
///
/// Adapters build it from their framework's header map (with the `http`
/// feature, [`from_headers`](Self::from_headers) for `http` 1.x) and hand it
/// to [`WebhookConfig::collect_body`](crate::WebhookConfig::collect_body),
/// which refuses an over-limit declared length before a byte is read. The
/// signature is decoded here, so nothing of the request is kept while the
/// body arrives, but a signature failure is reported only by
/// [`BodyCollector::finish`](crate::BodyCollector::finish): the contract
/// checks the size first, and a chunked body's size is known only once read.
///
/// ```
/// use protocol_webhooks::{RequestHead, SignatureError};
///
/// let head = RequestHead::new([&b" 42 "[..]], [&b"not hex"[..]]);
/// assert_eq!(head.declared_length(), Some(42));
/// assert_eq!(head.signature_error(), Some(SignatureError::Malformed));
///
/// let repeated = RequestHead::new(None::<&[u8]>, [[b'0'; 64], [b'0'; 64]]);
/// assert_eq!(repeated.signature_error(), Some(SignatureError::Repeated));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RequestHead {
    declared_length: Option<u64>,
    signature: Result<Signature, SignatureError>,
}

impl RequestHead {
    /// Reads the head from the raw values of `Content-Length` and of
    /// `x-protocol-signature`, each in the order received.
    ///
    /// A `Content-Length` that is not a decimal number, or several that
    /// disagree, count as undeclared: the HTTP layer has refused such
    /// framing before this in every supported framework, and the limit is
    /// enforced on the bytes as they arrive anyway. The signature header is
    /// refused as [`SignatureError::Repeated`] when sent more than once,
    /// whatever the values (see [`signature_header_value`]), as missing when
    /// absent, and as malformed unless it is 64 hex digits.
    pub fn new<L, S>(content_lengths: L, signatures: S) -> Self
    where
        L: IntoIterator,
        L::Item: AsRef<[u8]>,
        S: IntoIterator,
        S::Item: AsRef<[u8]>,
    {
        let signature = signature_header_value(signatures).and_then(|value| {
            let value = value.ok_or(SignatureError::Missing)?;
            Signature::from_header(value.as_ref())
        });
        Self {
            declared_length: declared_length(content_lengths),
            signature,
        }
    }

    /// Reads the head from an `http` 1.x header map (axum, warp, poem,
    /// hyper). Header names are matched without regard to case.
    #[cfg(feature = "http")]
    #[must_use]
    pub fn from_headers(headers: &http::HeaderMap) -> Self {
        Self::new(
            headers.get_all(http::header::CONTENT_LENGTH),
            headers.get_all(crate::SIGNATURE_HEADER),
        )
    }

    /// The declared body length, if the request declared one.
    #[must_use]
    pub fn declared_length(&self) -> Option<u64> {
        self.declared_length
    }

    /// Why the signature header will be refused, if it already is.
    #[must_use]
    pub fn signature_error(&self) -> Option<SignatureError> {
        self.signature.as_ref().err().copied()
    }

    /// Replaces the declared length with one the framework knows better,
    /// such as the exact size hint of a body hyper holds to its
    /// `Content-Length`.
    #[must_use]
    pub fn with_declared_length(mut self, length: Option<u64>) -> Self {
        if length.is_some() {
            self.declared_length = length;
        }
        self
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn into_signature(self) -> Result<Signature, SignatureError> {
        self.signature
    }
}

/// Several identical values are one declaration (RFC 9110, section 8.6);
/// anything else is none.
fn declared_length<L>(values: L) -> Option<u64>
where
    L: IntoIterator,
    L::Item: AsRef<[u8]>,
{
    let mut declared = None;
    for value in values {
        let length = parse_length(value.as_ref())?;
        if declared.is_some_and(|earlier| earlier != length) {
            return None;
        }
        declared = Some(length);
    }
    declared
}

/// A decimal `Content-Length`, with the optional white space around a field
/// value; at most 19 digits, so it always fits a `u64`.
fn parse_length(value: &[u8]) -> Option<u64> {
    let digits = value.trim_ascii();
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0u64, |length, &digit| {
        digit
            .is_ascii_digit()
            .then(|| length * 10 + u64::from(digit - b'0'))
    })
}

impl fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The decoded signature is redacted by its own Debug; only its
        // state is worth showing.
        f.debug_struct("RequestHead")
            .field("declared_length", &self.declared_length)
            .field("signature_error", &self.signature_error())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Option<&[u8]> = None;

    #[test]
    fn lengths() {
        assert_eq!(declared_length([&b"0"[..]]), Some(0));
        assert_eq!(declared_length([&b"\t1024 "[..]]), Some(1024));
        assert_eq!(declared_length([&b"12"[..], b"12"]), Some(12));
        assert_eq!(declared_length([&b"12"[..], b"13"]), None);
        assert_eq!(declared_length([&b"-1"[..]]), None);
        assert_eq!(declared_length([&b"+1"[..]]), None);
        assert_eq!(declared_length([&b"1,1"[..]]), None);
        assert_eq!(declared_length([&b""[..]]), None);
        assert_eq!(
            declared_length([&b"9999999999999999999"[..]]),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(declared_length([&b"99999999999999999999"[..]]), None);
        assert_eq!(declared_length(NONE), None);
    }

    #[test]
    fn signatures() {
        let valid = [b'a'; 64];
        assert!(RequestHead::new(NONE, [valid]).signature_error().is_none());
        assert_eq!(
            RequestHead::new(NONE, NONE).signature_error(),
            Some(SignatureError::Missing)
        );
        assert_eq!(
            RequestHead::new(NONE, [&b""[..]]).signature_error(),
            Some(SignatureError::Malformed)
        );
        let mut non_ascii = valid;
        non_ascii[63] = 0xff;
        assert_eq!(
            RequestHead::new(NONE, [non_ascii]).signature_error(),
            Some(SignatureError::Malformed)
        );
        assert_eq!(
            RequestHead::new(NONE, [&valid[..], &non_ascii[..]]).signature_error(),
            Some(SignatureError::Repeated)
        );
    }

    #[test]
    fn a_known_length_replaces_the_declared_one() {
        let head = RequestHead::new([&b"5"[..]], NONE);
        assert_eq!(
            head.clone().with_declared_length(Some(7)).declared_length(),
            Some(7)
        );
        assert_eq!(head.with_declared_length(None).declared_length(), Some(5));
    }
}
