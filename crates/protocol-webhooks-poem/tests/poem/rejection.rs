//! `WebhookRejection` as Poem's error and response, and the extractor types'
//! own accessors.

use std::time::Duration;

use poem::error::ResponseError;
use poem::http::StatusCode;
use poem::http::header::{CONNECTION, RETRY_AFTER};
use poem::test::TestClient;
use poem::{EndpointExt, IntoResponse, Response, Route, handler, post};
use protocol_webhooks_conformance::capture;
use protocol_webhooks_poem::protocol_webhooks::dedup::StoreError;
use protocol_webhooks_poem::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_poem::protocol_webhooks::{ANSWER_CONTENT_TYPE, SignatureError};
use protocol_webhooks_poem::{
    Answer, ClaimedWebhook, Deduplicator, Event, EventType, Rejection, Unclaimed, Webhook,
    WebhookConfig, WebhookRejection,
};

const SECRET: &str = "whsec_rejection_test";

#[tokio::test]
async fn a_rejection_is_the_core_answer_as_a_poem_response() {
    let cases = [
        (
            Answer::from(Rejection::PayloadTooLarge { limit: 3 }),
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            Some("close"),
        ),
        (
            Answer::from(Rejection::IncompleteBody),
            StatusCode::BAD_REQUEST,
            None,
            Some("close"),
        ),
        (
            Answer::from(Rejection::Signature(SignatureError::Missing)),
            StatusCode::UNAUTHORIZED,
            None,
            None,
        ),
        (
            Answer::from(Rejection::MissingConfiguration {
                missing: "WebhookConfig",
            }),
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            None,
        ),
        (
            Answer::from(Unclaimed::Duplicate {
                event_id: "evt_done".into(),
            }),
            StatusCode::OK,
            None,
            None,
        ),
        (
            Answer::from(Unclaimed::InProgress {
                event_id: "evt_busy".into(),
                retry_after: Duration::from_millis(12_001),
            }),
            StatusCode::CONFLICT,
            Some("13"),
            None,
        ),
        (
            Answer::from(Unclaimed::StoreUnavailable {
                event_id: "evt_later".into(),
                error: StoreError::Unavailable(None),
            }),
            StatusCode::SERVICE_UNAVAILABLE,
            Some("5"),
            None,
        ),
    ];
    for (answer, status, retry_after, connection) in cases {
        let expected_body = answer.body();
        let rejection = WebhookRejection::from(answer);
        assert_eq!(ResponseError::status(&rejection), status);
        let response = rejection.into_response();
        assert_eq!(response.status(), status);
        assert_eq!(response.content_type(), Some(ANSWER_CONTENT_TYPE));
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|value| value.to_str().expect("ASCII"))
        };
        assert_eq!(header(RETRY_AFTER), retry_after, "{status}");
        assert_eq!(header(CONNECTION), connection, "{status}");
        assert_eq!(
            response.headers().len(),
            1 + usize::from(retry_after.is_some()) + usize::from(connection.is_some()),
            "{status}"
        );
        let body = response.into_body().into_string().await.expect("body");
        assert_eq!(body, expected_body);
    }
}

/// Answers a refusal itself, as a handler taking `poem::Result<Webhook>`
/// may: the extractor's error is a `poem::Error` around the rejection.
#[handler]
fn lenient(webhook: poem::Result<Webhook>) -> Response {
    match webhook {
        Ok(Webhook(event)) => event.id.into_response(),
        Err(error) => {
            let rejection = error
                .downcast_ref::<WebhookRejection>()
                .expect("the extractor fails with a WebhookRejection");
            Response::builder()
                .status(StatusCode::ACCEPTED)
                .body(rejection.answer().reason())
        }
    }
}

#[tokio::test]
async fn a_handler_taking_the_result_answers_itself_and_the_refusal_is_logged_once() {
    let app = Route::new()
        .at("/webhooks", post(lenient))
        .data(WebhookConfig::new(SECRET).expect("non-empty secret"));
    let client = TestClient::new(app);
    let send = |request: SignedRequest| {
        client
            .post("/webhooks")
            .header(request.header_name(), request.signature())
            .body(request.into_body())
            .send()
    };

    let forged =
        SignedRequest::sample("whsec_someone_else", &EventType::MessageCreated).expect("sample");
    let (response, lines) = capture(send(forged)).await;
    response.assert_status(StatusCode::ACCEPTED);
    response.assert_text("signature_mismatch").await;
    let refused: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("webhook refused"))
        .collect();
    assert!(
        matches!(refused[..], [line] if line.contains("status=401")),
        "{lines:?}"
    );

    let authentic = SignedRequest::sample(SECRET, &EventType::MessageCreated).expect("sample");
    let (response, lines) = capture(send(authentic)).await;
    response.assert_status_is_ok();
    response.assert_text("evt_sample").await;
    assert!(
        !lines.iter().any(|line| line.contains("webhook refused")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn the_extractor_types_hand_over_what_they_wrap() {
    let rejection = WebhookRejection::from(Rejection::Signature(SignatureError::Mismatch));
    assert_eq!(rejection.answer().reason(), "signature_mismatch");
    assert!(matches!(
        rejection.answer().rejection(),
        Some(Rejection::Signature(SignatureError::Mismatch))
    ));
    assert_eq!(
        rejection.to_string(),
        "x-protocol-signature does not match the request body"
    );
    let source = core::error::Error::source(&rejection).expect("the core rejection");
    assert_eq!(source.to_string(), rejection.to_string());
    assert_eq!(rejection.into_inner().status(), 401);

    let request = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("sample");
    let event = Event::from_slice(request.body()).expect("valid event");
    let webhook = Webhook(event.clone());
    assert_eq!(webhook.id, "evt_sample");
    assert_eq!(webhook.into_inner(), event);

    let dedup = Deduplicator::in_memory();
    let claimed = ClaimedWebhook(dedup.claim(event).await.expect("claimed"));
    assert_eq!(claimed.guard().event_id(), "evt_sample");
    assert_eq!(claimed.event_type, EventType::ContactCreated);
    claimed.into_inner().commit().await.expect("committed");
    let again = dedup.claim_id("evt_sample").await.expect_err("done");
    assert_eq!(again.status(), 200);
}
