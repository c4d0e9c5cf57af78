//! Typed errors of verification and key setup.
//!
//! No `Display` or `Debug` output here ever contains the secret, the received
//! header value or the expected signature: only the class of the failure.

use core::fmt;

/// Why a request's signature was not accepted.
///
/// Every variant maps to HTTP 401; see [`Rejection`](crate::Rejection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureError {
    /// The request carried no `x-protocol-signature` header.
    Missing,
    /// The header is not exactly 64 hexadecimal digits.
    Malformed,
    /// The header is well formed but matches no configured secret.
    Mismatch,
    /// The request carried the `x-protocol-signature` header more than once.
    ///
    /// The field is not a list (RFC 9110, section 5.3), so there is no right
    /// value to pick: refused whatever the values are, even if one of them,
    /// or all, would verify. See [`signature_header_value`](crate::signature_header_value).
    Repeated,
}

impl SignatureError {
    /// A short, stable name for logs and metrics: `missing`, `malformed`,
    /// `mismatch` or `repeated`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Mismatch => "mismatch",
            Self::Repeated => "repeated",
        }
    }
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "missing x-protocol-signature header",
            Self::Malformed => {
                "malformed x-protocol-signature header: expected 64 hexadecimal digits"
            }
            Self::Mismatch => "x-protocol-signature does not match the request body",
            Self::Repeated => "more than one x-protocol-signature header",
        })
    }
}

impl core::error::Error for SignatureError {}

/// Why a webhook secret was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyError {
    /// The secret is empty; an empty HMAC key authenticates nothing.
    EmptySecret,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptySecret => f.write_str("the webhook secret is empty"),
        }
    }
}

impl core::error::Error for KeyError {}
