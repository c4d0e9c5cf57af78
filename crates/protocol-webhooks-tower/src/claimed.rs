//! The exactly-once claim, handed to the inner service through the
//! request's extensions.

use std::sync::{Arc, Mutex, PoisonError};

use core::fmt;

/// A verified event whose id this delivery claimed: the inner service runs
/// its work, then [`commit`](Self::commit)s. Dropped uncommitted, it
/// releases the claim, so that the sender's next delivery runs the work.
///
/// Behind [`WebhookLayer::exactly_once`](crate::WebhookLayer::exactly_once)
/// it waits in the request's extensions as a [`PendingClaim`]; take it with
/// [`take_from`](Self::take_from).
#[derive(Debug)]
#[must_use = "dropping the claimed webhook releases the claim: commit it once the work succeeded"]
pub struct ClaimedWebhook(pub crate::ClaimedEvent);

impl ClaimedWebhook {
    /// Takes the claim out of a request's extensions, where a
    /// [`WebhookLayer::exactly_once`](crate::WebhookLayer::exactly_once)
    /// layer put it. `None` when there is none, or when it was taken
    /// already: a claim has one owner.
    ///
    /// ```
    /// use http::Request;
    /// use http_body_util::Full;
    /// use bytes::Bytes;
    /// use protocol_webhooks_tower::ClaimedWebhook;
    ///
    /// async fn on_webhook(request: Request<Full<Bytes>>) -> u16 {
    ///     let Some(claimed) = ClaimedWebhook::take_from(request.extensions()) else {
    ///         return 500; // not behind an exactly-once layer
    ///     };
    ///     // ... the work, once per event id ...
    ///     match claimed.commit().await {
    ///         Ok(()) => 200,
    ///         // The work is done either way; see `ClaimGuard::commit`.
    ///         Err(_) => 200,
    ///     }
    /// }
    /// # let _ = on_webhook;
    /// ```
    #[must_use]
    pub fn take_from(extensions: &http::Extensions) -> Option<Self> {
        extensions
            .get::<PendingClaim>()
            .and_then(PendingClaim::take)
    }
}

/// The extension that holds a [`ClaimedWebhook`] until the inner service
/// takes it.
///
/// Request extensions must be `Clone`, and a claim cannot be: it has one
/// owner, who commits or releases it. So the claim waits here, shared by
/// every clone of the extension, and [`take`](Self::take) hands it out once.
/// A claim nobody takes is released when the request and every clone of
/// this extension are dropped.
#[derive(Clone)]
pub struct PendingClaim(Arc<Mutex<Option<ClaimedWebhook>>>);

impl PendingClaim {
    pub(crate) fn new(claimed: ClaimedWebhook) -> Self {
        Self(Arc::new(Mutex::new(Some(claimed))))
    }

    /// Takes the claim; `None` once it was taken.
    #[must_use]
    pub fn take(&self) -> Option<ClaimedWebhook> {
        // A panic elsewhere while the lock was held cannot leave the
        // `Option` half-written: the value inside is still sound.
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Whether the claim is still here to take.
    #[must_use]
    pub fn is_pending(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}

impl fmt::Debug for PendingClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingClaim")
            .field("pending", &self.is_pending())
            .finish()
    }
}
