//! The inbox service: verify, store, answer; the handling runs later.

use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body::Body;
use http_body_util::Full;
use protocol_webhooks::WebhookConfig;
use protocol_webhooks_inbox::{Accepted, Inbox};
use tower_service::Service;

use crate::WebhookRejection;
use crate::verify::read_verified;

/// What [`InboxService`] did with a request's event: the inbox stored it
/// (or held it already). Its answer is 202 for an event stored now, 200 for
/// one the inbox held already.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "its answer is what the sender gets"]
pub struct InboxWebhook(pub Accepted);

/// A complete webhook route for an inbox: verifies each request, stores its
/// event in the [`Inbox`] before answering 202 (or 200 for an event the
/// inbox held already), and answers every refusal as [`WebhookLayer`]
/// does. The inbox's worker runs the event's handling later, with retries.
/// An inbox that cannot store answers 503 with `Retry-After`, so the
/// sender delivers the event again.
///
/// [`WebhookLayer`]: crate::WebhookLayer
///
/// ```
/// use axum::Router;
/// use protocol_webhooks_inbox::Inbox;
/// use protocol_webhooks_tower::{InboxService, WebhookConfig};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// let inbox = Inbox::open_sqlite(dir.path().join("inbox.sqlite3"))?;
/// let config = WebhookConfig::new("whsec_from_protocol")?;
/// let app: Router = Router::new().route_service("/webhooks", InboxService::new(config, inbox));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct InboxService {
    config: WebhookConfig,
    inbox: Inbox,
}

impl InboxService {
    /// Verifies under `config` and stores in `inbox`.
    #[must_use]
    pub fn new(config: WebhookConfig, inbox: Inbox) -> Self {
        Self { config, inbox }
    }

    async fn store<B: Body>(&self, request: Request<B>) -> Result<InboxWebhook, WebhookRejection> {
        let (parts, body) = request.into_parts();
        if parts.method != Method::POST {
            return Err(WebhookRejection::method_not_allowed());
        }
        let verified = read_verified(&self.config, &parts.headers, body)
            .await
            .map_err(WebhookRejection::logged)?;
        self.inbox
            .accept(&verified)
            .await
            .map(InboxWebhook::stored)
            .map_err(WebhookRejection::logged)
    }
}

type Answered = Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

impl<B> Service<Request<B>> for InboxService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Send,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Answered;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move {
            let answer = match service.store(request).await {
                Ok(stored) => stored.answer(),
                Err(rejection) => rejection.into_inner(),
            };
            Ok(answer.to_http().map(|body| Full::new(Bytes::from(body))))
        })
    }
}
