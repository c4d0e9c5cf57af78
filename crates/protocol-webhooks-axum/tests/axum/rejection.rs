//! `WebhookRejection` in axum: what a handler taking
//! `Result<Webhook, WebhookRejection>` gets, and the response the
//! rejection becomes through axum's `IntoResponse`.

use core::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use protocol_webhooks_axum::protocol_webhooks::SignatureError;
use protocol_webhooks_axum::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_axum::{
    Answer, EventType, Rejection, Unclaimed, Webhook, WebhookConfig, WebhookRejection,
};
use protocol_webhooks_conformance::capture;
use tower::ServiceExt as _;

const SECRET: &str = "whsec_axum_rejection";

/// Answers refusals itself, with the reason as the body.
async fn lenient(outcome: Result<Webhook, WebhookRejection>) -> (StatusCode, String) {
    match outcome {
        Ok(Webhook(event)) => (StatusCode::OK, event.id),
        Err(rejection) => (rejection.status(), rejection.answer().reason().to_owned()),
    }
}

async fn send(request: Request<Body>) -> ((StatusCode, String), Vec<String>) {
    let app = Router::new()
        .route("/webhooks", post(lenient))
        .with_state(WebhookConfig::new(SECRET).expect("non-empty secret"));
    let (response, lines) = capture(app.oneshot(request)).await;
    let response = response.expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("in-memory body");
    let body = String::from_utf8(body.to_vec()).expect("UTF-8 body");
    let answers = lines
        .into_iter()
        .filter(|line| line.contains(" protocol_webhooks::answer: "))
        .collect();
    ((status, body), answers)
}

/// The extractor logs the refusal where it makes it, so a handler that
/// answers by itself neither loses the line nor has to write it.
#[tokio::test]
async fn a_handler_may_take_the_rejection_and_answer_itself() {
    let signed = SignedRequest::sample(SECRET, &EventType::GroupCreated).expect("sample");
    let unsigned = Request::post("/webhooks")
        .body(Body::from(signed.body().to_vec()))
        .expect("valid request");
    let valid = Request::post("/webhooks")
        .header(signed.header_name(), signed.signature())
        .body(Body::from(signed.body().to_vec()))
        .expect("valid request");

    let (answer, logged) = send(unsigned).await;
    assert_eq!(
        answer,
        (StatusCode::UNAUTHORIZED, "signature_missing".to_owned())
    );
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(
        logged[0].contains("reason=\"signature_missing\""),
        "{logged:?}"
    );

    let (answer, logged) = send(valid).await;
    assert_eq!(answer, (StatusCode::OK, "evt_sample".to_owned()));
    assert_eq!(logged, Vec::<String>::new());
}

/// Between them these answers carry every header the core can give.
#[tokio::test]
async fn as_a_response_it_is_the_core_answer_with_all_its_headers() {
    let answers = [
        Answer::from(SignatureError::Mismatch),
        Answer::from(Rejection::PayloadTooLarge { limit: 10 }),
        Answer::from(Rejection::MethodNotAllowed),
        Answer::from(Unclaimed::Duplicate {
            event_id: "evt_1".to_owned(),
        }),
        Answer::from(Unclaimed::InProgress {
            event_id: "evt_1".to_owned(),
            retry_after: Duration::from_millis(2001),
        }),
    ];
    for answer in answers {
        let (status, body) = (answer.status(), answer.body());
        let mut headers: Vec<(String, String)> = answer
            .headers()
            .map(|(name, value)| (name.to_owned(), value.into_owned()))
            .collect();
        headers.sort();
        let rejection = WebhookRejection::from(answer);
        assert_eq!(rejection.status().as_u16(), status);

        let response = rejection.into_response();
        assert_eq!(response.status().as_u16(), status);
        let mut got: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = value.to_str().expect("ASCII header");
                (name.as_str().to_owned(), value.to_owned())
            })
            .collect();
        got.sort();
        assert_eq!(got, headers, "{body}");
        let got = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("in-memory body");
        assert_eq!(got, body.as_bytes());
    }
}

#[test]
fn the_rejection_is_a_transparent_error() {
    use core::error::Error as _;

    let rejection = WebhookRejection::from(Rejection::Signature(SignatureError::Malformed));
    let source = rejection
        .source()
        .expect("the signature error is the cause");
    assert_eq!(source.to_string(), SignatureError::Malformed.to_string());
    assert_eq!(
        rejection.to_string(),
        rejection.answer().to_string(),
        "Display is the answer's"
    );
    assert!(matches!(
        rejection.into_inner().rejection(),
        Some(Rejection::Signature(SignatureError::Malformed))
    ));
}
