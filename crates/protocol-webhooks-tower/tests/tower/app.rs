//! The suite's four routes as plain tower services, the same routes behind
//! an axum Router, and an in-process harness for either.

use core::convert::Infallible;

use axum::{Extension, Router, routing::post};
use bytes::Bytes;
use futures_util::stream;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use protocol_webhooks_conformance::{
    EVENT_PATH, Harness, INBOX_PATH, ONCE_PATH, RAW_PATH, TestRequest, TestResponse, config,
    deduplicator, event_summary, handle_once, inbox,
};
use protocol_webhooks_tower::{
    ClaimedWebhook, InboxService, PendingClaim, RawWebhook, ResponseBody, Webhook, WebhookLayer,
};
use tower::{Layer as _, Service, ServiceExt as _, service_fn};

/// What every handler here answers.
pub(crate) type Reply = Response<Full<Bytes>>;

/// The body the in-process harness sends.
pub(crate) type TestBody = BoxBody<Bytes, Infallible>;

fn json(status: StatusCode, body: String) -> Reply {
    let mut response = Response::new(Full::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A 500 that makes a case fail visibly when the layer handed over nothing.
fn missing(what: &str) -> Reply {
    json(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(r#"{{"error":"no {what} in the extensions"}}"#),
    )
}

async fn on_event(request: Request<Full<Bytes>>) -> Result<Reply, Infallible> {
    Ok(match request.extensions().get::<Webhook>() {
        Some(Webhook(event)) => json(StatusCode::OK, event_summary(event)),
        None => missing("Webhook"),
    })
}

async fn on_raw(request: Request<Full<Bytes>>) -> Result<Reply, Infallible> {
    Ok(match request.extensions().get::<RawWebhook>() {
        Some(RawWebhook(body)) => Response::new(Full::from(body.as_bytes().to_vec())),
        None => missing("RawWebhook"),
    })
}

async fn on_once(request: Request<Full<Bytes>>) -> Result<Reply, Infallible> {
    let Some(claimed) = ClaimedWebhook::take_from(request.extensions()) else {
        return Ok(missing("PendingClaim"));
    };
    Ok(once_reply(claimed.into_inner()).await)
}

async fn once_reply(claimed: protocol_webhooks_tower::ClaimedEvent) -> Reply {
    let reply = handle_once(claimed).await;
    let status = StatusCode::from_u16(reply.status).expect("the suite answers valid statuses");
    if reply.body.is_empty() {
        let mut response = Reply::default();
        *response.status_mut() = status;
        response
    } else {
        json(status, reply.body)
    }
}

/// Exactly the four routes the suite documents, each behind its layer (the
/// inbox route is the inbox service itself), routed by path with nothing
/// but tower.
pub(crate) fn app<B>() -> impl Service<
    Request<B>,
    Response = Response<ResponseBody<Full<Bytes>>>,
    Error = Infallible,
    Future: Send,
> + Clone
+ Send
+ 'static
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Send,
{
    let event = WebhookLayer::new(config()).layer(service_fn(on_event));
    let raw = WebhookLayer::raw(config()).layer(service_fn(on_raw));
    let once = WebhookLayer::new(config())
        .exactly_once(deduplicator())
        .layer(service_fn(on_once));
    let stored = InboxService::new(config(), inbox());
    service_fn(move |request: Request<B>| {
        let (event, raw, once) = (event.clone(), raw.clone(), once.clone());
        let stored = stored.clone();
        async move {
            match request.uri().path() {
                EVENT_PATH => event.oneshot(request).await,
                RAW_PATH => raw.oneshot(request).await,
                INBOX_PATH => {
                    let response = stored.oneshot(request).await?;
                    Ok(response.map(ResponseBody::new))
                }
                ONCE_PATH => once.oneshot(request).await,
                _ => {
                    let mut response = Response::new(ResponseBody::new(Full::default()));
                    *response.status_mut() = StatusCode::NOT_FOUND;
                    Ok(response)
                }
            }
        }
    })
}

/// The same routes in an axum Router, each with its layer as a route
/// layer, the handlers taking what the layer hands over as `Extension`s.
pub(crate) fn axum_app() -> Router {
    async fn on_event(Extension(Webhook(event)): Extension<Webhook>) -> Reply {
        json(StatusCode::OK, event_summary(&event))
    }
    async fn on_raw(Extension(RawWebhook(body)): Extension<RawWebhook>) -> Vec<u8> {
        body.into_bytes()
    }
    async fn on_once(Extension(pending): Extension<PendingClaim>) -> Reply {
        match pending.take() {
            Some(claimed) => once_reply(claimed.into_inner()).await,
            None => missing("claim"),
        }
    }
    Router::new()
        .route(EVENT_PATH, post(on_event))
        .route_layer(WebhookLayer::new(config()))
        .merge(
            Router::new()
                .route(RAW_PATH, post(on_raw))
                .route_layer(WebhookLayer::raw(config())),
        )
        .route_service(INBOX_PATH, InboxService::new(config(), inbox()))
        .merge(
            Router::new()
                .route(ONCE_PATH, post(on_once))
                .route_layer(WebhookLayer::new(config()).exactly_once(deduplicator())),
        )
}

/// The `http` request a client would send for `request`: a stream with no
/// size hint and no `Content-Length` when chunked, as hyper hands over
/// `Transfer-Encoding: chunked`; otherwise the whole body and its length.
pub(crate) fn http_request(request: TestRequest) -> Request<TestBody> {
    let mut builder = Request::post(request.path);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_slice());
    }
    let body = if request.chunked {
        let frames = request
            .chunks()
            .into_iter()
            .map(|chunk| Ok::<_, Infallible>(Frame::data(chunk)));
        StreamBody::new(stream::iter(frames)).boxed()
    } else {
        builder = builder.header(CONTENT_LENGTH, request.body.len());
        Full::from(request.body).boxed()
    };
    builder.body(body).expect("suite requests are valid HTTP")
}

/// Sends each case by calling the service, with no socket.
pub(crate) struct InProcess<S>(pub(crate) S);

impl<S, B> Harness for InProcess<S>
where
    S: Service<Request<TestBody>, Response = Response<B>, Error = Infallible> + Clone,
    B: Body,
    B::Error: core::fmt::Debug,
{
    async fn send(&self, request: TestRequest) -> TestResponse {
        let response = match self.0.clone().oneshot(http_request(request)).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .expect("in-memory response body")
            .to_bytes();
        TestResponse::new(parts.status.as_u16(), &parts.headers, body.to_vec())
    }
}
