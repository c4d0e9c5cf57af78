#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod error;
mod scripts;
mod store;

pub use protocol_webhooks;
pub use redis;
pub use store::{DEFAULT_PREFIX, DEFAULT_TIMEOUT, RedisStore};
