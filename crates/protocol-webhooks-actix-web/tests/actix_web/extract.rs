//! `Webhook` and `RawWebhook` in an actix-web app: where the configuration
//! is found, how the payload stream is read, and a handler that takes the
//! refusal itself.

extern crate alloc;

use alloc::rc::Rc;
use core::cell::Cell;

use actix_http::BoxedPayloadStream;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;
use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, test, web};
use futures_util::stream;
use protocol_webhooks_actix_web::protocol_webhooks::SignatureError;
use protocol_webhooks_actix_web::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_actix_web::{Answer, RawWebhook, Rejection, Webhook, WebhookRejection};
use protocol_webhooks_conformance::capture;

use super::{SECRET, answer, answer_lines, config, signed_head, signed_post};

async fn on_event(Webhook(event): Webhook) -> HttpResponse {
    HttpResponse::Ok().body(event.id)
}

async fn on_raw(RawWebhook(body): RawWebhook) -> HttpResponse {
    HttpResponse::Ok().body(body.into_bytes())
}

#[actix_web::test]
async fn configuration_may_be_registered_as_web_data() {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(config()))
            .route("/webhooks", web::post().to(on_event)),
    )
    .await;
    let (status, body) = answer(&app, signed_post("/webhooks")).await;
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
    let (status, _) = answer(&app, signed_post("/small/webhooks")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// The extractors read actix-web's raw payload stream, so the webhook
/// limit governs the body, not `PayloadConfig`, in either direction.
#[actix_web::test]
async fn the_webhook_limit_applies_to_the_payload_stream_not_payload_config() {
    const CHUNK: usize = 4096;
    const LIMIT: usize = 10 * CHUNK;
    let app = test::init_service(
        App::new()
            .app_data(config().with_body_limit(LIMIT))
            .app_data(web::PayloadConfig::new(16))
            .route("/webhooks", web::post().to(on_event))
            .route("/webhooks/raw", web::post().to(on_raw)),
    )
    .await;
    let (status, _) = answer(&app, signed_post("/webhooks")).await;
    assert_eq!(status, StatusCode::OK);

    let polled = Rc::new(Cell::new(0_usize));
    let counter = Rc::clone(&polled);
    let endless: BoxedPayloadStream = Box::pin(stream::repeat_with(move || {
        counter.set(counter.get() + 1);
        Ok(Bytes::from_static(&[b' '; CHUNK]))
    }));
    let (request, _) = signed_head("/webhooks/raw");
    let (request, _) = request.to_request().replace_payload(Payload::from(endless));
    let (status, _) = answer(&app, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(polled.get(), LIMIT / CHUNK + 1);
}

/// actix-web only gives a header value as text when it is visible ASCII:
/// the raw bytes must reach the core, or the value would pass for missing.
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
    let (_, body) = signed_head("/webhooks");
    let request = test::TestRequest::post()
        .uri("/webhooks")
        .insert_header((
            "x-protocol-signature",
            HeaderValue::from_bytes(&value).expect("obs-text is a valid header value"),
        ))
        .set_payload(body)
        .to_request();
    let (status, body) = answer(&app, request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, Answer::from(SignatureError::Malformed).body());
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
    let (request, _) = signed_head("/webhooks");
    let tampered = request.set_payload("{}").to_request();
    let invalid = SignedRequest::new(SECRET, "not an event").expect("secret");
    let invalid = test::TestRequest::post()
        .uri("/webhooks")
        .insert_header((invalid.header_name(), invalid.signature()))
        .set_payload(invalid.into_body())
        .to_request();

    for (request, status, reply, logged) in [
        (unsigned, StatusCode::FORBIDDEN, "unsigned", "status=401"),
        (tampered, StatusCode::FORBIDDEN, "unsigned", "status=401"),
        (
            invalid,
            StatusCode::BAD_REQUEST,
            "invalid_event",
            "status=400",
        ),
    ] {
        let ((got, body), lines) = capture(answer(&app, request)).await;
        assert_eq!((got, body.as_str()), (status, reply));
        // The extractor logs the refusal where it is made, so a handler
        // replying by itself does not lose the line, nor need to write it.
        let answers = answer_lines(&lines);
        assert!(
            matches!(answers.as_slice(), [line] if line.contains(logged)),
            "{lines:?}"
        );
    }
}
