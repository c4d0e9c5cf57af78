//! What the inner service is spared: every refusal is answered by the layer,
//! from the core's `Answer`, logged once, without calling the inner service
//! or waiting for it to be ready.

use core::convert::Infallible;
use core::task::{Context, Poll};
use core::time::Duration;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::header::{ALLOW, CONNECTION, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use protocol_webhooks_conformance::capture;
use protocol_webhooks_tower::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_tower::{
    Answer, EventType, Rejection, WebhookConfig, WebhookLayer, WebhookRejection,
};
use tower::{Layer as _, Service, ServiceExt as _, service_fn};

const SECRET: &str = "whsec_refusals";

fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET).expect("non-empty secret")
}

/// An inner service that counts its calls and answers 200.
fn counting(
    calls: &Arc<AtomicUsize>,
) -> impl Service<
    Request<Full<Bytes>>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future: Send,
> + Clone
+ Send
+ 'static {
    let calls = Arc::clone(calls);
    service_fn(move |_request: Request<Full<Bytes>>| {
        calls.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, Infallible>(Response::new(Full::default())) }
    })
}

fn answer_lines(lines: &[String]) -> Vec<&String> {
    lines
        .iter()
        .filter(|line| line.contains(" protocol_webhooks::answer: "))
        .collect()
}

#[tokio::test]
async fn every_other_method_is_answered_405_by_the_layer() {
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let calls = Arc::new(AtomicUsize::new(0));
    let service = WebhookLayer::new(config()).layer(counting(&calls));
    for method in [Method::GET, Method::HEAD, Method::PUT, Method::OPTIONS] {
        // Even a correctly signed body does not make another method a webhook.
        let request = Request::builder()
            .method(method.clone())
            .uri("/webhooks")
            .header(signed.header_name(), signed.signature())
            .body(Full::new(Bytes::copy_from_slice(signed.body())))
            .expect("valid request");
        let (response, lines) = capture(service.clone().oneshot(request)).await;
        let response = response.expect("infallible");
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(response.headers()[ALLOW], "POST");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(
            body,
            Answer::from(Rejection::MethodNotAllowed).body().as_bytes()
        );
        let logged = answer_lines(&lines);
        assert!(
            matches!(logged[..], [line] if line.contains("reason=\"method_not_allowed\" status=405")),
            "{method}: {lines:?}"
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

/// An inner service that is never ready, and fails the test if called.
#[derive(Clone)]
struct NeverReady;

impl Service<Request<Full<Bytes>>> for NeverReady {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = core::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Pending
    }

    fn call(&mut self, _request: Request<Full<Bytes>>) -> Self::Future {
        panic!("called without being ready")
    }
}

#[tokio::test]
async fn a_refusal_does_not_wait_for_the_inner_service() {
    let mut service = WebhookLayer::new(config()).layer(NeverReady);
    // Ready at once: the inner service's readiness is not its concern yet.
    let ready = core::future::poll_fn(|cx| {
        Poll::Ready(Service::<Request<Full<Bytes>>>::poll_ready(
            &mut service,
            cx,
        ))
    })
    .await;
    assert!(matches!(ready, Poll::Ready(Ok(()))));

    let forged = Request::post("/webhooks")
        .header("x-protocol-signature", "0".repeat(64))
        .body(Full::<Bytes>::from("{}"))
        .expect("valid request");
    let response = tokio::time::timeout(Duration::from_secs(5), service.call(forged))
        .await
        .expect("answered without the inner service")
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.body().is_answer());

    // An authentic request does wait for it.
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let authentic = Request::post("/webhooks")
        .header(signed.header_name(), signed.signature())
        .body(Full::new(Bytes::copy_from_slice(signed.body())))
        .expect("valid request");
    let waited = tokio::time::timeout(Duration::from_millis(200), service.call(authentic)).await;
    assert!(waited.is_err(), "passed on to a service that is not ready");
}

/// An inner service whose readiness fails.
#[derive(Clone)]
struct Broken;

impl Service<Request<Full<Bytes>>> for Broken {
    type Response = Response<Full<Bytes>>;
    type Error = &'static str;
    type Future = core::future::Ready<Result<Self::Response, &'static str>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), &'static str>> {
        Poll::Ready(Err("inner service is gone"))
    }

    fn call(&mut self, _request: Request<Full<Bytes>>) -> Self::Future {
        core::future::ready(Err("called after failing readiness"))
    }
}

#[tokio::test]
async fn the_inner_service_errors_are_its_own() {
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let request = Request::post("/webhooks")
        .header(signed.header_name(), signed.signature())
        .body(Full::new(Bytes::copy_from_slice(signed.body())))
        .expect("valid request");
    let outcome = WebhookLayer::new(config())
        .layer(Broken)
        .oneshot(request)
        .await;
    assert_eq!(outcome.err(), Some("inner service is gone"));
}

#[tokio::test]
async fn refusals_are_the_core_answer_logged_once_without_the_inner_service() {
    let signed = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let calls = Arc::new(AtomicUsize::new(0));
    let service = WebhookLayer::new(config().with_body_limit(4096)).layer(counting(&calls));
    let cases = [
        (None, signed.body().to_vec(), 401, "signature_missing"),
        (
            Some("0".repeat(64)),
            b"{}".to_vec(),
            401,
            "signature_mismatch",
        ),
        (
            Some(signed.signature().to_owned()),
            vec![b' '; 4097],
            413,
            "payload_too_large",
        ),
    ];
    for (signature, body, status, reason) in cases {
        let mut builder = Request::post("/webhooks");
        if let Some(signature) = signature {
            builder = builder.header("x-protocol-signature", signature);
        }
        let request = builder
            .body(Full::<Bytes>::from(body))
            .expect("valid request");
        let (response, lines) = capture(service.clone().oneshot(request)).await;
        let response = response.expect("infallible");
        assert_eq!(response.status(), status, "{reason}");
        let logged = answer_lines(&lines);
        assert!(
            matches!(logged[..], [line] if line.contains(&format!("reason=\"{reason}\" status={status}"))),
            "{reason}: {lines:?}"
        );
        if status == 413 {
            assert_eq!(response.headers()[CONNECTION], "close");
        }
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn a_rejection_responds_exactly_as_the_core_answer() {
    let answer = Answer::from(Rejection::IncompleteBody);
    let expected = answer.to_http();
    let rejection = WebhookRejection::from(answer);
    assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
    let response = rejection.into_response::<Full<Bytes>>();
    assert_eq!(response.status(), expected.status());
    assert_eq!(response.headers(), expected.headers());
    assert!(response.body().is_answer());
}
