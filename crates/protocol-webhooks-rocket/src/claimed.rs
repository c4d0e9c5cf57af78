//! The exactly-once data guard: a verified event whose id this delivery
//! has claimed.

use protocol_webhooks::Answer;
use protocol_webhooks::dedup::{ClaimedEvent, Deduplicator};
use rocket::Request;
use rocket::data::{self, Data, FromData};

use crate::WebhookRejection;
use crate::extract::verified_body;
use crate::outcome::{managed, outcome};

/// A data guard yielding the verified, parsed event once its id is claimed
/// with the managed [`Deduplicator`], so that one delivery of each event
/// runs the handler.
///
/// The size, signature and parse checks are those of
/// [`Webhook`](crate::Webhook); then the claim. Commit it with
/// [`commit`](Self::commit) once the handler's work succeeded; dropped
/// uncommitted (the handler returned an error or panicked) it releases the
/// claim, so the sender's next delivery runs the handler again. Rocket runs
/// a handler to its end even when the client hangs up, so that outcome
/// decides. Every other delivery is refused without running the handler:
///
/// | the event id is… | answer |
/// |---|---|
/// | done | 200, `{"type":"duplicate",...}` |
/// | claimed by another delivery | 409, `Retry-After`: the rest of that lease |
/// | unknown: the store cannot be reached | 503, `Retry-After: 5` |
///
/// Manage the [`Deduplicator`] with
/// [`WebhookFairing::with_deduplicator`](crate::WebhookFairing::with_deduplicator)
/// or `rocket.manage(deduplicator)`; without one the guard answers 500
/// `{"type":"api_error","message":"webhook configuration is missing"}`
/// and logs an error with `missing = "Deduplicator"`.
///
/// ```
/// use protocol_webhooks_rocket::ClaimedWebhook;
/// use rocket::http::Status;
///
/// # async fn charge(_: &str) -> Result<(), std::io::Error> { Ok(()) }
/// #[rocket::post("/webhooks", data = "<claimed>")]
/// async fn on_webhook(claimed: ClaimedWebhook) -> Result<&'static str, Status> {
///     // `claimed` dereferences to the event.
///     if charge(&claimed.id).await.is_err() {
///         // Dropped uncommitted: the next delivery runs this handler again.
///         return Err(Status::ServiceUnavailable);
///     }
///     if let Err(error) = claimed.commit().await {
///         // The work is done either way: answer 2xx, and look into the store.
///         eprintln!("commit failed: {error}");
///     }
///     Ok("done")
/// }
/// ```
#[derive(Debug)]
#[must_use = "dropping the claimed webhook releases the claim: commit it once the handler succeeded"]
pub struct ClaimedWebhook(pub ClaimedEvent);

#[rocket::async_trait]
impl<'r> FromData<'r> for ClaimedWebhook {
    type Error = WebhookRejection;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        outcome(request, claim(request, data).await.map(Self::accepted))
    }
}

async fn claim(request: &Request<'_>, data: Data<'_>) -> Result<ClaimedEvent, Answer> {
    // Looked up before the body is read: without it no delivery can be
    // handled, however well signed, and the server's owner needs to know.
    let deduplicator = managed::<Deduplicator>(request, "Deduplicator")?;
    let event = verified_body(request, data).await?.into_event()?;
    Ok(deduplicator.claim(event).await?)
}
