//! Testing a user's handler in-process, as the README shows.

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, test, web};
use protocol_webhooks_actix_web::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_actix_web::{EventType, Payload, Webhook, WebhookConfig};

const SECRET: &str = "whsec_handler_test";

/// A handler as a user writes it: one answer per resource.
async fn on_webhook(Webhook(event): Webhook) -> HttpResponse {
    let answer = match &event.payload {
        Payload::Message(message) => format!(
            "message {} says {}",
            message.id,
            message.message.as_deref().unwrap_or_default()
        ),
        Payload::Contact(contact) => format!("contact {}", contact.id),
        other => format!("other {:?}", other.id()),
    };
    HttpResponse::Ok().body(answer)
}

async fn send(request: &SignedRequest, signature: &str) -> (StatusCode, String) {
    let app = test::init_service(
        App::new()
            .app_data(WebhookConfig::new(SECRET).expect("non-empty secret"))
            .route("/webhooks", web::post().to(on_webhook)),
    )
    .await;
    let http_request = test::TestRequest::post()
        .uri("/webhooks")
        .insert_header((request.header_name(), signature))
        .set_payload(request.body().to_vec())
        .to_request();
    let response = test::call_service(&app, http_request).await;
    let status = response.status();
    let body = test::read_body(response).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[actix_web::test]
async fn handler_receives_the_signed_sample_message() {
    let request = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("secret");
    let (status, body) = send(&request, request.signature()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        "message SIuAFUNKdSYHZF2w says I’m traveling with my dad. He’s at a meeting. I hate meetings."
    );
}

#[actix_web::test]
async fn handler_receives_a_contact_event() {
    let request = SignedRequest::sample(SECRET, &EventType::ContactUpdated).expect("secret");
    let (status, body) = send(&request, request.signature()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with("contact "), "{body}");
}

#[actix_web::test]
async fn handler_does_not_run_for_another_secret() {
    let request =
        SignedRequest::sample("whsec_someone_else", &EventType::MessageCreated).expect("secret");
    let (status, body) = send(&request, request.signature()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        r#"{"type":"invalid_request","message":"x-protocol-signature does not match the request body"}"#
    );
}
