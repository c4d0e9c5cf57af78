//! What the filters extract: a verified event, a verified and claimed event,
//! or a verified raw body.

use core::ops::Deref;

use protocol_webhooks::VerifiedBody;
use protocol_webhooks::dedup::{ClaimedEvent, StoreError};
use protocol_webhooks::events::Event;

/// A webhook whose size and signature were checked and whose body parsed as
/// an [`Event`]: what [`webhook`](crate::webhook) extracts.
///
/// Destructure it in a handler's arguments and `match` on `event.payload`.
#[derive(Debug, Clone)]
pub struct Webhook(pub Event);

impl Webhook {
    /// Takes the event.
    #[must_use]
    pub fn into_inner(self) -> Event {
        self.0
    }
}

impl Deref for Webhook {
    type Target = Event;

    fn deref(&self) -> &Event {
        &self.0
    }
}

/// A verified, parsed webhook whose event id this delivery claimed: what
/// [`claimed_webhook`](crate::claimed_webhook) extracts.
///
/// It dereferences to the [`ClaimedEvent`], which dereferences to the
/// [`Event`], so `claimed.id` and `claimed.payload` work as with
/// [`Webhook`]. Once the handler's work succeeded, call
/// [`commit`](Self::commit): later deliveries of the event are then answered
/// 200 without running the handler. Dropped uncommitted — the handler
/// returned an error or a rejection, panicked, or the request was dropped —
/// it releases the claim, so the sender's next delivery runs the handler.
#[derive(Debug)]
#[must_use = "dropping the claimed webhook releases the claim: commit it once the handler succeeded"]
pub struct ClaimedWebhook(pub ClaimedEvent);

impl ClaimedWebhook {
    /// Takes the claimed event, for [`ClaimedEvent::into_parts`].
    pub fn into_inner(self) -> ClaimedEvent {
        self.0
    }

    /// Marks the event done; see [`ClaimedEvent::commit`].
    ///
    /// # Errors
    /// [`StoreError::LostClaim`] when the lease ran out before the commit,
    /// or [`StoreError::Unavailable`]. The handler's work is done either
    /// way: answer 2xx and log the error.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.0.commit().await
    }

    /// Releases the claim and waits for the store to confirm; see
    /// [`ClaimedEvent::release`]. Dropping it releases too, without waiting.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`]; the claim then ends with its lease.
    pub async fn release(self) -> Result<(), StoreError> {
        self.0.release().await
    }
}

impl Deref for ClaimedWebhook {
    type Target = ClaimedEvent;

    fn deref(&self) -> &ClaimedEvent {
        &self.0
    }
}

/// A webhook body whose size and signature were checked, not parsed: what
/// [`raw_webhook`](crate::raw_webhook) extracts.
///
/// For receivers that store or enqueue the exact bytes and parse them later
/// with [`VerifiedBody::parse`].
#[derive(Debug, Clone)]
pub struct RawWebhook(pub VerifiedBody);

impl RawWebhook {
    /// Takes the verified body.
    #[must_use]
    pub fn into_inner(self) -> VerifiedBody {
        self.0
    }
}
