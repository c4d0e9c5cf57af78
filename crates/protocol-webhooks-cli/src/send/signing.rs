//! How a request is signed: validly, validly and then tampered with, or not
//! at all; and which status the receiver should answer with.

use core::fmt;

use protocol_webhooks::Key;

/// The status a correct receiver answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expectation {
    /// Any 2xx: the event was accepted.
    Accepted,
    /// 401: the signature was refused.
    Unauthorized,
}

impl Expectation {
    /// Whether `status` is the expected answer.
    pub(crate) fn is_met_by(self, status: u16) -> bool {
        match self {
            Self::Accepted => (200..300).contains(&status),
            Self::Unauthorized => status == 401,
        }
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Accepted => "2xx",
            Self::Unauthorized => "401",
        })
    }
}

/// How each request is signed.
#[derive(Debug, Clone)]
pub(crate) enum Signing {
    /// A valid `x-protocol-signature`.
    Valid(Key),
    /// A valid signature, then one byte of the body changed.
    Tampered(Key),
    /// No `x-protocol-signature` header.
    Unsigned,
}

impl Signing {
    /// What a correct receiver answers.
    pub(crate) fn expectation(&self) -> Expectation {
        match self {
            Self::Valid(_) => Expectation::Accepted,
            Self::Tampered(_) | Self::Unsigned => Expectation::Unauthorized,
        }
    }

    /// The header value to send with `body`, tampering with `body` if asked.
    pub(crate) fn apply(&self, body: &mut Vec<u8>) -> Option<String> {
        match self {
            Self::Valid(key) => Some(key.sign(body).to_hex().to_string()),
            Self::Tampered(key) => {
                let signature = key.sign(body).to_hex().to_string();
                tamper(body);
                Some(signature)
            }
            Self::Unsigned => None,
        }
    }
}

/// Changes exactly one byte, keeping JSON valid where it can so that only
/// the signature is wrong: the last ASCII digit becomes another non-zero
/// digit (so no number gains a leading zero). Without digits the last byte's
/// lowest bit is flipped; an empty body gets one space.
pub(crate) fn tamper(body: &mut Vec<u8>) {
    if let Some(digit) = body.iter_mut().rev().find(|byte| byte.is_ascii_digit()) {
        *digit = if *digit == b'9' { b'8' } else { *digit + 1 };
    } else if let Some(last) = body.last_mut() {
        *last ^= 1;
    } else {
        body.push(b' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol_webhooks::SignatureError;

    fn differing_bytes(a: &[u8], b: &[u8]) -> usize {
        a.iter().zip(b).filter(|(x, y)| x != y).count() + a.len().abs_diff(b.len())
    }

    #[test]
    fn tampering_changes_one_byte_and_keeps_json_valid() {
        for original in [
            &br#"{"id":"evt_1","n":9}"#[..],
            br#"{"id":"evt_0","n":10}"#,
            br#"{"a":"b"}"#,
            b"",
        ] {
            let mut body = original.to_vec();
            tamper(&mut body);
            assert_eq!(differing_bytes(original, &body), 1, "{original:?}");
            if serde_json::from_slice::<serde_json::Value>(original).is_ok()
                && original.iter().any(u8::is_ascii_digit)
            {
                serde_json::from_slice::<serde_json::Value>(&body).expect("still JSON");
            }
        }
    }

    #[test]
    fn tampered_signature_no_longer_matches() {
        let key = Key::new("whsec_test").expect("key");
        let original = br#"{"id":"evt_1"}"#;
        let mut body = original.to_vec();
        let signature = Signing::Tampered(key.clone())
            .apply(&mut body)
            .expect("signed");
        assert_ne!(body, original);
        assert_eq!(
            key.verify(original, signature.as_bytes()),
            Ok(()),
            "signed before tampering"
        );
        assert_eq!(
            key.verify(&body, signature.as_bytes()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn expectations() {
        assert!(Expectation::Accepted.is_met_by(200));
        assert!(Expectation::Accepted.is_met_by(204));
        assert!(!Expectation::Accepted.is_met_by(401));
        assert!(!Expectation::Accepted.is_met_by(302));
        assert!(Expectation::Unauthorized.is_met_by(401));
        assert!(!Expectation::Unauthorized.is_met_by(400));
        assert!(!Expectation::Unauthorized.is_met_by(200));
        assert_eq!(Signing::Unsigned.expectation(), Expectation::Unauthorized);
        assert_eq!(Signing::Unsigned.apply(&mut Vec::new()), None);
    }
}
