#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod adapter;
mod backoff;
mod clock;
mod delivery;
mod entry;
mod inbox;
mod lease;
mod store;
#[cfg(feature = "store-suite")]
pub mod store_suite;
mod worker;

pub use backoff::{Backoff, DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX};
pub use clock::{Clock, ManualClock, SystemClock};
pub use delivery::Delivery;
pub use entry::{
    Accepted, AfterFailure, Entry, EntrySummary, NewEntry, State, Stats, Taken, UnknownState,
};
pub use inbox::{AcceptError, Inbox};
pub use lease::Lease;
pub use protocol_webhooks;
pub use protocol_webhooks::dedup::{StoreError, StoreFuture};
/// The `redis` crate this store is built on, for connections of your own.
#[cfg(feature = "redis")]
pub use redis;
/// The `rusqlite` crate this store is built on, for transactions of your
/// own in the inbox's file: see [`SqliteStore::complete_in`].
#[cfg(feature = "sqlite")]
pub use rusqlite;
#[cfg(feature = "sqlite")]
pub use store::{DEFAULT_BUSY_TIMEOUT, MAX_GROUP, SqliteOptions, SqliteStore};
#[cfg(feature = "redis")]
pub use store::{
    DEFAULT_REDIS_GROUP, DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_TIMEOUT, RedisOptions, RedisStore,
};
pub use store::{InboxStore, MemoryStore};
pub use worker::{
    DEFAULT_ATTEMPTS, DEFAULT_CONCURRENCY, DEFAULT_GRACE, DEFAULT_LEASE, DEFAULT_POLL_INTERVAL,
    Stopped, Worker,
};

/// The error kept on an entry whose lease ended on its last attempt: the
/// worker died or the handler outlived the lease.
pub const LEASE_EXPIRED_ON_LAST_ATTEMPT: &str =
    "the lease expired on the last attempt: the worker stopped or the handler outlived the lease";
