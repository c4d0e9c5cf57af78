//! The guards find their configuration and de-duplicator in Rocket's
//! managed state, put there by the fairing or by hand.

use protocol_webhooks_conformance::capture;
use protocol_webhooks_rocket::protocol_webhooks::Rejection;
use protocol_webhooks_rocket::{Answer, WebhookFairing, catchers};
use rocket::error::ErrorKind;
use rocket::http::Status;
use rocket::{Build, Rocket};

use crate::support::{
    DUPLICATE, answer_lines, app, client, config, deduplicator, post, runs, sample,
};

fn missing(missing: &'static str) -> String {
    Answer::from(Rejection::MissingConfiguration { missing }).body()
}

#[rocket::async_test]
async fn state_managed_by_hand_serves_every_guard() {
    let rocket = rocket::build()
        .manage(config())
        .manage(deduplicator())
        .register("/", catchers());
    let client = client(app(rocket, rocket::routes![])).await;
    let request = sample();

    assert_eq!(
        post(&client, "/webhooks", &request).await.status(),
        Status::Ok
    );
    assert_eq!(post(&client, "/once", &request).await.status(), Status::Ok);
    let again = post(&client, "/once", &request).await;
    assert_eq!(again.status(), Status::Ok);
    assert_eq!(again.into_string().await.as_deref(), Some(DUPLICATE));
    assert_eq!(runs(&client), 1);
}

/// The server, not the request, is wrong: the answer does not wait for the
/// body, and the log names what to manage.
#[rocket::async_test]
async fn a_missing_deduplicator_is_refused_before_the_body_is_read() {
    let rocket = rocket::build().attach(WebhookFairing::new(config()));
    let client = client(app(rocket, rocket::routes![])).await;
    let request = sample();

    for (response, lines) in [
        capture(post(&client, "/once", &request)).await,
        capture(client.post("/once").body(b"{}").dispatch()).await,
    ] {
        let lines = answer_lines(lines);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains(r#"missing="Deduplicator""#), "{lines:?}");
        assert_eq!(response.status(), Status::InternalServerError);
        assert_eq!(response.into_string().await, Some(missing("Deduplicator")));
    }
    assert_eq!(runs(&client), 0);
    // The other guards need no de-duplicator.
    assert_eq!(
        post(&client, "/webhooks", &request).await.status(),
        Status::Ok
    );
}

#[rocket::async_test]
async fn a_missing_configuration_is_named_in_the_log() {
    let client = client(app(
        rocket::build().register("/", catchers()),
        rocket::routes![],
    ))
    .await;
    let (response, lines) = capture(post(&client, "/webhooks", &sample())).await;
    let lines = answer_lines(lines);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(r#"missing="WebhookConfig""#), "{lines:?}");
    assert_eq!(response.status(), Status::InternalServerError);
    assert_eq!(response.into_string().await, Some(missing("WebhookConfig")));
}

/// Rocket panics when a type is managed twice; the fairing fails the
/// launch instead.
#[rocket::async_test]
async fn the_fairing_refuses_state_already_managed() {
    let twice: [Rocket<Build>; 2] = [
        rocket::build()
            .manage(config())
            .attach(WebhookFairing::new(config())),
        rocket::build()
            .manage(deduplicator())
            .attach(WebhookFairing::new(config()).with_deduplicator(deduplicator())),
    ];
    for rocket in twice {
        let Err(error) = app(rocket, rocket::routes![]).ignite().await else {
            panic!("state managed twice must stop the launch");
        };
        // Inspecting the kind marks the error handled; Rocket panics on
        // dropping an unhandled one.
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
}
