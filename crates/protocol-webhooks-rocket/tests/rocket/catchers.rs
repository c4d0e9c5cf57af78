//! Rocket answers a failed guard with the catcher registered for its
//! status: the webhook catchers send the guard's JSON answer whatever the
//! client accepts, and leave every other error to Rocket's default catcher.

use protocol_webhooks_rocket::protocol_webhooks::SignatureError;
use protocol_webhooks_rocket::{Answer, WebhookFairing};
use rocket::http::{Accept, ContentType, Status};

use crate::support::{DUPLICATE, app, client, config, deduplicator, post, runs, sample, signed};

#[rocket::get("/private")]
fn private() -> Status {
    Status::Unauthorized
}

/// Rocket's default catcher would answer such a client with HTML.
#[rocket::async_test]
async fn a_guards_answer_is_json_even_to_a_client_asking_for_html() {
    let fairing = WebhookFairing::new(config()).with_deduplicator(deduplicator());
    let client = client(app(rocket::build().attach(fairing), rocket::routes![])).await;
    let request = sample();

    let unsigned = client
        .post("/webhooks")
        .header(Accept::HTML)
        .body(request.body())
        .dispatch()
        .await;
    assert_eq!(unsigned.status(), Status::Unauthorized);
    assert_eq!(unsigned.content_type(), Some(ContentType::JSON));
    assert_eq!(
        unsigned.into_string().await,
        Some(Answer::from(SignatureError::Missing).body())
    );

    assert_eq!(post(&client, "/once", &request).await.status(), Status::Ok);
    // A duplicate's 200 goes through the 409 catcher.
    let again = signed(&client, "/once", &request)
        .header(Accept::HTML)
        .dispatch()
        .await;
    assert_eq!(again.status(), Status::Ok);
    assert_eq!(again.content_type(), Some(ContentType::JSON));
    assert_eq!(again.into_string().await.as_deref(), Some(DUPLICATE));
    assert_eq!(runs(&client), 1);
}

#[rocket::async_test]
async fn other_errors_keep_rockets_default_catcher() {
    let rocket = rocket::build().attach(WebhookFairing::new(config()));
    let client = client(app(rocket, rocket::routes![private])).await;
    let response = client.get("/private").header(Accept::HTML).dispatch().await;
    assert_eq!(response.status(), Status::Unauthorized);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
    assert!(
        response
            .into_string()
            .await
            .expect("a body")
            .contains("401: Unauthorized")
    );
}
