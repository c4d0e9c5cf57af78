//! The inbox extractor: a verified event, stored before the sender is
//! answered.

use axum_core::body::Body;
use axum_core::extract::{FromRef, FromRequest, Request};
use axum_core::response::{IntoResponse, Response};
use protocol_webhooks::WebhookConfig;
use protocol_webhooks_inbox::{Accepted, Inbox};

use crate::WebhookRejection;
use crate::body::read_verified;

/// Verifies the request, stores its event in the state's [`Inbox`] and,
/// returned from the handler, answers the sender: 202 for an event stored
/// now, 200 for one the inbox held already. The inbox's worker runs the
/// event's handling later, with retries.
///
/// Bad input gets the same answers as [`Webhook`](crate::Webhook) and
/// stores nothing; an inbox that cannot store answers 503 with
/// `Retry-After`, so the sender delivers the event again.
///
/// ```
/// use axum::{Router, extract::FromRef, routing::post};
/// use protocol_webhooks_axum::{InboxWebhook, WebhookConfig};
/// use protocol_webhooks_inbox::Inbox;
///
/// #[derive(Clone, FromRef)]
/// struct AppState {
///     config: WebhookConfig,
///     inbox: Inbox,
/// }
///
/// async fn on_webhook(stored: InboxWebhook) -> InboxWebhook {
///     stored
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// let inbox = Inbox::open_sqlite(dir.path().join("inbox.sqlite3"))?;
/// let app: Router = Router::new()
///     .route("/webhooks", post(on_webhook))
///     .with_state(AppState { config: WebhookConfig::new("whsec_from_protocol")?, inbox });
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "return it from the handler: it is the answer the sender gets"]
pub struct InboxWebhook(pub Accepted);

impl<S> FromRequest<S> for InboxWebhook
where
    S: Send + Sync,
    WebhookConfig: FromRef<S>,
    Inbox: FromRef<S>,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let config = WebhookConfig::from_ref(state);
        let body = read_verified(&config, request)
            .await
            .map_err(WebhookRejection::logged)?;
        Inbox::from_ref(state)
            .accept(&body)
            .await
            .map(Self::stored)
            .map_err(WebhookRejection::logged)
    }
}

impl IntoResponse for InboxWebhook {
    fn into_response(self) -> Response {
        self.answer().to_http().map(Body::from).into_response()
    }
}
