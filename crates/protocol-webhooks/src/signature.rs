//! The signature carried in the `x-protocol-signature` header.

use core::fmt;

use crate::{SignatureError, hex};

/// The name of the header that carries the signature, in lower case.
pub const SIGNATURE_HEADER: &str = "x-protocol-signature";

/// Length in bytes of an HMAC-SHA256 tag.
pub const SIGNATURE_LEN: usize = 32;

/// The one value of the signature header, out of every value a request
/// carries for it.
///
/// Pass all the values the framework holds for [`SIGNATURE_HEADER`] (with
/// `http::HeaderMap`, `headers.get_all(SIGNATURE_HEADER)`); items may be
/// `&[u8]` or anything else that is bytes, such as `&HeaderValue` or `&str`.
/// The answer goes to verification unchanged: `None` becomes
/// [`SignatureError::Missing`] there. Adapters report an error from here at
/// the point where they report the other signature errors, after the body
/// has been read and size-checked.
///
/// At most two values are looked at, and none is inspected, so a request
/// with many copies of the header costs no more than one with two.
///
/// # Errors
/// [`SignatureError::Repeated`] when there are two or more values, whatever
/// they are: the field is not a list, so picking one would let a proxy and
/// this receiver disagree about which signature the request carries.
///
/// ```
/// use protocol_webhooks::{Key, SignatureError, signature_header_value};
///
/// let key = Key::new("whsec_example")?;
/// let body = br#"{"id":"evt_1","type":"contact.created","payload":{"id":"c"}}"#;
/// let signature = key.sign(body).to_hex();
/// let valid = signature.as_str().as_bytes();
///
/// // One value, as Protocol sends it: verified as usual.
/// let header = signature_header_value([valid])?;
/// assert_eq!(header, Some(valid));
/// assert!(key.verify(body, header.ok_or(SignatureError::Missing)?).is_ok());
///
/// // No value: the header is missing.
/// assert_eq!(signature_header_value(core::iter::empty::<&[u8]>()), Ok(None));
///
/// // Two values are refused, even when both are the valid signature.
/// assert_eq!(signature_header_value([valid, valid]), Err(SignatureError::Repeated));
/// assert_eq!(
///     signature_header_value([&b"not a signature"[..], valid]),
///     Err(SignatureError::Repeated)
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn signature_header_value<I>(values: I) -> Result<Option<I::Item>, SignatureError>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let mut values = values.into_iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(SignatureError::Repeated);
    }
    Ok(first)
}

/// A decoded HMAC-SHA256 signature: 32 bytes.
///
/// Its `Debug` output is redacted so that logging a value never leaks what a
/// valid signature for some body looks like. Use [`Signature::to_hex`] to get
/// the header value on purpose.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature([u8; SIGNATURE_LEN]);

impl Signature {
    /// Parses a header value: exactly 64 hexadecimal digits, either case.
    ///
    /// Anything else — empty, 63 or 65 digits, a `sha256=` prefix, base64,
    /// surrounding spaces — is [`SignatureError::Malformed`].
    ///
    /// # Errors
    /// [`SignatureError::Malformed`] when the value is not 64 hex digits.
    pub fn from_header(value: &[u8]) -> Result<Self, SignatureError> {
        hex::decode::<SIGNATURE_LEN>(value)
            .map(Self)
            .ok_or(SignatureError::Malformed)
    }

    /// Wraps raw tag bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; SIGNATURE_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw tag bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; SIGNATURE_LEN] {
        &self.0
    }

    /// The lower-case hex form, as sent in the header.
    #[must_use]
    pub fn to_hex(&self) -> HexSignature {
        let mut out = [0u8; 2 * SIGNATURE_LEN];
        hex::encode_lower(&self.0, &mut out);
        HexSignature(out)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signature(<redacted>)")
    }
}

impl core::str::FromStr for Signature {
    type Err = SignatureError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_header(s.as_bytes())
    }
}

/// A signature as 64 lower-case hex digits, ready to send as a header value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexSignature([u8; 2 * SIGNATURE_LEN]);

impl HexSignature {
    /// The digits as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into the buffer.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl AsRef<str> for HexSignature {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for HexSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for HexSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HexSignature(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";

    #[test]
    fn accepts_64_hex_digits_in_either_case() {
        assert!(Signature::from_header(VALID.as_bytes()).is_ok());
        let upper = VALID.to_ascii_uppercase();
        assert_eq!(
            Signature::from_header(upper.as_bytes()),
            Signature::from_header(VALID.as_bytes())
        );
    }

    #[test]
    fn refuses_everything_else() {
        let cases: [&[u8]; 8] = [
            b"",
            &VALID.as_bytes()[..63],
            b"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff70",
            b"sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            b"sDRMYdjbOFNcqK/OrwvxK4gdwgDJgz2nJuk3bC4yz/c=",
            b"g0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            b" b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff",
            b"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff\xc3",
        ];
        for case in cases {
            assert_eq!(
                Signature::from_header(case),
                Err(SignatureError::Malformed),
                "{case:?}"
            );
        }
    }

    #[test]
    fn no_value_is_absent() {
        assert_eq!(
            signature_header_value(core::iter::empty::<&[u8]>()),
            Ok(None)
        );
    }

    #[test]
    fn one_value_is_passed_on_untouched() {
        for value in [VALID.as_bytes(), b"", b"sha256=not-even-hex"] {
            assert_eq!(signature_header_value([value]), Ok(Some(value)));
        }
    }

    #[test]
    fn two_identical_valid_values_are_repeated() {
        let valid = VALID.as_bytes();
        assert_eq!(
            signature_header_value([valid, valid]),
            Err(SignatureError::Repeated)
        );
    }

    #[test]
    fn a_valid_and_an_invalid_value_are_repeated_in_either_order() {
        let valid = VALID.as_bytes();
        let invalid = &VALID.as_bytes()[..63];
        for values in [[valid, invalid], [invalid, valid]] {
            assert_eq!(
                signature_header_value(values),
                Err(SignatureError::Repeated)
            );
        }
        assert_eq!(
            signature_header_value([valid, b"", valid]),
            Err(SignatureError::Repeated)
        );
    }

    #[test]
    fn values_may_be_any_bytes() {
        assert_eq!(signature_header_value([VALID]), Ok(Some(VALID)));
        assert_eq!(
            signature_header_value([VALID, VALID]),
            Err(SignatureError::Repeated)
        );
    }

    #[test]
    fn stops_after_the_second_value() {
        let mut seen = 0;
        let values = core::iter::repeat_n(VALID.as_bytes(), 1_000).inspect(|_| seen += 1);
        assert_eq!(
            signature_header_value(values),
            Err(SignatureError::Repeated)
        );
        assert_eq!(seen, 2);
    }

    #[test]
    fn hex_round_trips_in_lower_case() {
        let upper = VALID.to_ascii_uppercase();
        let parsed = Signature::from_header(upper.as_bytes()).expect("valid");
        assert_eq!(parsed.to_hex().as_str(), VALID);
    }

    #[test]
    fn debug_is_redacted() {
        let parsed = Signature::from_header(VALID.as_bytes()).expect("valid");
        let debug = format!("{parsed:?} {:?}", parsed.to_hex());
        assert!(!debug.contains(&VALID[..8]), "{debug}");
    }
}
