//! Catchers that answer a failed webhook guard with its JSON body.
//!
//! Rocket sends a guard's failure to the catcher for its status, not to a
//! responder, so the guard leaves its answer in the request's local cache
//! and these catchers send it.

use rocket::Request;
use rocket::catcher::{BoxFuture, Catcher};
use rocket::http::Status;

use crate::WebhookRejection;
use crate::rejection::json_response;

/// The statuses a webhook guard fails with.
const STATUSES: [Status; 4] = [
    Status::BadRequest,
    Status::Unauthorized,
    Status::PayloadTooLarge,
    Status::InternalServerError,
];

/// A failed guard's answer, kept for the catcher of the same request.
struct CachedRejection {
    status: Status,
    body: String,
}

/// Catchers for 400, 401, 413 and 500 that answer a webhook rejection with
/// its JSON body, and any other error of those statuses with Rocket's
/// default catcher.
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

/// Keeps a guard's answer for the catcher.
pub(crate) fn remember(request: &Request<'_>, rejection: &WebhookRejection) {
    request.local_cache(|| {
        Some(CachedRejection {
            status: rejection.status(),
            body: rejection.to_json(),
        })
    });
}

fn answer_cached<'r>(status: Status, request: &'r Request<'_>) -> BoxFuture<'r> {
    Box::pin(async move {
        match request.local_cache(|| None::<CachedRejection>) {
            Some(cached) if cached.status == status => {
                Ok(json_response(status, cached.body.clone()))
            }
            _ => Catcher::default().handler.handle(status, request).await,
        }
    })
}
