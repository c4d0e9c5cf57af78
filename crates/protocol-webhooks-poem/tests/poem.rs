//! The extractors in a Poem app: the shared HTTP conformance suite, and what
//! only Poem decides: where `.data(...)` is found, how its body stream meets
//! the limit, and how a refusal becomes a Poem response.

// A crate root looks for its modules beside itself, not in `poem/`.
#[path = "poem/body.rs"]
mod body;
#[path = "poem/conformance.rs"]
mod conformance;
#[path = "poem/registration.rs"]
mod registration;
#[path = "poem/rejection.rs"]
mod rejection;

use poem::handler;
use protocol_webhooks_poem::{RawWebhook, Webhook};

/// Answers the event's id: the event route of the apps that test how the
/// extractors are wired.
#[handler]
fn on_event(Webhook(event): Webhook) -> String {
    event.id
}

/// Echoes the verified bytes.
#[handler]
fn on_raw(RawWebhook(body): RawWebhook) -> Vec<u8> {
    body.into_bytes()
}
