//! `ClaimedWebhook` in an actix-web app: its two registrations, each looked
//! up on its own, and a handler that takes the refusal itself.

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, test, web};
use protocol_webhooks_actix_web::{ClaimedWebhook, Deduplicator, Unclaimed, WebhookRejection};
use protocol_webhooks_conformance::capture;

use super::{answer, answer_lines, config, signed_post};

/// Answers 201, so a 200 can only be the extractor's duplicate answer.
async fn commits(claimed: ClaimedWebhook) -> HttpResponse {
    match claimed.commit().await {
        Ok(()) => HttpResponse::Created().finish(),
        Err(error) => HttpResponse::InternalServerError().body(error.to_string()),
    }
}

#[actix_web::test]
async fn deduplicator_may_be_registered_as_web_data_per_scope() {
    let app = test::init_service(
        App::new().app_data(config()).service(
            web::scope("")
                .app_data(web::Data::new(Deduplicator::in_memory()))
                .route("/once", web::post().to(commits)),
        ),
    )
    .await;

    assert_eq!(
        answer(&app, signed_post("/once")).await.0,
        StatusCode::CREATED
    );
    assert_eq!(answer(&app, signed_post("/once")).await.0, StatusCode::OK);
}

/// The suite's app without registrations lacks both; here one is there,
/// and the error line names the other.
#[actix_web::test]
async fn a_missing_registration_is_a_500_naming_it() {
    let only_config = App::new().app_data(config());
    let only_deduplicator = App::new().app_data(Deduplicator::in_memory());
    for (app, missing) in [
        (only_config, "missing=\"Deduplicator\""),
        (only_deduplicator, "missing=\"WebhookConfig\""),
    ] {
        let app = test::init_service(app.route("/once", web::post().to(commits))).await;
        let ((status, body), lines) = capture(answer(&app, signed_post("/once"))).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body,
            r#"{"type":"api_error","message":"webhook configuration is missing"}"#
        );
        let answers = answer_lines(&lines);
        assert!(
            matches!(answers.as_slice(), [line] if line.starts_with("ERROR ") && line.contains(missing)),
            "{lines:?}"
        );
    }
}

/// A handler that answers refusals itself still sees the typed reason.
async fn inspects(claimed: Result<ClaimedWebhook, actix_web::Error>) -> HttpResponse {
    match claimed {
        Ok(claimed) => commits(claimed).await,
        Err(error) => match error
            .as_error::<WebhookRejection>()
            .map(WebhookRejection::answer)
        {
            Some(answer) => match answer.unclaimed() {
                Some(Unclaimed::Duplicate { event_id }) => {
                    HttpResponse::Accepted().body(format!("seen {event_id}"))
                }
                _ => HttpResponse::BadRequest().body(answer.reason()),
            },
            None => HttpResponse::InternalServerError().finish(),
        },
    }
}

#[actix_web::test]
async fn duplicate_can_be_inspected_as_a_webhook_rejection() {
    let app = test::init_service(
        App::new()
            .app_data(config())
            .app_data(Deduplicator::in_memory())
            .route("/once", web::post().to(inspects)),
    )
    .await;

    assert_eq!(
        answer(&app, signed_post("/once")).await.0,
        StatusCode::CREATED
    );
    let ((status, body), lines) = capture(answer(&app, signed_post("/once"))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body, "seen evt_sample");
    let answers = answer_lines(&lines);
    assert!(
        matches!(answers.as_slice(), [line] if line.contains("reason=\"duplicate\"")),
        "{lines:?}"
    );
}
