//! What the inner service is handed: the request as received, its exact
//! verified bytes as the body, and the layer's extension.

use core::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use protocol_webhooks_tower::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_tower::{
    ClaimedWebhook, Deduplicator, Event, EventType, PendingClaim, RawWebhook, Webhook,
    WebhookConfig, WebhookLayer,
};
use tower::{Layer as _, ServiceExt as _, service_fn};

const SECRET: &str = "whsec_handover";

fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET).expect("non-empty secret")
}

/// A marker an outer layer put in the extensions.
#[derive(Debug, Clone, PartialEq)]
struct Outer(&'static str);

fn signed_request(signed: &SignedRequest, path: &str) -> Request<Full<Bytes>> {
    let mut request = Request::post(path)
        .header(signed.header_name(), signed.signature())
        .header("x-request-id", "req-7")
        .body(Full::new(Bytes::copy_from_slice(signed.body())))
        .expect("valid request");
    request.extensions_mut().insert(Outer("kept"));
    request
}

/// Every request the inner service got, as it got it.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Request<Full<Bytes>>>>>);

impl Seen {
    fn service(
        &self,
    ) -> impl tower::Service<
        Request<Full<Bytes>>,
        Response = Response<Full<Bytes>>,
        Error = Infallible,
        Future: Send,
    > + Clone
    + Send
    + 'static {
        let seen = self.clone();
        service_fn(move |request: Request<Full<Bytes>>| {
            let seen = seen.clone();
            async move {
                seen.0
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(request);
                Ok::<_, Infallible>(Response::new(Full::from("inner")))
            }
        })
    }

    fn take(&self) -> Vec<Request<Full<Bytes>>> {
        core::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

async fn body_of(request: Request<Full<Bytes>>) -> Bytes {
    request
        .into_body()
        .collect()
        .await
        .expect("in-memory body")
        .to_bytes()
}

#[tokio::test]
async fn the_event_layer_hands_over_the_request_its_bytes_and_the_event() {
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let seen = Seen::default();
    let service = WebhookLayer::new(config()).layer(seen.service());

    // As hyper leaves it on a body that arrived in chunks.
    let mut sent = signed_request(&signed, "/hooks/protocol?tenant=3");
    let chunked = http::HeaderValue::from_static("chunked");
    sent.headers_mut()
        .insert(http::header::TRANSFER_ENCODING, chunked);
    let response = service.oneshot(sent).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response.body().is_answer());
    let body = response.into_body().collect().await.expect("body");
    assert_eq!(body.to_bytes(), "inner");

    let [request] = <[_; 1]>::try_from(seen.take()).expect("called once");
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(request.uri(), "/hooks/protocol?tenant=3");
    assert_eq!(request.headers()["x-request-id"], "req-7");
    // The framing headers describe the whole body handed over.
    assert!(
        !request
            .headers()
            .contains_key(http::header::TRANSFER_ENCODING)
    );
    let length = signed.body().len().to_string();
    assert_eq!(
        request.headers()[http::header::CONTENT_LENGTH],
        length.as_str()
    );
    assert_eq!(request.extensions().get(), Some(&Outer("kept")));
    let expected = Event::from_slice(signed.body()).expect("sample event");
    assert_eq!(
        request.extensions().get::<Webhook>(),
        Some(&Webhook(expected))
    );
    assert!(request.extensions().get::<RawWebhook>().is_none());
    assert_eq!(body_of(request).await, signed.body());
}

#[tokio::test]
async fn the_raw_layer_hands_over_any_signed_bytes_unparsed() {
    let signed = SignedRequest::new(SECRET, "not an event, but signed").expect("sign");
    let seen = Seen::default();

    let refused = WebhookLayer::new(config())
        .layer(seen.service())
        .oneshot(signed_request(&signed, "/"))
        .await
        .expect("infallible");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(seen.take().is_empty(), "an event layer does not pass it on");

    let response = WebhookLayer::raw(config())
        .layer(seen.service())
        .oneshot(signed_request(&signed, "/"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let [request] = <[_; 1]>::try_from(seen.take()).expect("called once");
    let RawWebhook(verified) = request
        .extensions()
        .get::<RawWebhook>()
        .cloned()
        .expect("raw webhook");
    assert!(request.extensions().get::<Webhook>().is_none());
    assert_eq!(verified.as_bytes(), signed.body());
    assert_eq!(body_of(request).await, signed.body());
}

#[tokio::test]
async fn a_claim_is_handed_out_once_and_released_when_nobody_takes_it() {
    let signed = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("sample");
    let seen = Seen::default();
    let service = WebhookLayer::new(config())
        .exactly_once(Deduplicator::in_memory())
        .layer(seen.service());

    // The inner service drops the request without taking the claim: it is
    // released, so the retry is passed on again.
    let first = service
        .clone()
        .oneshot(signed_request(&signed, "/"))
        .await
        .expect("infallible");
    assert_eq!(first.status(), StatusCode::OK);
    let [request] = <[_; 1]>::try_from(seen.take()).expect("called once");
    let pending = request
        .extensions()
        .get::<PendingClaim>()
        .cloned()
        .expect("pending claim");
    assert!(request.extensions().get::<Webhook>().is_none());
    assert!(pending.is_pending());
    drop((request, pending));

    service
        .clone()
        .oneshot(signed_request(&signed, "/"))
        .await
        .expect("infallible");
    let [request] = <[_; 1]>::try_from(seen.take()).expect("passed on again");
    let claimed = ClaimedWebhook::take_from(request.extensions()).expect("the claim");
    assert!(
        ClaimedWebhook::take_from(request.extensions()).is_none(),
        "a claim has one owner"
    );
    assert!(
        !request
            .extensions()
            .get::<PendingClaim>()
            .expect("slot")
            .is_pending()
    );
    assert_eq!(claimed.id, "evt_sample");
    claimed.commit().await.expect("commit");

    let duplicate = service
        .oneshot(signed_request(&signed, "/"))
        .await
        .expect("infallible");
    assert_eq!(duplicate.status(), StatusCode::OK);
    assert!(duplicate.body().is_answer());
    assert!(seen.take().is_empty(), "a done event is not passed on");
}

#[tokio::test]
async fn the_inner_response_passes_through_untouched() {
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let inner = service_fn(|_request: Request<Full<Bytes>>| async {
        let response = Response::builder()
            .status(StatusCode::ACCEPTED)
            .header("x-handled-by", "inner")
            .body(Full::from("queued"))
            .expect("valid response");
        Ok::<_, Infallible>(response)
    });
    let response = WebhookLayer::new(config())
        .layer(inner)
        .oneshot(signed_request(&signed, "/"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(response.headers()["x-handled-by"], "inner");
    assert_eq!(http_body::Body::size_hint(response.body()).exact(), Some(6));
    let body = response.into_body().collect().await.expect("body");
    assert_eq!(body.to_bytes(), "queued");
}
