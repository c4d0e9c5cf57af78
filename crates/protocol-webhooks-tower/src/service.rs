//! The service: verify, then call the inner service or answer.

use core::future::poll_fn;
use core::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use tower_service::Service;

use crate::verify::Verification;
use crate::{ResponseBody, ResponseFuture};

/// The service a [`WebhookLayer`](crate::WebhookLayer) makes around an
/// inner service `S`; see the layer for what it checks and answers.
///
/// It is always ready: the inner service's readiness is awaited only once
/// a request has passed every check, so that no capacity of the inner
/// service (a concurrency limit, a buffer slot) is held while a body
/// arrives, and none is taken by a request that is refused.
#[derive(Debug, Clone)]
pub struct WebhookService<S> {
    inner: S,
    verification: Verification,
}

impl<S> WebhookService<S> {
    pub(crate) fn new(inner: S, verification: Verification) -> Self {
        Self {
            inner,
            verification,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Takes the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for WebhookService<S>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Send,
    ResBody: 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let verification = self.verification.clone();
        let mut inner = self.inner.clone();
        ResponseFuture::new(async move {
            let request = match verification.admit(request).await {
                Ok(request) => request,
                Err(rejection) => return Ok(rejection.into_response()),
            };
            poll_fn(|cx| inner.poll_ready(cx)).await?;
            let response = inner.call(request).await?;
            Ok(response.map(ResponseBody::new))
        })
    }
}
