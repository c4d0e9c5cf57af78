//! Why a delivery did not get the claim on its event.

use alloc::string::String;
use core::fmt;
use core::time::Duration;

use super::StoreError;

/// The `Retry-After` of [`Unclaimed::StoreUnavailable`]: short, as a store
/// outage is usually brief and senders back off on their own.
const STORE_UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// Why [`Deduplicator::claim`](super::Deduplicator::claim) did not hand the
/// event to the handler. Nothing here is the sender's fault, and one case is
/// not a failure at all: the event was handled already.
///
/// Answer it with [`Answer::from`](crate::Answer): 200 `duplicate`, 409 or
/// 503, with `Retry-After` where the sender should come back.
#[derive(Debug)]
#[non_exhaustive]
pub enum Unclaimed {
    /// A delivery of the event was handled and committed: answered 200 so
    /// the sender stops retrying.
    Duplicate {
        /// The authenticated id of the event.
        event_id: String,
    },
    /// Another delivery of the event holds the claim right now: answered 409.
    InProgress {
        /// The authenticated id of the event.
        event_id: String,
        /// How long the other delivery's claim has left.
        retry_after: Duration,
    },
    /// The store could not be used, so the event cannot be handled safely
    /// now: answered 503, never a 2xx for unprocessed work.
    StoreUnavailable {
        /// The authenticated id of the event.
        event_id: String,
        /// What the store said; never shown in an answer.
        error: StoreError,
    },
}

impl Unclaimed {
    /// The authenticated id of the event.
    #[must_use]
    pub fn event_id(&self) -> &str {
        match self {
            Self::Duplicate { event_id }
            | Self::InProgress { event_id, .. }
            | Self::StoreUnavailable { event_id, .. } => event_id,
        }
    }

    /// The HTTP status: 200, 409 or 503.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Duplicate { .. } => 200,
            Self::InProgress { .. } => 409,
            Self::StoreUnavailable { .. } => 503,
        }
    }

    /// `duplicate`, `in_progress` or `store_unavailable`.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Duplicate { .. } => "duplicate",
            Self::InProgress { .. } => "in_progress",
            Self::StoreUnavailable { .. } => "store_unavailable",
        }
    }

    /// Seconds until the sender should try again: the rest of the other
    /// delivery's lease, rounded up and at least 1, or a few seconds for a
    /// store outage; `None` for a duplicate.
    #[must_use]
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Duplicate { .. } => None,
            Self::InProgress { retry_after, .. } => {
                let rounded_up = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                Some(rounded_up.max(1))
            }
            Self::StoreUnavailable { .. } => Some(STORE_UNAVAILABLE_RETRY_AFTER),
        }
    }
}

/// The message of the answer's body.
impl fmt::Display for Unclaimed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Duplicate { event_id } => write!(f, "event {event_id} already processed"),
            Self::InProgress { .. } => write!(
                f,
                "event is being processed by another delivery; retry in {} s",
                self.retry_after().unwrap_or(1)
            ),
            Self::StoreUnavailable { .. } => {
                f.write_str("event cannot be processed right now; retry later")
            }
        }
    }
}

impl core::error::Error for Unclaimed {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::StoreUnavailable { error, .. } => Some(error),
            _ => None,
        }
    }
}
