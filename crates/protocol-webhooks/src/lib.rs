#![doc = include_str!("../README.md")]
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]
// The crate is no_std-capable: reach for core and alloc before std.
#![warn(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]

#[cfg(feature = "alloc")]
extern crate alloc;

mod error;
mod hex;
mod key;
mod rejection;
mod signature;
mod verifier;

#[cfg(feature = "alloc")]
mod body;
#[cfg(feature = "alloc")]
mod config;

#[cfg(feature = "std")]
pub mod dedup;

// Only the adapters expand it, and they all build with `std` and `events`.
#[cfg(all(feature = "std", feature = "events"))]
mod adapter;

#[cfg(feature = "events")]
pub mod events;
#[cfg(feature = "events")]
pub mod testing;

#[cfg(feature = "alloc")]
pub use body::{BodyCollector, VerifiedBody};
#[cfg(feature = "alloc")]
pub use config::{DEFAULT_BODY_LIMIT, WebhookConfig};
pub use error::{KeyError, SignatureError};
pub use key::{Key, sign, verify_with_any};
pub use rejection::{REJECTION_CONTENT_TYPE, Rejection};
pub use signature::{
    HexSignature, SIGNATURE_HEADER, SIGNATURE_LEN, Signature, signature_header_value,
};
pub use verifier::Verifier;
