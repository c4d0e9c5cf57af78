//! The inbox extractor: a verified event, stored before the sender is
//! answered.

use poem::{FromRequest, IntoResponse, Request, RequestBody, Response};
use protocol_webhooks_inbox::{Accepted, Inbox};

use crate::WebhookRejection;
use crate::body::read_verified_body;
use crate::config::{inbox, webhook_config};

/// Verifies the request, stores its event in the [`Inbox`] added with
/// `.data(inbox)` and, returned from the handler, answers the sender: 202
/// for an event stored now, 200 for one the inbox held already. The
/// inbox's worker runs the event's handling later, with retries.
///
/// Bad input gets the same answers as [`Webhook`](crate::Webhook) and
/// stores nothing; an inbox that cannot store answers 503 with
/// `Retry-After`, so the sender delivers the event again.
///
/// ```
/// use poem::{EndpointExt, Route, handler, post};
/// use protocol_webhooks_inbox::Inbox;
/// use protocol_webhooks_poem::{InboxWebhook, WebhookConfig};
///
/// #[handler]
/// async fn on_webhook(stored: InboxWebhook) -> InboxWebhook {
///     stored
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// let inbox = Inbox::open_sqlite(dir.path().join("inbox.sqlite3"))?;
/// let app = Route::new()
///     .at("/webhooks", post(on_webhook))
///     .data(WebhookConfig::new("whsec_from_protocol")?)
///     .data(inbox);
/// # let _ = app;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "return it from the handler: it is the answer the sender gets"]
pub struct InboxWebhook(pub Accepted);

impl<'a> FromRequest<'a> for InboxWebhook {
    async fn from_request(request: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        // Both are looked up before the body is read: without either the
        // request can only get a 500.
        let config = webhook_config(request)?;
        let inbox: &Inbox = inbox(request)?;
        let verified = read_verified_body(request, body.take()?, config)
            .await
            .map_err(WebhookRejection::logged)?;
        let accepted = inbox
            .accept(&verified)
            .await
            .map_err(WebhookRejection::logged)?;
        Ok(Self::stored(accepted))
    }
}

impl IntoResponse for InboxWebhook {
    fn into_response(self) -> Response {
        crate::rejection::answer_response(&self.answer())
    }
}
