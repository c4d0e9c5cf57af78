//! The exactly-once extractor: a verified event whose id this delivery claimed.

use axum_core::extract::{FromRef, FromRequest, Request};
use protocol_webhooks::WebhookConfig;
use protocol_webhooks::dedup::Deduplicator;

use crate::WebhookRejection;
use crate::body::read_event;

/// Extracts a verified Protocol event and claims its id, so that exactly one
/// delivery of each event runs the handler, across retries and replicas.
///
/// The request is first checked exactly as by [`Webhook`](crate::Webhook) (size, signature,
/// then parse); only then is the authentic event's id claimed with the
/// [`Deduplicator`] from the router's state. The handler gets the
/// [`ClaimedEvent`](crate::ClaimedEvent), which dereferences to the
/// [`Event`](protocol_webhooks::events::Event). Once its work succeeded it
/// calls [`commit`](Self::commit); if it returns without committing, fails
/// or panics, or the request is dropped, the claim is released so that the
/// sender's next delivery runs the handler.
///
/// Every other delivery is answered without running the handler, as a
/// [`WebhookRejection`]:
///
/// | the event id is… | answer |
/// |---|---|
/// | processed already | 200, `{"type":"duplicate",...}`: the sender stops retrying |
/// | claimed by a delivery still running | 409 with `Retry-After` (the rest of its lease) |
/// | unknown: the store cannot be used | 503 with `Retry-After` |
///
/// Requires `WebhookConfig: FromRef<S>` and `Deduplicator: FromRef<S>` for
/// the router's state `S`. It reads the body, so it must be the handler's
/// last argument.
///
/// ```
/// use axum::extract::FromRef;
/// use axum::{Router, http::StatusCode, routing::post};
/// use protocol_webhooks_axum::{ClaimedWebhook, Deduplicator, WebhookConfig};
///
/// #[derive(Clone, FromRef)]
/// struct AppState {
///     webhooks: WebhookConfig,
///     dedup: Deduplicator,
/// }
///
/// async fn on_webhook(claimed: ClaimedWebhook) -> StatusCode {
///     println!("{} {}", claimed.event_type, claimed.id);
///     match claimed.commit().await {
///         Ok(()) => StatusCode::OK,
///         // The work is done either way; see `ClaimGuard::commit`.
///         Err(error) => {
///             eprintln!("commit failed: {error}");
///             StatusCode::OK
///         }
///     }
/// }
///
/// let state = AppState {
///     webhooks: WebhookConfig::new("whsec_from_protocol")?,
///     dedup: Deduplicator::in_memory(),
/// };
/// let app: Router = Router::new().route("/webhooks", post(on_webhook)).with_state(state);
/// # let _ = app;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Forgetting the `Deduplicator` is a compile error, not a failure at run
/// time:
///
/// ```compile_fail
/// use axum::{Router, http::StatusCode, routing::post};
/// use protocol_webhooks_axum::{ClaimedWebhook, WebhookConfig};
///
/// async fn on_webhook(claimed: ClaimedWebhook) -> StatusCode {
///     let _ = claimed.commit().await;
///     StatusCode::OK
/// }
///
/// let app: Router = Router::new()
///     .route("/webhooks", post(on_webhook))
///     .with_state(WebhookConfig::new("whsec_from_protocol")?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "dropping the claimed webhook releases the claim: commit it once the handler succeeded"]
pub struct ClaimedWebhook(pub crate::ClaimedEvent);

impl<S> FromRequest<S> for ClaimedWebhook
where
    S: Send + Sync,
    WebhookConfig: FromRef<S>,
    Deduplicator: FromRef<S>,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Only an authentic, well-formed event's id is claimed: a forger
        // must not be able to mark ids done or hold them.
        let config = WebhookConfig::from_ref(state);
        let event = read_event(&config, request)
            .await
            .map_err(WebhookRejection::logged)?;
        Deduplicator::from_ref(state)
            .claim(event)
            .await
            .map(Self::accepted)
            .map_err(WebhookRejection::logged)
    }
}
