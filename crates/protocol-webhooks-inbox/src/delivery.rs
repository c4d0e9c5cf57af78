//! What the handler receives.

use std::ops::Deref;
use std::time::SystemTime;

use protocol_webhooks::events::Event;

use crate::Lease;

/// One attempt at handling a stored event: the event, parsed again by the
/// core from the exact stored body, and where the attempt stands.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Delivery {
    /// The event.
    pub event: Event,
    /// This attempt's number, from 1. Above 1, an earlier attempt failed
    /// or was cut short, and may have had effects.
    pub attempt: u32,
    /// When the inbox stored the event.
    pub received_at: SystemTime,
    lease: Lease,
}

impl Delivery {
    pub(crate) fn new(event: Event, attempt: u32, received_at: SystemTime, lease: Lease) -> Self {
        Self {
            event,
            attempt,
            received_at,
            lease,
        }
    }

    /// This attempt's lease on the entry: what `SqliteStore::complete_in`
    /// and `RedisStore::complete_with` need to mark the entry done together
    /// with the handler's effects. Clones of the delivery share it.
    #[must_use]
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// Takes the event.
    #[must_use]
    pub fn into_event(self) -> Event {
        self.event
    }
}

impl Deref for Delivery {
    type Target = Event;

    fn deref(&self) -> &Event {
        &self.event
    }
}
