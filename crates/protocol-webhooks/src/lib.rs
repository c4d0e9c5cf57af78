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

mod head;

#[cfg(feature = "alloc")]
mod answer;
#[cfg(feature = "alloc")]
mod body;
#[cfg(feature = "alloc")]
mod config;
#[cfg(feature = "tokio")]
mod deadline;
#[cfg(feature = "tokio")]
mod reader;
#[cfg(feature = "stream")]
mod stream;

#[cfg(feature = "dedup")]
pub mod dedup;

// Only the adapters expand it, and they all build with `dedup` and `events`.
#[cfg(all(feature = "dedup", feature = "events"))]
mod adapter;
#[cfg(all(feature = "dedup", feature = "events"))]
pub mod prelude;
#[cfg(all(feature = "dedup", feature = "events"))]
#[doc(hidden)]
pub use adapter::__private;

#[cfg(feature = "metrics")]
pub mod metrics;

#[cfg(feature = "events")]
pub mod events;
#[cfg(feature = "events")]
pub mod samples;

#[cfg(feature = "alloc")]
pub use answer::{ANSWER_CONTENT_TYPE, Answer};
#[cfg(feature = "alloc")]
pub use body::{BodyCollector, VerifiedBody};
#[cfg(feature = "alloc")]
pub use config::{DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, WebhookConfig};
pub use error::{KeyError, SignatureError};
pub use head::RequestHead;
#[cfg(feature = "alloc")]
pub use key::MatchedKey;
pub use key::{Key, sign, verify_with_any};
pub use rejection::Rejection;
pub use signature::{
    HexSignature, SIGNATURE_HEADER, SIGNATURE_LEN, Signature, signature_header_value,
};
pub use verifier::Verifier;
