//! Claiming an event id before its handler runs.

use alloc::borrow::ToOwned;
use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;

use super::{ClaimGuard, ClaimOutcome, EventStore, MemoryStore, Unclaimed};

/// How long a claim lasts unless committed or released: 60 seconds.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// How long a done id is remembered: 7 days.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Lets exactly one delivery of each event run the handler; see the
/// [module documentation](super) for the protocol.
///
/// Cloning is cheap (a reference count), so frameworks may clone it per
/// request.
///
/// ```
/// use std::time::Duration;
/// use protocol_webhooks::{Answer, WebhookConfig};
/// use protocol_webhooks::dedup::{Deduplicator, Unclaimed};
/// use protocol_webhooks::events::EventType;
/// use protocol_webhooks::samples::SignedRequest;
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
///
/// let dedup = Deduplicator::in_memory()
///     .with_lease(Duration::from_secs(30))
///     .with_retention(Duration::from_secs(3 * 24 * 60 * 60));
///
/// let config = WebhookConfig::new("whsec_example")?;
/// let request = SignedRequest::sample("whsec_example", &EventType::MessageCreated)?;
/// let event = config.verify_event(request.body(), Some(request.signature().as_bytes()))?;
///
/// // The first delivery wins the claim and runs the handler.
/// let claimed = dedup.claim(event.clone()).await?;
/// assert_eq!(claimed.id, event.id);
/// claimed.commit().await?;
///
/// // A redelivery is answered 200 without running the handler.
/// let again = dedup.claim(event).await.unwrap_err();
/// assert!(matches!(again, Unclaimed::Duplicate { .. }));
/// assert_eq!(Answer::from(again).status(), 200);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Deduplicator {
    store: Arc<dyn EventStore>,
    lease: Duration,
    retention: Duration,
}

impl Deduplicator {
    /// Claims in `store`, with the default lease and retention.
    #[must_use]
    pub fn new(store: impl EventStore + 'static) -> Self {
        Self::from_shared(Arc::new(store))
    }

    /// Claims in a store shared with other code.
    #[must_use]
    pub fn from_shared(store: Arc<dyn EventStore>) -> Self {
        Self {
            store,
            lease: DEFAULT_LEASE,
            retention: DEFAULT_RETENTION,
        }
    }

    /// Claims in a new [`MemoryStore`]: right for a single replica.
    #[must_use]
    pub fn in_memory() -> Self {
        Self::new(MemoryStore::new())
    }

    /// Sets how long a claim lasts unless committed or released (at least
    /// 1 ms). Make it longer than the handler ever takes: a handler still
    /// running when it expires may run twice.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(1));
        self
    }

    /// Sets how long a done id is remembered (at least 1 ms). Make it longer
    /// than the sender keeps retrying.
    #[must_use]
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention.max(Duration::from_millis(1));
        self
    }

    /// How long a claim lasts.
    #[must_use]
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// How long a done id is remembered.
    #[must_use]
    pub fn retention(&self) -> Duration {
        self.retention
    }

    /// The store claims are made in.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    /// Claims an authentic, parsed event before its handler runs.
    ///
    /// # Errors
    /// [`Unclaimed`]: the event is done (answered 200), claimed by another
    /// delivery (409) or the store is unavailable (503). Answer it with
    /// [`Answer::from`](crate::Answer) and do not run the handler.
    #[cfg(feature = "events")]
    pub async fn claim(
        &self,
        event: crate::events::Event,
    ) -> Result<super::ClaimedEvent, Unclaimed> {
        let guard = self.claim_id(&event.id).await?;
        Ok(super::ClaimedEvent::new(event, guard))
    }

    /// Claims an event id, for receivers that read the id themselves. Only
    /// claim ids of authentic events.
    ///
    /// # Errors
    /// As [`claim`](Self::claim).
    pub async fn claim_id(&self, event_id: &str) -> Result<ClaimGuard, Unclaimed> {
        match self.store.claim(event_id, self.lease).await {
            Ok(ClaimOutcome::Claimed(token)) => Ok(ClaimGuard::new(
                Arc::clone(&self.store),
                event_id.to_owned(),
                token,
                self.retention,
            )),
            Ok(ClaimOutcome::Done) => Err(Unclaimed::Duplicate {
                event_id: event_id.to_owned(),
            }),
            Ok(ClaimOutcome::InProgress { retry_after }) => Err(Unclaimed::InProgress {
                event_id: event_id.to_owned(),
                retry_after,
            }),
            Err(error) => Err(Unclaimed::StoreUnavailable {
                event_id: event_id.to_owned(),
                error,
            }),
        }
    }
}

impl Default for Deduplicator {
    fn default() -> Self {
        Self::in_memory()
    }
}

impl fmt::Debug for Deduplicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deduplicator")
            .field("lease", &self.lease)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}
