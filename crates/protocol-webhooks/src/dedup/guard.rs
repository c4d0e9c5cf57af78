//! The claim a handler holds while it runs, released unless committed.

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;

use super::{ClaimToken, EventStore, StoreError};

/// The claim on one event id, held while the handler runs.
///
/// Call [`commit`](Self::commit) once the handler succeeded. Dropped
/// uncommitted — the handler failed, panicked, or the request was dropped —
/// it releases the claim through [`EventStore::release_detached`], so the
/// sender's next delivery is processed.
#[must_use = "dropping the guard releases the claim: commit it once the handler succeeded"]
pub struct ClaimGuard {
    store: Arc<dyn EventStore>,
    event_id: String,
    /// `None` once committed or released, so that `Drop` does nothing.
    token: Option<ClaimToken>,
    retention: Duration,
}

impl ClaimGuard {
    pub(crate) fn new(
        store: Arc<dyn EventStore>,
        event_id: String,
        token: ClaimToken,
        retention: Duration,
    ) -> Self {
        Self {
            store,
            event_id,
            token: Some(token),
            retention,
        }
    }

    /// The claimed event id.
    #[must_use]
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// Marks the event done, so later deliveries are answered 200 without
    /// running the handler.
    ///
    /// # Errors
    /// [`StoreError::LostClaim`] when the lease expired before the commit
    /// (make the lease longer than the handler ever takes), or
    /// [`StoreError::Unavailable`]. Either way the handler's work is done:
    /// answer 2xx and log the error. The claim is then left to its lease,
    /// which keeps concurrent redeliveries out for that long.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let result = match &self.token {
            Some(token) => {
                self.store
                    .commit(&self.event_id, token, self.retention)
                    .await
            }
            None => Ok(()),
        };
        // Disarmed only once the store answered: if this future is dropped
        // while waiting, `Drop` still releases (a no-op if the commit landed).
        self.token = None;
        result
    }

    /// Releases the claim and waits for the store to confirm, so the next
    /// delivery is processed. Dropping the guard does the same without
    /// waiting.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`]; the claim then ends with its lease.
    pub async fn release(mut self) -> Result<(), StoreError> {
        let result = match &self.token {
            Some(token) => self.store.release(&self.event_id, token).await,
            None => Ok(()),
        };
        self.token = None;
        result
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            self.store
                .release_detached(core::mem::take(&mut self.event_id), token);
        }
    }
}

impl fmt::Debug for ClaimGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimGuard")
            .field("event_id", &self.event_id)
            .field("token", &self.token)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

/// An authentic event whose id this delivery claimed: run the handler, then
/// [`commit`](Self::commit). Dropped uncommitted, it releases the claim.
///
/// Dereferences to the [`Event`](crate::events::Event).
#[cfg(feature = "events")]
#[derive(Debug)]
#[must_use = "dropping the claimed event releases the claim: commit it once the handler succeeded"]
pub struct ClaimedEvent {
    event: crate::events::Event,
    guard: ClaimGuard,
}

#[cfg(feature = "events")]
impl ClaimedEvent {
    pub(crate) fn new(event: crate::events::Event, guard: ClaimGuard) -> Self {
        Self { event, guard }
    }

    /// The event.
    #[must_use]
    pub fn event(&self) -> &crate::events::Event {
        &self.event
    }

    /// The claim.
    pub fn guard(&self) -> &ClaimGuard {
        &self.guard
    }

    /// Splits into the event, for the handler, and the claim, to commit after.
    pub fn into_parts(self) -> (crate::events::Event, ClaimGuard) {
        (self.event, self.guard)
    }

    /// Marks the event done; see [`ClaimGuard::commit`].
    ///
    /// # Errors
    /// As [`ClaimGuard::commit`].
    pub async fn commit(self) -> Result<(), StoreError> {
        self.guard.commit().await
    }

    /// Releases the claim and waits; see [`ClaimGuard::release`].
    ///
    /// # Errors
    /// As [`ClaimGuard::release`].
    pub async fn release(self) -> Result<(), StoreError> {
        self.guard.release().await
    }
}

#[cfg(feature = "events")]
impl core::ops::Deref for ClaimedEvent {
    type Target = crate::events::Event;

    fn deref(&self) -> &Self::Target {
        &self.event
    }
}
