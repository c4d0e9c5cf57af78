//! Reading a request into the core's collector: the head from warp's
//! headers, the body from warp's body stream.

use protocol_webhooks::{RequestHead, VerifiedBody, WebhookConfig};
use warp::Filter;
use warp::http::HeaderMap;

use crate::WebhookRejection;

/// A filter that extracts the body once its size and signature are checked.
pub(crate) fn verified_body(
    config: WebhookConfig,
) -> impl Filter<Extract = (VerifiedBody,), Error = warp::Rejection> + Clone {
    // Refusing a repeated signature header needs every value of it, and
    // `headers_cloned` is the only warp filter that sees more than a
    // header's first value: the map is cloned once per webhook request.
    let head = warp::header::headers_cloned()
        .map(|headers: HeaderMap| RequestHead::from_headers(&headers));
    warp::any()
        .map(move || config.clone())
        .and(head)
        .and(warp::body::stream())
        .and_then(|config: WebhookConfig, head, body| async move {
            let verified = match config.collect_body(head) {
                Ok(collector) => collector.collect(body).await,
                Err(rejection) => Err(rejection),
            };
            verified.map_err(|rejection| warp::reject::custom(WebhookRejection::logged(rejection)))
        })
}
