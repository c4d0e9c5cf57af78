//! The answer to a refused webhook: warp's rejection and reply for the core's
//! [`Answer`](crate::Answer).

use warp::reply::Response;

/// Why a webhook did not reach the handler, as a warp rejection and reply.
///
/// [`webhook`](crate::webhook), [`raw_webhook`](crate::raw_webhook) and
/// [`claimed_webhook`](crate::claimed_webhook) reject with it; [`recover`]
/// turns it into the core's [`Answer`](crate::Answer) exactly: its
/// status, Protocol's JSON error body and its headers (`Content-Type`,
/// `Retry-After` when the sender should come back, `Connection: close`
/// when the body was not read to its end). An event that was processed
/// already is "rejected" too, so that its handler does not run, and
/// answered 200.
///
/// The filters take the configuration and the deduplicator as
/// arguments, so neither can be missing at run time; a filter of the
/// application's own that finds its settings missing can reject with
/// `WebhookRejection::from(Rejection::MissingConfiguration { .. })` to
/// be answered the same way.
///
/// It is a newtype because warp's [`warp::Reply`] and
/// [`warp::reject::Reject`] cannot be implemented on the core's type here.
#[derive(Debug)]
pub struct WebhookRejection(pub(crate) crate::Answer);

impl WebhookRejection {
    /// The HTTP answer for this rejection.
    #[must_use]
    pub fn to_response(&self) -> Response {
        warp::Reply::into_response(self.answer().to_http())
    }
}

impl warp::reject::Reject for WebhookRejection {}

impl warp::Reply for WebhookRejection {
    fn into_response(self) -> Response {
        self.to_response()
    }
}

/// Answers a webhook rejection with its status, headers and JSON body;
/// passes every other rejection on unchanged.
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
