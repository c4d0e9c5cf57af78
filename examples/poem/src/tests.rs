use poem::http::StatusCode;
use poem::test::TestClient;
use protocol_webhooks_poem::EventType;
use protocol_webhooks_poem::protocol_webhooks::testing::SignedRequest;
use serde_json::json;

use super::{DEFAULT_PORT, Deduplicator, app, settings};

const SECRET: &str = "whsec_example_test";

fn config() -> super::WebhookConfig {
    super::WebhookConfig::new(SECRET).expect("non-empty secret")
}

#[tokio::test]
async fn answers_each_event_with_its_summary() {
    for (event_type, resource_id) in [
        (EventType::ContactCreated, json!("WAz8eIbvDR60rouK")),
        (EventType::MessageUpdated, json!("SIuAFUNKdSYHZF2w")),
        (EventType::Unknown("invoice.paid".into()), json!("sample")),
    ] {
        // Every sample has the same id: a fresh app each, so none is a
        // redelivery of another.
        let client = TestClient::new(app(config(), Deduplicator::in_memory()));
        let request = SignedRequest::sample(SECRET, &event_type).expect("sample");
        let response = client
            .post("/webhooks")
            .header(request.header_name(), request.signature())
            .body(request.into_body())
            .send()
            .await;
        response.assert_status_is_ok();
        response
            .assert_json(json!({
                "id": "evt_sample",
                "type": event_type.as_str(),
                "resource_id": resource_id,
            }))
            .await;
    }
}

#[tokio::test]
async fn answers_a_redelivery_as_a_duplicate() {
    let client = TestClient::new(app(config(), Deduplicator::in_memory()));
    let request = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("sample");
    let deliver = || {
        client
            .post("/webhooks")
            .header(request.header_name(), request.signature())
            .body(request.body().to_vec())
            .send()
    };
    deliver().await.assert_status_is_ok();
    let again = deliver().await;
    again.assert_status_is_ok();
    again
        .assert_json(json!({
            "type": "duplicate",
            "message": "event evt_sample already processed",
        }))
        .await;
}

#[tokio::test]
async fn refuses_an_unsigned_event() {
    let request = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("sample");
    let response = TestClient::new(app(config(), Deduplicator::in_memory()))
        .post("/webhooks")
        .body(request.into_body())
        .send()
        .await;
    response.assert_status(StatusCode::UNAUTHORIZED);
}

#[test]
fn port_defaults_to_3000_and_must_be_a_port_number() {
    let secret = || Some(String::from(SECRET));
    assert_eq!(
        settings(secret(), None).map(|(_, port)| port),
        Ok(DEFAULT_PORT)
    );
    assert_eq!(
        settings(secret(), Some("8080".into())).map(|(_, port)| port),
        Ok(8080)
    );
    for bad in ["", "http", "65536", "-1"] {
        let error = settings(secret(), Some(bad.into())).expect_err(bad);
        assert!(error.starts_with("PORT must be a port number"), "{error}");
    }
}

#[test]
fn secret_must_be_set_and_non_empty() {
    for secret in [None, Some(String::new())] {
        let error = settings(secret, None).expect_err("no secret");
        assert!(error.contains("PROTOCOL_WEBHOOK_SECRET"), "{error}");
    }
}
