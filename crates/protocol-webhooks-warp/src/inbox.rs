//! The inbox filter: a verified event, stored before the sender is
//! answered.

use protocol_webhooks::{VerifiedBody, WebhookConfig};
use protocol_webhooks_inbox::{Accepted, Inbox};
use warp::Filter;
use warp::reply::Response;

use crate::WebhookRejection;
use crate::body::verified_body;

/// What [`inbox_webhook`] extracts: the inbox stored the event (or held it
/// already). Reply with it: the sender gets 202 for an event stored now,
/// 200 for one the inbox held already. The inbox's worker runs the event's
/// handling later, with retries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "reply with it: it is the answer the sender gets"]
pub struct InboxWebhook(pub Accepted);

/// Verifies the request and stores its event in `inbox` before the reply.
///
/// Bad input is rejected as by [`webhook`](crate::webhook) and stores
/// nothing; an inbox that cannot store rejects with 503 and `Retry-After`,
/// so the sender delivers the event again. Recover the rejections with
/// [`recover`](crate::recover).
///
/// ```
/// use protocol_webhooks_warp::{InboxWebhook, WebhookConfig, inbox_webhook, recover};
/// use protocol_webhooks_inbox::Inbox;
/// use warp::Filter;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// let inbox = Inbox::open_sqlite(dir.path().join("inbox.sqlite3"))?;
/// let config = WebhookConfig::new("whsec_from_protocol")?;
/// let routes = warp::post()
///     .and(warp::path("webhooks"))
///     .and(inbox_webhook(config, inbox))
///     .map(|stored: InboxWebhook| stored)
///     .recover(recover);
/// # let _ = routes;
/// # Ok(()) }
/// ```
pub fn inbox_webhook(
    config: WebhookConfig,
    inbox: Inbox,
) -> impl Filter<Extract = (InboxWebhook,), Error = warp::Rejection> + Clone {
    verified_body(config)
        .and(warp::any().map(move || inbox.clone()))
        .and_then(store)
}

async fn store(body: VerifiedBody, inbox: Inbox) -> Result<InboxWebhook, warp::Rejection> {
    inbox
        .accept(&body)
        .await
        .map(InboxWebhook::stored)
        .map_err(|error| warp::reject::custom(WebhookRejection::logged(error)))
}

impl warp::Reply for InboxWebhook {
    fn into_response(self) -> Response {
        warp::Reply::into_response(self.answer().to_http())
    }
}
