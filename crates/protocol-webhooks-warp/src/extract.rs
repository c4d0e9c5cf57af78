//! What the filters extract: a verified event or a verified raw body.

use core::ops::Deref;

use protocol_webhooks::VerifiedBody;
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
