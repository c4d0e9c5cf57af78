//! Finding the configuration registered on the route with `.data(...)`.

use poem::Request;
use protocol_webhooks::dedup::Deduplicator;
use protocol_webhooks::{Rejection, WebhookConfig};

use crate::WebhookRejection;

/// The [`WebhookConfig`] added with `.data(config)`, or the 500 for a server
/// that forgot it.
pub(crate) fn webhook_config(request: &Request) -> Result<&WebhookConfig, WebhookRejection> {
    registered(request, "WebhookConfig")
}

/// The [`Deduplicator`] added with `.data(deduplicator)`, or the 500 for a
/// server that forgot it.
pub(crate) fn deduplicator(request: &Request) -> Result<&Deduplicator, WebhookRejection> {
    registered(request, "Deduplicator")
}

/// The inbox added with `.data(inbox)`, or the 500 for a server that
/// forgot it.
#[cfg(feature = "inbox")]
pub(crate) fn inbox(
    request: &Request,
) -> Result<&protocol_webhooks_inbox::Inbox, WebhookRejection> {
    registered(request, "Inbox")
}

/// A missing value is a bug in the server, not in the request: the sender
/// gets the core's 500 so that it retries once the server is fixed, and the
/// core's error log line names the type to register.
fn registered<'r, T: Send + Sync + 'static>(
    request: &'r Request,
    missing: &'static str,
) -> Result<&'r T, WebhookRejection> {
    request
        .data::<T>()
        .ok_or_else(|| WebhookRejection::logged(Rejection::MissingConfiguration { missing }))
}
