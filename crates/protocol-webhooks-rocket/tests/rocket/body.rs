//! The guards read the body themselves, through Rocket's data stream
//! opened at the webhook limit.

use protocol_webhooks_rocket::protocol_webhooks::Rejection;
use protocol_webhooks_rocket::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_rocket::{Answer, WebhookFairing};
use rocket::http::{Header, Status};

use crate::support::{SECRET, app, client, config, post, sample, signed};

/// The suite runs the default limit only; a configured one must reach the
/// stream too.
#[rocket::async_test]
async fn the_configured_body_limit_holds_with_and_without_content_length() {
    let limit = 200;
    let rocket = rocket::build().attach(WebhookFairing::new(config().with_body_limit(limit)));
    let client = client(app(rocket, rocket::routes![])).await;
    let mut body = br#"{"id":"evt_small","type":"ping"}"#.to_vec();
    body.resize(limit, b' ');
    let at_limit = SignedRequest::new(SECRET, body.clone()).expect("signed");
    body.push(b' ');
    let over = SignedRequest::new(SECRET, body).expect("signed");
    let too_large = Answer::from(Rejection::PayloadTooLarge { limit }).body();

    let response = post(&client, "/webhooks", &at_limit).await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().await.as_deref(), Some("evt_small"));

    // Rocket's local client sends no Content-Length: the limit is found
    // while reading.
    let streamed = post(&client, "/webhooks", &over).await;
    assert_eq!(streamed.status(), Status::PayloadTooLarge);
    assert_eq!(streamed.into_string().await, Some(too_large.clone()));

    let declared = signed(&client, "/webhooks", &over)
        .header(Header::new("Content-Length", over.body().len().to_string()))
        .dispatch()
        .await;
    assert_eq!(declared.status(), Status::PayloadTooLarge);
    assert_eq!(declared.into_string().await, Some(too_large));
}

/// Rocket hides a read error met while it peeks at the body before
/// routing: a body shorter than declared is how it shows.
#[rocket::async_test]
async fn a_content_length_that_does_not_match_the_body_is_incomplete() {
    let client = client(app(
        rocket::build().attach(WebhookFairing::new(config())),
        rocket::routes![],
    ))
    .await;
    let request = sample();
    let response = signed(&client, "/webhooks", &request)
        .header(Header::new(
            "Content-Length",
            (request.body().len() + 10).to_string(),
        ))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::BadRequest);
    assert_eq!(
        response.into_string().await,
        Some(Answer::from(Rejection::IncompleteBody).body())
    );
}
