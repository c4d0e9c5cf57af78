//! Exactly-once handling of events across replicas (feature `dedup`).
//!
//! Protocol's signature has no timestamp and senders retry, so one event
//! (one envelope `id`) can arrive more than once, and at a service with
//! several replicas it can arrive at two of them at the same moment. A
//! [`Deduplicator`] lets exactly one delivery run the handler:
//!
//! 1. [`Deduplicator::claim`] claims the event id in an [`EventStore`] for a
//!    short lease (default 60 s).
//! 2. The claim winner runs the handler. On success it calls
//!    [`ClaimGuard::commit`], which marks the id done for the retention
//!    period (default 7 days). On failure, a panic or a dropped request the
//!    [`ClaimGuard`] is dropped uncommitted and releases the claim, so the
//!    next delivery is processed; the lease expiry is the backstop when even
//!    that cannot happen (a killed process).
//! 3. Every other delivery gets an [`Unclaimed`], answered through
//!    [`Answer`](crate::Answer) with a status that tells the sender what to
//!    do: `Duplicate` (200, stop retrying), `InProgress` (409 with
//!    `Retry-After`) or `StoreUnavailable` (503, retry later).
//!
//! Claims carry a random [`ClaimToken`]; only its holder can commit or
//! release, so a slow holder whose lease expired cannot clobber a newer one.
//!
//! [`MemoryStore`] is the one-process store; `protocol-webhooks-redis`
//! provides one shared by replicas.

mod clock;
mod deduplicator;
mod guard;
mod memory;
mod store;
#[cfg(feature = "store-suite")]
pub mod store_suite;
mod token;
mod unclaimed;

pub use clock::{Clock, ManualClock, SystemClock};
pub use deduplicator::{DEFAULT_LEASE, DEFAULT_RETENTION, Deduplicator};
pub use guard::ClaimGuard;
#[cfg(feature = "events")]
pub use guard::ClaimedEvent;
pub use memory::{DEFAULT_MAX_ENTRIES, MemoryStore};
pub use store::{ClaimOutcome, EventStore, StoreError, StoreFuture};
pub use token::ClaimToken;
pub use unclaimed::Unclaimed;
