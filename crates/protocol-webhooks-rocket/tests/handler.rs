//! Testing a user's handler without a network, as the README shows.

use protocol_webhooks_rocket::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_rocket::{EventType, Payload, Webhook, WebhookConfig, catchers};
use rocket::http::{Header, Status};
use rocket::local::blocking::Client;
use rocket::{Build, Rocket};

const SECRET: &str = "whsec_handler_test";

/// A handler as an application would write it.
#[rocket::post("/webhooks", data = "<webhook>")]
fn on_webhook(webhook: Webhook) -> String {
    let Webhook(event) = webhook;
    match event.payload {
        Payload::Message(message) => format!(
            "message {} in {}",
            message.id,
            message
                .conversation_id
                .as_deref()
                .unwrap_or("an unknown conversation")
        ),
        Payload::Contact(contact) => format!("contact {}", contact.id),
        _ => String::from("ignored"),
    }
}

fn app() -> Rocket<Build> {
    let config = WebhookConfig::new(SECRET).expect("non-empty secret");
    rocket::build()
        .manage(config)
        .register("/", catchers())
        .mount("/", rocket::routes![on_webhook])
}

fn client() -> Client {
    Client::untracked(app()).expect("the app ignites")
}

#[test]
fn handler_sees_the_signed_message() {
    let request = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("signed sample");
    let client = client();
    let response = client
        .post("/webhooks")
        .header(Header::new(
            request.header_name(),
            request.signature().to_owned(),
        ))
        .body(request.body())
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    // The ids of Protocol's documented example message.
    assert_eq!(
        response.into_string().as_deref(),
        Some("message SIuAFUNKdSYHZF2w in xgQQXg3hrtjh7AvZ")
    );
}

#[test]
fn handler_does_not_run_for_a_forged_request() {
    let request = SignedRequest::sample("whsec_someone_else", &EventType::ContactCreated)
        .expect("signed sample");
    let client = client();
    let response = client
        .post("/webhooks")
        .header(Header::new(
            request.header_name(),
            request.signature().to_owned(),
        ))
        .body(request.body())
        .dispatch();
    assert_eq!(response.status(), Status::Unauthorized);
    assert_eq!(
        response.headers().get_one("Content-Type"),
        Some("application/json")
    );
    assert_eq!(
        response.into_string().as_deref(),
        Some(
            r#"{"type":"invalid_request","message":"x-protocol-signature does not match the request body"}"#
        )
    );
}
