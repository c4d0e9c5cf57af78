//! The inbox data guard: a verified event, stored before the sender is
//! answered.

use protocol_webhooks::Answer;
use protocol_webhooks_inbox::{Accepted, Inbox};
use rocket::data::{self, Data, FromData};
use rocket::response::{self, Responder};
use rocket::{Request, Response};

use crate::WebhookRejection;
use crate::extract::verified_body;
use crate::outcome::{managed, outcome};
use crate::rejection::respond;

/// A data guard that verifies the request, stores its event in the managed
/// [`Inbox`] and, returned from the handler, answers the sender: 202 for an
/// event stored now, 200 for one the inbox held already. The inbox's worker
/// runs the event's handling later, with retries.
///
/// Bad input gets the same answers as [`Webhook`](crate::Webhook) and
/// stores nothing; an inbox that cannot store answers 503 with
/// `Retry-After`, so the sender delivers the event again.
///
/// ```
/// use protocol_webhooks_inbox::Inbox;
/// use protocol_webhooks_rocket::{InboxWebhook, WebhookConfig, WebhookFairing};
///
/// #[rocket::post("/webhooks", data = "<stored>")]
/// fn on_webhook(stored: InboxWebhook) -> InboxWebhook {
///     stored
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// let inbox = Inbox::open_sqlite(dir.path().join("inbox.sqlite3"))?;
/// let config = WebhookConfig::new("whsec_from_protocol")?;
/// let rocket = rocket::build()
///     .attach(WebhookFairing::new(config))
///     .manage(inbox)
///     .mount("/", rocket::routes![on_webhook]);
/// # let _ = rocket;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "return it from the handler: it is the answer the sender gets"]
pub struct InboxWebhook(pub Accepted);

#[rocket::async_trait]
impl<'r> FromData<'r> for InboxWebhook {
    type Error = WebhookRejection;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        outcome(request, store(request, data).await.map(Self::stored))
    }
}

async fn store(request: &Request<'_>, data: Data<'_>) -> Result<Accepted, Answer> {
    // Looked up before the body is read: without it no delivery can be
    // stored, however well signed, and the server's owner needs to know.
    let inbox = managed::<Inbox>(request, "Inbox")?;
    let body = verified_body(request, data).await?;
    Ok(inbox.accept(&body).await?)
}

impl<'r> Responder<'r, 'static> for InboxWebhook {
    fn respond_to(self, _request: &'r Request<'_>) -> response::Result<'static> {
        let answer = self.answer();
        let response: Response<'static> = respond(answer.status(), answer.body(), answer.headers());
        Ok(response)
    }
}
