//! Catchers that answer a failed webhook guard with its JSON body.
//!
//! Rocket sends a guard's failure to the catcher for its status, not to a
//! responder, so the guard leaves its answer in the request's local cache
//! and these catchers send it.

use std::borrow::Cow;

use protocol_webhooks::Answer;
use rocket::Request;
use rocket::catcher::{BoxFuture, Catcher};
use rocket::http::Status;

use crate::rejection::respond;

/// A failed guard's answer as sent, kept for the catcher of the same
/// request: the [`Answer`] itself goes to the guard's error, which a
/// catcher never sees.
struct CachedAnswer {
    /// The status the guard failed with, whose catcher sends the answer.
    routed: Status,
    status: u16,
    body: String,
    headers: Vec<(&'static str, Cow<'static, str>)>,
}

/// A catcher for each of [`Answer::ERROR_STATUSES`] (400, 401, 405, 408,
/// 409, 413, 500 and 503) that answers a webhook rejection with its JSON
/// body and headers (`Retry-After`, ...), and any other error of those
/// statuses with Rocket's default catcher.
///
/// Register them once, at `/`, unless [`WebhookFairing`](crate::WebhookFairing)
/// already does: `rocket::build().register("/", protocol_webhooks_rocket::catchers())`.
#[must_use]
pub fn catchers() -> Vec<Catcher> {
    Answer::ERROR_STATUSES
        .into_iter()
        .map(|status| {
            let mut catcher = Catcher::new(status, answer_cached);
            catcher.name = Some("protocol-webhooks".into());
            catcher
        })
        .collect()
}

/// Keeps a guard's answer for the catcher, and returns the status the guard
/// must fail with to reach it.
///
/// That is the answer's own status except for an event already processed:
/// it is answered 200, but Rocket only has catchers for 4xx and 5xx (a 200
/// failure would get Rocket's "Unknown Error" page), so it goes through the
/// 409 catcher, which answers 200. Should the catchers be missing, the sender
/// then gets a 409 and retries later instead of taking an HTML page for done.
pub(crate) fn remember(request: &Request<'_>, answer: &Answer) -> Status {
    let routed = match answer.status() {
        status @ 400..=599 => Status::new(status),
        _ => Status::Conflict,
    };
    request.local_cache(|| {
        Some(CachedAnswer {
            routed,
            status: answer.status(),
            body: answer.body(),
            headers: answer.headers().collect(),
        })
    });
    routed
}

fn answer_cached<'r>(status: Status, request: &'r Request<'_>) -> BoxFuture<'r> {
    Box::pin(async move {
        match request.local_cache(|| None::<CachedAnswer>) {
            Some(cached) if cached.routed == status => Ok(respond(
                cached.status,
                cached.body.clone(),
                cached.headers.iter().cloned(),
            )),
            _ => Catcher::default().handler.handle(status, request).await,
        }
    })
}
