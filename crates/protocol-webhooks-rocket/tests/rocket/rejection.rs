//! A handler taking `Result<_, WebhookRejection>` sees the rejection and
//! answers it as a `Responder`. The apps here register no catchers, so
//! every JSON answer comes from that responder.

use protocol_webhooks_conformance::capture;
use protocol_webhooks_rocket::protocol_webhooks::SignatureError;
use protocol_webhooks_rocket::{
    Answer, ClaimedWebhook, Deduplicator, Unclaimed, Webhook, WebhookRejection,
};
use rocket::State;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;

use crate::support::{
    DUPLICATE, LEASE, Runs, answer_lines, app, client, commit, config, deduplicator, post, runs,
    sample,
};

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

#[rocket::post("/once/own", data = "<claimed>")]
async fn on_once_or_rejection(
    claimed: Result<ClaimedWebhook, WebhookRejection>,
    runs: &State<Runs>,
) -> Result<String, WebhookRejection> {
    let claimed = claimed?;
    runs.start();
    Ok(commit(claimed).await)
}

async fn client_without_catchers() -> Client {
    let rocket = rocket::build().manage(config()).manage(deduplicator());
    client(app(
        rocket,
        rocket::routes![on_event_or_rejection, on_once_or_rejection],
    ))
    .await
}

#[rocket::async_test]
async fn a_result_guard_hands_the_rejection_to_the_handler() {
    let client = client_without_catchers().await;

    // Logged where the guard made it, not again when the handler returns it.
    let (unsigned, lines) = capture(client.post("/webhooks/own").body(b"{}").dispatch()).await;
    assert_eq!(answer_lines(lines).len(), 1);
    assert_eq!(unsigned.status(), Status::Unauthorized);
    assert_eq!(unsigned.content_type(), Some(ContentType::JSON));
    assert_eq!(
        unsigned.into_string().await,
        Some(Answer::from(SignatureError::Missing).body())
    );

    let signed = post(&client, "/webhooks/own", &sample()).await;
    assert_eq!(signed.status(), Status::Ok);
    assert_eq!(signed.into_string().await.as_deref(), Some("evt_sample"));
}

#[rocket::async_test]
async fn a_result_claim_guard_answers_busy_and_duplicate_itself() {
    let client = client_without_catchers().await;
    let request = sample();
    let deduplicator = client
        .rocket()
        .state::<Deduplicator>()
        .expect("managed")
        .clone();

    let held = deduplicator.claim_id("evt_sample").await.expect("claimed");
    let (busy, lines) = capture(post(&client, "/once/own", &request)).await;
    assert_eq!(answer_lines(lines).len(), 1);
    // The other delivery's lease has just begun: all of it is left.
    let expected = Answer::from(Unclaimed::InProgress {
        event_id: String::from("evt_sample"),
        retry_after: LEASE,
    });
    assert_eq!(busy.status(), Status::Conflict);
    assert_eq!(
        busy.headers().get_one("Retry-After"),
        expected
            .retry_after()
            .map(|seconds| seconds.to_string())
            .as_deref()
    );
    assert_eq!(busy.content_type(), Some(ContentType::JSON));
    assert_eq!(busy.into_string().await, Some(expected.body()));
    drop(held);

    assert_eq!(
        post(&client, "/once/own", &request).await.status(),
        Status::Ok
    );
    // Answered 200 by the responder, without the catchers' 409 detour.
    let (again, lines) = capture(post(&client, "/once/own", &request)).await;
    assert_eq!(answer_lines(lines).len(), 1);
    assert_eq!(again.status(), Status::Ok);
    assert_eq!(again.content_type(), Some(ContentType::JSON));
    assert_eq!(again.into_string().await.as_deref(), Some(DUPLICATE));
    assert_eq!(runs(&client), 1);
}
