//! Finding the [`WebhookConfig`] and the [`Deduplicator`] in the app data.

use actix_web::{HttpRequest, web};
use protocol_webhooks::dedup::Deduplicator;
use protocol_webhooks::{Rejection, WebhookConfig};

use crate::rejection::WebhookRejection;

/// The configuration registered with `App::app_data(config)` or
/// `App::app_data(web::Data::new(config))`.
pub(crate) fn registered_config(request: &HttpRequest) -> Result<WebhookConfig, WebhookRejection> {
    registered(request).ok_or_else(|| {
        WebhookRejection::logged(Rejection::MissingConfiguration {
            missing: "WebhookConfig",
        })
    })
}

/// The de-duplicator registered with `App::app_data(deduplicator)` or
/// `App::app_data(web::Data::new(deduplicator))`.
pub(crate) fn registered_deduplicator(
    request: &HttpRequest,
) -> Result<Deduplicator, WebhookRejection> {
    registered(request).ok_or_else(|| {
        WebhookRejection::logged(Rejection::MissingConfiguration {
            missing: "Deduplicator",
        })
    })
}

/// A value registered plainly or as `web::Data`, the innermost (resource,
/// then scope, then app) one winning. Both kinds are cheap to clone.
pub(crate) fn registered<T: Clone + 'static>(request: &HttpRequest) -> Option<T> {
    request
        .app_data::<T>()
        .or_else(|| request.app_data::<web::Data<T>>().map(web::Data::get_ref))
        .cloned()
}
