//! The data guards: a verified event and a verified raw body.

use protocol_webhooks::{Rejection, VerifiedBody, WebhookConfig};
use rocket::Request;
use rocket::data::{self, Data, FromData};

use crate::WebhookRejection;
use crate::body::read_verified;
use crate::outcome::{managed, outcome};

/// A data guard yielding the verified, parsed event.
///
/// The handler runs only for a request whose body is within the limit,
/// carries a valid `x-protocol-signature` and parses as an event. Otherwise
/// the guard fails with the rejection's status, which the
/// [`catchers`](crate::catchers) answer with Protocol's JSON error body.
///
/// ```
/// use protocol_webhooks_rocket::{Payload, Webhook};
///
/// #[rocket::post("/webhooks", data = "<webhook>")]
/// fn on_webhook(webhook: Webhook) -> &'static str {
///     let Webhook(event) = webhook;
///     match event.payload {
///         Payload::Message(_) => "message",
///         _ => "other",
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook(pub crate::Event);

/// A data guard yielding only the verified raw body, for handlers that store
/// or enqueue the exact bytes and parse them later.
///
/// The size limit and the signature are checked as for [`Webhook`]; the
/// body is not parsed, so any authentic bytes pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawWebhook(pub VerifiedBody);

#[rocket::async_trait]
impl<'r> FromData<'r> for Webhook {
    type Error = WebhookRejection;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let event = verified_body(request, data)
            .await
            .and_then(|body| Ok(body.into_event()?));
        outcome(request, event.map(Self::accepted))
    }
}

#[rocket::async_trait]
impl<'r> FromData<'r> for RawWebhook {
    type Error = WebhookRejection;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        outcome(
            request,
            verified_body(request, data).await.map(Self::accepted),
        )
    }
}

/// The body within the limit and with a valid signature: size first, then
/// signature. Parsing, if any, comes after.
pub(crate) async fn verified_body(
    request: &Request<'_>,
    data: Data<'_>,
) -> Result<VerifiedBody, Rejection> {
    let config = managed::<WebhookConfig>(request, "WebhookConfig")?;
    read_verified(request, data, config).await
}
