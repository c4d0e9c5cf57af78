//! The random token that proves who holds a claim.

use alloc::string::String;
use core::fmt;

use super::StoreError;

/// The number of random bytes in a token: 128 bits cannot be guessed.
const TOKEN_LEN: usize = 16;

/// Proof of holding a claim: 128 random bits from the operating system.
///
/// A store hands one out with [`ClaimOutcome::Claimed`](super::ClaimOutcome)
/// and commits or releases a claim only for the same token, so a holder whose
/// lease expired cannot commit or release the claim of whoever took over.
///
/// `Debug` shows only the first two bytes, enough to tell tokens apart in
/// logs without giving one away.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClaimToken([u8; TOKEN_LEN]);

impl ClaimToken {
    /// A fresh token from the operating system's random source.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] in the rare case the operating system has
    /// no randomness to give: a claim is then impossible, like a store that
    /// cannot be reached.
    pub fn random() -> Result<Self, StoreError> {
        let mut bytes = [0u8; TOKEN_LEN];
        getrandom::fill(&mut bytes).map_err(StoreError::unavailable)?;
        Ok(Self(bytes))
    }

    /// The token's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; TOKEN_LEN] {
        &self.0
    }

    /// The token as 32 lower-case hex digits, for stores that keep text.
    #[must_use]
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        self.0
            .iter()
            .flat_map(|byte| {
                [
                    DIGITS[usize::from(byte >> 4)],
                    DIGITS[usize::from(byte & 0x0f)],
                ]
            })
            .map(char::from)
            .collect()
    }
}

impl fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimToken({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hex_encoded() {
        let first = ClaimToken::random().expect("random");
        let second = ClaimToken::random().expect("random");
        assert_ne!(first, second);
        let hex = first.to_hex();
        assert_eq!(hex.len(), 32);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let expected: String = first
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, expected);
    }

    #[test]
    fn debug_shows_only_a_prefix() {
        let token = ClaimToken::random().expect("random");
        let debug = format!("{token:?}");
        let hex = token.to_hex();
        assert!(
            debug.starts_with(&format!("ClaimToken({}", &hex[..4])),
            "{debug}"
        );
        assert!(!debug.contains(&hex[4..8]), "{debug}");
    }
}
