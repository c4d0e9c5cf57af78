//! What only this adapter decides: where the configuration comes from, how
//! the payload stream is read, and how a failure can be inspected.

extern crate alloc;

use alloc::rc::Rc;
use core::cell::Cell;

use actix_http::BoxedPayloadStream;
use actix_web::dev::{Payload, Service, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, test, web};
use futures_util::stream;
use protocol_webhooks_actix_web::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_actix_web::{
    EventType, RawWebhook, Rejection, Webhook, WebhookConfig, WebhookRejection,
};

const SECRET: &str = "whsec_extractor_test";

fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET).expect("non-empty secret")
}

async fn on_event(Webhook(event): Webhook) -> HttpResponse {
    HttpResponse::Ok().body(event.id)
}

async fn on_raw(RawWebhook(body): RawWebhook) -> HttpResponse {
    HttpResponse::Ok().body(body.into_bytes())
}

fn signed_post(path: &str) -> (test::TestRequest, SignedRequest) {
    let signed = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("secret");
    let request = test::TestRequest::post()
        .uri(path)
        .insert_header((signed.header_name(), signed.signature()));
    (request, signed)
}

async fn answer<S>(app: &S, request: actix_http::Request) -> (StatusCode, Option<String>, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let response = test::call_service(app, request).await;
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = test::read_body(response).await;
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// A request whose body is the given stream, with no `Content-Length`.
fn streamed(
    request: test::TestRequest,
    chunks: impl futures_util::Stream<Item = Result<Bytes, PayloadError>> + 'static,
) -> actix_http::Request {
    let chunks: BoxedPayloadStream = Box::pin(chunks);
    let (request, _) = request.to_request().replace_payload(Payload::from(chunks));
    request
}

#[actix_web::test]
async fn missing_configuration_is_a_500_with_the_json_shape() {
    let app = test::init_service(App::new().route("/webhooks", web::post().to(on_event))).await;
    let (request, signed) = signed_post("/webhooks");
    let request = request.set_payload(signed.into_body()).to_request();
    let (status, content_type, body) = answer(&app, request).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert_eq!(
        body,
        r#"{"type":"api_error","message":"webhook configuration is missing"}"#
    );
}

#[actix_web::test]
async fn configuration_may_be_registered_as_web_data() {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(config()))
            .route("/webhooks", web::post().to(on_event)),
    )
    .await;
    let (request, signed) = signed_post("/webhooks");
    let request = request.set_payload(signed.into_body()).to_request();
    let (status, _, body) = answer(&app, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "evt_sample");
}

#[actix_web::test]
async fn scope_configuration_takes_precedence_over_the_app_one() {
    let app = test::init_service(
        App::new().app_data(config()).service(
            web::scope("/small")
                .app_data(config().with_body_limit(16))
                .route("/webhooks", web::post().to(on_event)),
        ),
    )
    .await;
    let (request, signed) = signed_post("/small/webhooks");
    let request = request.set_payload(signed.into_body()).to_request();
    let (status, content_type, body) = answer(&app, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert_eq!(
        body,
        r#"{"type":"invalid_request","message":"request body is larger than the limit of 16 bytes"}"#
    );
}

#[actix_web::test]
async fn declared_length_over_the_limit_is_refused_without_reading() {
    let app = test::init_service(
        App::new()
            .app_data(config().with_body_limit(1024))
            .route("/webhooks", web::post().to(on_event)),
    )
    .await;
    let polled = Rc::new(Cell::new(0_usize));
    let counter = Rc::clone(&polled);
    let body = stream::repeat_with(move || {
        counter.set(counter.get() + 1);
        Ok(Bytes::from_static(b"x"))
    });
    let (request, _) = signed_post("/webhooks");
    let request = streamed(request.insert_header((CONTENT_LENGTH, 1025)), body);
    let (status, _, _) = answer(&app, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        polled.get(),
        0,
        "no chunk may be read once the declared length is too large"
    );
}

#[actix_web::test]
async fn endless_stream_is_refused_as_soon_as_it_passes_the_limit() {
    const CHUNK: usize = 4096;
    const LIMIT: usize = 10 * CHUNK;
    let app = test::init_service(
        App::new()
            .app_data(config().with_body_limit(LIMIT))
            .route("/webhooks/raw", web::post().to(on_raw)),
    )
    .await;
    let polled = Rc::new(Cell::new(0_usize));
    let counter = Rc::clone(&polled);
    let body = stream::repeat_with(move || {
        counter.set(counter.get() + 1);
        Ok(Bytes::from_static(&[b' '; CHUNK]))
    });
    let (request, _) = signed_post("/webhooks/raw");
    let (status, _, _) = answer(&app, streamed(request, body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(polled.get(), LIMIT / CHUNK + 1);
}

#[actix_web::test]
async fn body_stream_error_is_an_incomplete_body() {
    let app = test::init_service(
        App::new()
            .app_data(config())
            .route("/webhooks", web::post().to(on_event)),
    )
    .await;
    let (request, signed) = signed_post("/webhooks");
    let first = Bytes::copy_from_slice(&signed.body()[..10]);
    let body = stream::iter([Ok(first), Err(PayloadError::Incomplete(None))]);
    let (status, content_type, body) = answer(&app, streamed(request, body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert_eq!(
        body,
        r#"{"type":"invalid_request","message":"request body could not be read in full"}"#
    );
}

#[actix_web::test]
async fn signature_that_is_not_ascii_is_malformed_not_missing() {
    let app = test::init_service(
        App::new()
            .app_data(config())
            .route("/webhooks", web::post().to(on_event)),
    )
    .await;
    let mut value = [b'a'; 64];
    value[10] = 0xE9;
    let signed = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("secret");
    let request = test::TestRequest::post()
        .uri("/webhooks")
        .insert_header((
            "x-protocol-signature",
            HeaderValue::from_bytes(&value).expect("obs-text is a valid header value"),
        ))
        .set_payload(signed.into_body())
        .to_request();
    let (status, _, body) = answer(&app, request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("malformed"), "{body}");
}

/// A handler that answers refusals itself still sees the typed reason.
async fn on_event_or_reason(event: Result<Webhook, actix_web::Error>) -> HttpResponse {
    match event {
        Ok(Webhook(event)) => HttpResponse::Ok().body(event.id),
        Err(error) => match error
            .as_error::<WebhookRejection>()
            .map(WebhookRejection::answer)
        {
            Some(answer) => match answer.rejection() {
                Some(Rejection::Signature(_)) => HttpResponse::Forbidden().body("unsigned"),
                _ => HttpResponse::BadRequest().body(answer.reason()),
            },
            None => HttpResponse::InternalServerError().finish(),
        },
    }
}

#[actix_web::test]
async fn failure_can_be_inspected_as_a_webhook_rejection() {
    let app = test::init_service(
        App::new()
            .app_data(config())
            .route("/webhooks", web::post().to(on_event_or_reason)),
    )
    .await;
    let unsigned = test::TestRequest::post()
        .uri("/webhooks")
        .set_payload("{}")
        .to_request();
    let (status, _, body) = answer(&app, unsigned).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, "unsigned");

    let (request, _) = signed_post("/webhooks");
    let tampered = request.set_payload("{}").to_request();
    let (status, _, body) = answer(&app, tampered).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, "unsigned");

    let invalid = SignedRequest::new(SECRET, "not an event").expect("secret");
    let request = test::TestRequest::post()
        .uri("/webhooks")
        .insert_header((invalid.header_name(), invalid.signature()))
        .set_payload(invalid.into_body())
        .to_request();
    let (status, _, body) = answer(&app, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, "invalid_event");
}
