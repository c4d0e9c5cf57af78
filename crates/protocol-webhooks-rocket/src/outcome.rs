//! From a guard's result to Rocket's outcome: the managed state the guards
//! need, and one log line per refusal.

use protocol_webhooks::Rejection;
use rocket::Request;
use rocket::data;
use rocket::outcome::Outcome;

use crate::WebhookRejection;
use crate::catchers::remember;

/// State the guards look up, or [`Rejection::MissingConfiguration`] logged
/// at `error` with `hint`, which says how to provide it: the request is
/// fine, the server is not.
pub(crate) fn managed<'r, T: Send + Sync + 'static>(
    request: &'r Request<'_>,
    hint: &'static str,
) -> Result<&'r T, Rejection> {
    request.rocket().state::<T>().ok_or_else(|| {
        tracing::error!(reason = "missing_configuration", "{hint}");
        Rejection::MissingConfiguration
    })
}

/// Success, or a refusal kept for the [`catchers`](crate::catchers) and
/// failed with the status that reaches them.
pub(crate) fn outcome<'r, T>(
    request: &Request<'_>,
    result: Result<T, Rejection>,
) -> data::Outcome<'r, T, WebhookRejection> {
    match result {
        Ok(value) => Outcome::Success(value),
        Err(rejection) => {
            log(&rejection);
            let routed = remember(request, &rejection);
            Outcome::Error((routed, WebhookRejection::from(rejection)))
        }
    }
}

/// The reason class and status only: nothing from the request.
fn log(rejection: &Rejection) {
    let (reason, status) = (rejection.reason(), rejection.status());
    match rejection {
        // Logged at `error` by `managed`, which knows what is missing.
        Rejection::MissingConfiguration => {}
        // Not a failure: the sender is told the event is done.
        Rejection::AlreadyProcessed { .. } => {
            tracing::info!(reason, status, "webhook already processed");
        }
        _ => tracing::warn!(reason, status, "webhook rejected"),
    }
}
