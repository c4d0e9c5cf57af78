//! The inbox extractor: a verified event, stored before the sender is
//! answered.

use actix_web::body::BoxBody;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, Responder};
use protocol_webhooks::Rejection;
use protocol_webhooks_inbox::{Accepted, Inbox};

use crate::config::registered;
use crate::extract::{LocalFuture, incoming_body};
use crate::rejection::{WebhookRejection, answer_response};

/// Verifies the request, stores its event in the app's [`Inbox`] (app data,
/// as the configuration is) and, returned from the handler, answers the
/// sender: 202 for an event stored now, 200 for one the inbox held already.
/// The inbox's worker runs the event's handling later, with retries.
///
/// Bad input gets the same answers as [`Webhook`](crate::Webhook) and
/// stores nothing; an inbox that cannot store answers 503 with
/// `Retry-After`, so the sender delivers the event again.
///
/// ```
/// use actix_web::{App, web};
/// use protocol_webhooks_actix_web::{InboxWebhook, WebhookConfig};
/// use protocol_webhooks_inbox::Inbox;
///
/// async fn on_webhook(stored: InboxWebhook) -> InboxWebhook {
///     stored
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// let inbox = Inbox::open_sqlite(dir.path().join("inbox.sqlite3"))?;
/// let config = WebhookConfig::new("whsec_from_protocol")?;
/// let app = App::new()
///     .app_data(config)
///     .app_data(inbox)
///     .route("/webhooks", web::post().to(on_webhook));
/// # let _ = app;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "return it from the handler: it is the answer the sender gets"]
pub struct InboxWebhook(pub Accepted);

impl FromRequest for InboxWebhook {
    type Error = actix_web::Error;
    type Future = LocalFuture<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Both registrations are looked up before the body is read: a
        // missing one is a server bug, answered without reading anything.
        let prepared = incoming_body(request, payload).and_then(|incoming| {
            let inbox = registered::<Inbox>(request).ok_or_else(|| {
                WebhookRejection::logged(Rejection::MissingConfiguration { missing: "Inbox" })
            })?;
            Ok((incoming, inbox))
        });
        Box::pin(async move {
            let (incoming, inbox) = prepared?;
            let body = incoming.verify().await.map_err(WebhookRejection::logged)?;
            let accepted = inbox
                .accept(&body)
                .await
                .map_err(WebhookRejection::logged)?;
            Ok(Self::stored(accepted))
        })
    }
}

impl Responder for InboxWebhook {
    type Body = BoxBody;

    fn respond_to(self, _request: &HttpRequest) -> HttpResponse {
        answer_response(&self.answer())
    }
}
