//! Catchers that answer a failed webhook guard with its JSON body.
//!
//! Rocket sends a guard's failure to the catcher for its status, not to a
//! responder, so the guard leaves its answer in the request's local cache
//! and these catchers send it.

use protocol_webhooks::Rejection;
use rocket::Request;
use rocket::catcher::{BoxFuture, Catcher};
use rocket::http::Status;

use crate::rejection::Answer;

/// The statuses a webhook guard fails with.
const STATUSES: [Status; 6] = [
    Status::BadRequest,
    Status::Unauthorized,
    Status::Conflict,
    Status::PayloadTooLarge,
    Status::InternalServerError,
    Status::ServiceUnavailable,
];

/// A failed guard's answer, kept for the catcher of the same request.
struct CachedRejection {
    /// The status the guard failed with, whose catcher sends `answer`.
    routed: Status,
    answer: Answer,
}

/// Catchers for 400, 401, 409, 413, 500 and 503 that answer a webhook
/// rejection with its JSON body (and `Retry-After`), and any other error of
/// those statuses with Rocket's default catcher.
///
/// Register them once, at `/`, unless [`WebhookFairing`](crate::WebhookFairing)
/// already does: `rocket::build().register("/", protocol_webhooks_rocket::catchers())`.
#[must_use]
pub fn catchers() -> Vec<Catcher> {
    STATUSES
        .into_iter()
        .map(|status| {
            let mut catcher = Catcher::new(status.code, answer_cached);
            catcher.name = Some("protocol-webhooks".into());
            catcher
        })
        .collect()
}

/// Keeps a guard's answer for the catcher, and returns the status the guard
/// must fail with to reach it.
///
/// That is the rejection's own status except for an event already processed:
/// it is answered 200, but Rocket only has catchers for 4xx and 5xx (a 200
/// failure would get Rocket's "Unknown Error" page), so it goes through the
/// 409 catcher, which answers 200. Should the catchers be missing, the sender
/// then gets a 409 and retries later instead of taking an HTML page for done.
pub(crate) fn remember(request: &Request<'_>, rejection: &Rejection) -> Status {
    let routed = match rejection {
        Rejection::AlreadyProcessed { .. } => Status::Conflict,
        _ => Status::new(rejection.status()),
    };
    request.local_cache(|| {
        Some(CachedRejection {
            routed,
            answer: Answer::of(rejection),
        })
    });
    routed
}

fn answer_cached<'r>(status: Status, request: &'r Request<'_>) -> BoxFuture<'r> {
    Box::pin(async move {
        match request.local_cache(|| None::<CachedRejection>) {
            Some(cached) if cached.routed == status => Ok(cached.answer.to_response()),
            _ => Catcher::default().handler.handle(status, request).await,
        }
    })
}
