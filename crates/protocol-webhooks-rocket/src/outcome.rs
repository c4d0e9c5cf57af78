//! From a guard's result to Rocket's outcome: the managed state the guards
//! need, and the one log line per refusal.

use protocol_webhooks::{Answer, Rejection};
use rocket::Request;
use rocket::data;
use rocket::outcome::Outcome;

use crate::WebhookRejection;
use crate::catchers::remember;

/// State the guards look up, or [`Rejection::MissingConfiguration`] naming
/// the `missing` type: the request is fine, the server is not.
pub(crate) fn managed<'r, T: Send + Sync + 'static>(
    request: &'r Request<'_>,
    missing: &'static str,
) -> Result<&'r T, Rejection> {
    request
        .rocket()
        .state::<T>()
        .ok_or(Rejection::MissingConfiguration { missing })
}

/// Success, or a refusal logged, kept for the [`catchers`](crate::catchers)
/// and failed with the status that reaches them.
pub(crate) fn outcome<'r, T, E: Into<Answer>>(
    request: &Request<'_>,
    result: Result<T, E>,
) -> data::Outcome<'r, T, WebhookRejection> {
    match result {
        Ok(value) => Outcome::Success(value),
        Err(refusal) => {
            let rejection = WebhookRejection::logged(refusal);
            let routed = remember(request, rejection.answer());
            Outcome::Error((routed, rejection))
        }
    }
}
