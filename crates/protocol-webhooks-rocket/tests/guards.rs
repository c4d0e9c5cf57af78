//! Rocket-specific behaviour of the guards, catchers and fairing.

use protocol_webhooks_rocket::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_rocket::{
    EventType, RawWebhook, Webhook, WebhookConfig, WebhookFairing, WebhookRejection,
};
use rocket::error::ErrorKind;
use rocket::http::{Accept, ContentType, Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::{Build, Rocket};

const SECRET: &str = "whsec_guard_test";

#[rocket::post("/webhooks", data = "<webhook>")]
fn on_event(webhook: Webhook) -> String {
    webhook.into_inner().id
}

#[rocket::post("/webhooks/raw", data = "<webhook>")]
fn on_raw(webhook: RawWebhook) -> Vec<u8> {
    webhook.into_inner().into_bytes()
}

/// Handles the rejection itself instead of leaving it to the catchers.
#[rocket::post("/webhooks/own", data = "<webhook>")]
fn on_event_or_rejection(
    webhook: Result<Webhook, WebhookRejection>,
) -> Result<String, WebhookRejection> {
    match webhook {
        Ok(Webhook(event)) => Ok(event.id),
        Err(rejection) => {
            assert_eq!(rejection.answer().reason(), "signature_missing");
            Err(rejection)
        }
    }
}

#[rocket::get("/private")]
fn private() -> Status {
    Status::Unauthorized
}

fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET).expect("non-empty secret")
}

fn routes(rocket: Rocket<Build>) -> Rocket<Build> {
    rocket.mount(
        "/",
        rocket::routes![on_event, on_raw, on_event_or_rejection, private],
    )
}

fn client(rocket: Rocket<Build>) -> Client {
    Client::untracked(routes(rocket)).expect("the app ignites")
}

fn post<'c>(client: &'c Client, path: &'static str, signed: &SignedRequest) -> LocalResponse<'c> {
    client
        .post(path)
        .header(Header::new(
            signed.header_name(),
            signed.signature().to_owned(),
        ))
        .body(signed.body())
        .dispatch()
}

fn assert_json_rejection(response: LocalResponse<'_>, status: Status, message: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers().get_one("Content-Type"),
        Some("application/json")
    );
    let body: serde_json::Value =
        serde_json::from_str(&response.into_string().expect("a body")).expect("JSON");
    assert_eq!(body["type"], "invalid_request");
    let got = body["message"].as_str().expect("a message");
    assert!(got.contains(message), "message {got:?} lacks {message:?}");
}

#[test]
fn missing_configuration_is_the_cores_json_500() {
    let client = client(rocket::build().register("/", protocol_webhooks_rocket::catchers()));
    let signed = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("signed");
    for path in ["/webhooks", "/webhooks/raw"] {
        let response = post(&client, path, &signed);
        assert_eq!(response.status(), Status::InternalServerError);
        assert_eq!(
            response.headers().get_one("Content-Type"),
            Some("application/json")
        );
        assert_eq!(
            response.into_string().as_deref(),
            Some(r#"{"type":"api_error","message":"webhook configuration is missing"}"#)
        );
    }
}

#[test]
fn other_errors_keep_rockets_default_catcher() {
    let client = client(rocket::build().attach(WebhookFairing::new(config())));
    let response = client.get("/private").header(Accept::HTML).dispatch();
    assert_eq!(response.status(), Status::Unauthorized);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
    assert!(
        response
            .into_string()
            .expect("a body")
            .contains("401: Unauthorized")
    );
}

#[test]
fn a_result_guard_hands_the_rejection_to_the_handler() {
    let client = client(rocket::build().attach(WebhookFairing::new(config())));
    let response = client.post("/webhooks/own").body(b"{}").dispatch();
    assert_json_rejection(
        response,
        Status::Unauthorized,
        "missing x-protocol-signature",
    );

    let signed = SignedRequest::sample(SECRET, &EventType::GroupCreated).expect("signed");
    let response = post(&client, "/webhooks/own", &signed);
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().as_deref(), Some("evt_sample"));
}

#[test]
fn the_configured_body_limit_holds_with_and_without_content_length() {
    let limit = 200;
    let client =
        client(rocket::build().attach(WebhookFairing::new(config().with_body_limit(limit))));
    let mut body = br#"{"id":"evt_small","type":"ping"}"#.to_vec();
    body.resize(limit, b' ');
    let at_limit = SignedRequest::new(SECRET, body.clone()).expect("signed");
    body.push(b' ');
    let over = SignedRequest::new(SECRET, body).expect("signed");

    let response = post(&client, "/webhooks", &at_limit);
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().as_deref(), Some("evt_small"));

    // Without Content-Length the limit is found while reading.
    assert_json_rejection(
        post(&client, "/webhooks/raw", &over),
        Status::PayloadTooLarge,
        "limit of 200 bytes",
    );

    let declared = client
        .post("/webhooks")
        .header(Header::new(over.header_name(), over.signature().to_owned()))
        .header(Header::new("Content-Length", over.body().len().to_string()))
        .body(over.body())
        .dispatch();
    assert_json_rejection(declared, Status::PayloadTooLarge, "limit of 200 bytes");
}

#[test]
fn a_content_length_that_does_not_match_the_body_is_incomplete() {
    let client = client(rocket::build().attach(WebhookFairing::new(config())));
    let signed = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("signed");
    let response = client
        .post("/webhooks")
        .header(Header::new(
            signed.header_name(),
            signed.signature().to_owned(),
        ))
        .header(Header::new(
            "Content-Length",
            (signed.body().len() + 10).to_string(),
        ))
        .body(signed.body())
        .dispatch();
    assert_json_rejection(response, Status::BadRequest, "could not be read in full");
}

#[rocket::async_test]
async fn the_fairing_refuses_a_second_configuration() {
    let rocket = routes(
        rocket::build()
            .manage(config())
            .attach(WebhookFairing::new(config())),
    );
    let Err(error) = rocket.ignite().await else {
        panic!("a second WebhookConfig must stop the launch");
    };
    // Inspecting the kind marks the error handled; Rocket panics on dropping an unhandled one.
    match error.kind() {
        ErrorKind::FailedFairings(failed) => {
            assert_eq!(
                failed.iter().map(|info| info.name).collect::<Vec<_>>(),
                ["Protocol webhooks"]
            );
        }
        other => panic!("unexpected launch error {other:?}"),
    }
}
