//! The inbox: accepting verified events into a store.

use std::fmt;
use std::sync::Arc;

use protocol_webhooks::dedup::{StoreError, Unclaimed};
use protocol_webhooks::events::{Event, EventError};
use protocol_webhooks::{Answer, Rejection, VerifiedBody};
use tokio::sync::Notify;

use crate::{Accepted, InboxStore, NewEntry, Worker};

/// A durable inbox: [`accept`](Self::accept) stores each verified event
/// before the receiver answers, and a [`worker`](Self::worker) hands the
/// stored events to the handler, with retries.
///
/// Cloning is cheap (a reference count): receivers and workers share one.
#[derive(Clone)]
pub struct Inbox {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn InboxStore>,
    /// Wakes this process's workers as soon as an event is stored, instead
    /// of at their next poll.
    stored: Notify,
}

impl Inbox {
    /// An inbox on `store`.
    #[must_use]
    pub fn new(store: impl InboxStore + 'static) -> Self {
        Self::from_shared(Arc::new(store))
    }

    /// An inbox on a store shared with other code.
    #[must_use]
    pub fn from_shared(store: Arc<dyn InboxStore>) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                stored: Notify::new(),
            }),
        }
    }

    /// An inbox in the SQLite file at `path`, created if needed; see
    /// [`SqliteStore`](crate::SqliteStore).
    ///
    /// # Errors
    /// As [`SqliteStore::open`](crate::SqliteStore::open).
    #[cfg(feature = "sqlite")]
    pub fn open_sqlite(path: impl AsRef<std::path::Path>) -> Result<Self, StoreError> {
        Ok(Self::new(crate::SqliteStore::open(path)?))
    }

    /// The store, for operators' queries (`stats`, `list`, `retry`, ...).
    #[must_use]
    pub fn store(&self) -> &Arc<dyn InboxStore> {
        &self.inner.store
    }

    /// Stores a verified body, unless its event id is in the inbox already.
    /// Answer the sender with [`Accepted::answer`] (202 or 200) only after
    /// this returned; on an error, with [`AcceptError::answer`].
    ///
    /// # Errors
    /// [`AcceptError::InvalidEvent`] when the body is not a Protocol event
    /// (400); [`AcceptError::Store`] when the store could not keep it (503).
    pub async fn accept(&self, body: &VerifiedBody) -> Result<Accepted, AcceptError> {
        self.accept_bytes(body.as_bytes()).await
    }

    /// [`accept`](Self::accept) for a body whose signature the caller
    /// checked itself, e.g. with `WebhookConfig::verify`. Only pass bytes
    /// whose signature was checked: the worker treats every stored event as
    /// authentic.
    ///
    /// # Errors
    /// As [`accept`](Self::accept).
    pub async fn accept_bytes(&self, verified_body: &[u8]) -> Result<Accepted, AcceptError> {
        let event = Event::from_slice(verified_body).map_err(AcceptError::InvalidEvent)?;
        let entry = NewEntry {
            event_type: event.event_type.as_str().to_owned(),
            id: event.id,
            body: verified_body.to_vec(),
        };
        let event_id = entry.id.clone();
        let accepted = self
            .inner
            .store
            .accept(entry)
            .await
            .map_err(|error| AcceptError::Store { event_id, error })?;
        if matches!(accepted, Accepted::Stored { .. }) {
            self.inner.stored.notify_one();
        }
        Ok(accepted)
    }

    /// A worker that hands the stored events to `handler`; configure it,
    /// then [`run`](Worker::run) it.
    pub fn worker<H>(&self, handler: H) -> Worker<H> {
        Worker::new(self.clone(), handler)
    }

    pub(crate) fn stored(&self) -> &Notify {
        &self.inner.stored
    }
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox").finish_non_exhaustive()
    }
}

/// Why [`Inbox::accept`] did not store an event. Never answer 2xx for it.
#[derive(Debug)]
#[non_exhaustive]
pub enum AcceptError {
    /// The verified body is not a Protocol event: answered 400.
    InvalidEvent(EventError),
    /// The store could not keep the event (unreachable, full, a failed
    /// commit): answered 503 with `Retry-After`; nothing was stored.
    Store {
        /// The authenticated id of the event.
        event_id: String,
        /// What the store said; never shown in an answer.
        error: StoreError,
    },
}

impl AcceptError {
    /// The HTTP answer, decided by the core: 400 `invalid_event`, or 503
    /// `store_unavailable` with `Retry-After`.
    #[must_use]
    pub fn answer(self) -> Answer {
        Answer::from(self)
    }
}

impl From<AcceptError> for Answer {
    fn from(error: AcceptError) -> Self {
        match error {
            AcceptError::InvalidEvent(error) => Answer::from(Rejection::from(error)),
            AcceptError::Store { event_id, error } => {
                Answer::from(Unclaimed::StoreUnavailable { event_id, error })
            }
        }
    }
}

impl fmt::Display for AcceptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidEvent(_) => f.write_str("the verified body is not a Protocol event"),
            Self::Store { event_id, .. } => write!(f, "event {event_id} could not be stored"),
        }
    }
}

impl std::error::Error for AcceptError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidEvent(error) => Some(error),
            Self::Store { error, .. } => Some(error),
        }
    }
}
