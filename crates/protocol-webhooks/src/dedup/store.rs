//! The storage contract behind de-duplication: claim, then commit or release.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;
use core::pin::Pin;
use core::time::Duration;

use super::ClaimToken;

/// The future every [`EventStore`] method returns. Boxed so that the trait
/// can be used as `dyn EventStore`, and `Send` so that handlers stay `Send`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where claims and done-marks live: in one process ([`MemoryStore`]) or
/// shared by replicas (Redis, in `protocol-webhooks-redis`).
///
/// Every operation must be atomic with respect to the others on the same
/// id, across every process sharing the store:
///
/// | state of the id | `claim` | `commit(token)` | `release(token)` |
/// |---|---|---|---|
/// | unknown, or its lease or retention expired | claims it: `Claimed(new token)` | `Err(LostClaim)` | nothing |
/// | claimed with `token`, lease running | `InProgress { retry_after: remaining lease }` | done for `retention`, `Ok` | forgets it, `Ok` |
/// | claimed with another token | `InProgress { .. }` | `Err(LostClaim)`, nothing changes | nothing changes, `Ok` |
/// | done, retention running | `Done` | `Err(LostClaim)` | nothing changes, `Ok` |
///
/// `protocol_webhooks::dedup::store_suite::run` (feature `store-suite`)
/// checks an implementation against this table.
///
/// [`MemoryStore`]: super::MemoryStore
pub trait EventStore: Send + Sync {
    /// Claims `event_id` for `lease` unless it is claimed or done.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be reached,
    /// [`StoreError::Full`] when it has no room for another claim.
    fn claim<'a>(&'a self, event_id: &'a str, lease: Duration) -> StoreFuture<'a, ClaimOutcome>;

    /// Marks `event_id` done for `retention`, if `token` still holds its claim.
    ///
    /// # Errors
    /// [`StoreError::LostClaim`] when `token` does not hold a live claim
    /// (its lease expired, or someone else holds it), and then nothing
    /// changes; [`StoreError::Unavailable`] when the store cannot be reached.
    fn commit<'a>(
        &'a self,
        event_id: &'a str,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()>;

    /// Forgets the claim on `event_id`, if `token` holds it, so the next
    /// delivery is processed; does nothing otherwise.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be reached; the
    /// claim then ends with its lease.
    fn release<'a>(&'a self, event_id: &'a str, token: &'a ClaimToken) -> StoreFuture<'a, ()>;

    /// [`release`](Self::release) without waiting, for `Drop`, where nothing
    /// can be awaited: an in-memory store releases at once, a networked one
    /// sends the release in the background if it can. When it cannot, the
    /// claim ends with its lease.
    fn release_detached(&self, event_id: String, token: ClaimToken);
}

/// What [`EventStore::claim`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum ClaimOutcome {
    /// The caller now holds the claim: run the handler, then commit or release.
    Claimed(ClaimToken),
    /// The event was processed already.
    Done,
    /// Someone else holds the claim right now.
    InProgress {
        /// How long the current lease has left.
        retry_after: Duration,
    },
}

/// Why an [`EventStore`] operation failed.
///
/// `Display` names the failure class only; the backend's own error, if any,
/// is the [`source`](core::error::Error::source).
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached or did not answer in time.
    Unavailable(Option<Box<dyn core::error::Error + Send + Sync>>),
    /// The store holds as many live entries as it may.
    Full {
        /// The most entries the store holds.
        max_entries: usize,
    },
    /// The token no longer holds the claim: its lease expired, and maybe
    /// another delivery claimed the event since.
    LostClaim,
}

impl StoreError {
    /// [`StoreError::Unavailable`] caused by a backend error.
    #[must_use]
    pub fn unavailable(cause: impl Into<Box<dyn core::error::Error + Send + Sync>>) -> Self {
        Self::Unavailable(Some(cause.into()))
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(_) => f.write_str("event store unavailable"),
            Self::Full { max_entries } => {
                write!(f, "event store is full ({max_entries} live entries)")
            }
            Self::LostClaim => f.write_str("the claim on the event was lost: its lease expired"),
        }
    }
}

impl core::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Unavailable(Some(cause)) => Some(&**cause),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_class_and_source_keeps_the_cause() {
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let error = StoreError::unavailable(cause);
        assert_eq!(error.to_string(), "event store unavailable");
        let source = core::error::Error::source(&error).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("refused"));
        assert_eq!(
            StoreError::Full { max_entries: 3 }.to_string(),
            "event store is full (3 live entries)"
        );
        assert!(core::error::Error::source(&StoreError::LostClaim).is_none());
    }

    #[test]
    fn the_trait_is_dyn_compatible() {
        fn takes(_: &dyn EventStore) {}
        takes(&crate::dedup::MemoryStore::new());
    }
}
