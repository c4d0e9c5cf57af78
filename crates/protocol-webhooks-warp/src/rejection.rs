//! The answer to a refused webhook: warp's rejection and reply for the core's
//! [`Rejection`].

use protocol_webhooks::{REJECTION_CONTENT_TYPE, Rejection};
use warp::http::StatusCode;
use warp::http::header::{CONNECTION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use warp::reply::Response;

protocol_webhooks::__extractor_types! {
    /// Why a webhook was refused, as a warp rejection and reply.
    ///
    /// [`webhook`](crate::webhook), [`raw_webhook`](crate::raw_webhook) and
    /// [`claimed_webhook`](crate::claimed_webhook) reject with it; [`recover`]
    /// turns it into the answer: status [`Rejection::status`],
    /// `Content-Type: application/json`, the body [`Rejection::to_json`] and,
    /// when [`Rejection::retry_after`] gives one, a `Retry-After` header in
    /// seconds. An event that was processed already is "rejected" too, so that
    /// its handler does not run, and answered 200.
    ///
    /// It is a newtype because warp's [`warp::Reply`] and
    /// [`warp::reject::Reject`] cannot be implemented on the core's type here.
    pub struct WebhookRejection;
}

impl WebhookRejection {
    /// Wraps a core rejection.
    #[must_use]
    pub fn new(rejection: Rejection) -> Self {
        Self(rejection)
    }

    /// The HTTP answer for this rejection.
    #[must_use]
    pub fn to_response(&self) -> Response {
        let mut response = Response::new(self.0.to_json().into());
        // Every core status is a valid status code; the fallback only keeps
        // this free of panics.
        *response.status_mut() =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(REJECTION_CONTENT_TYPE),
        );
        if let Some(seconds) = self.0.retry_after() {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.0.closes_connection() {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl warp::reject::Reject for WebhookRejection {}

impl warp::Reply for WebhookRejection {
    fn into_response(self) -> Response {
        self.to_response()
    }
}

/// Logs a refused webhook by its reason class and wraps it for warp.
///
/// Only the class is logged: never the body, the header or a signature. A
/// redelivery of a processed event is normal sender behaviour, not a
/// problem, so it is logged at `debug` with its (authenticated) id.
pub(crate) fn reject(rejection: Rejection) -> warp::Rejection {
    let reason = rejection.reason();
    let status = rejection.status();
    if let Rejection::AlreadyProcessed { event_id } = &rejection {
        tracing::debug!(reason, status, %event_id, "webhook already processed");
    } else {
        tracing::warn!(reason, status, "webhook rejected");
    }
    warp::reject::custom(WebhookRejection(rejection))
}

/// Answers a webhook rejection with its status and JSON body; passes every
/// other rejection on unchanged.
///
/// Use it with [`Filter::recover`](warp::Filter::recover). Without it, warp
/// answers a custom rejection with a plain-text 500.
///
/// ```
/// use protocol_webhooks_warp::{Webhook, WebhookConfig, recover, webhook};
/// use warp::Filter;
///
/// let config = WebhookConfig::new("whsec_test")?;
/// let route = warp::path!("webhooks")
///     .and(warp::post())
///     .and(webhook(config))
///     .map(|Webhook(event): Webhook| event.id)
///     .recover(recover);
/// # drop(route);
/// # Ok::<(), protocol_webhooks_warp::protocol_webhooks::KeyError>(())
/// ```
///
/// # Errors
/// The rejection itself when it is not a [`WebhookRejection`], so that warp
/// (or a later `recover`) answers it as usual.
pub async fn recover(rejection: warp::Rejection) -> Result<Response, warp::Rejection> {
    match rejection.find::<WebhookRejection>() {
        Some(webhook) => Ok(webhook.to_response()),
        None => Err(rejection),
    }
}
