//! The filters as warp sees them: what they extract or reject with outside
//! a route, and how `recover` sits among the app's other rejections.

use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use protocol_webhooks_warp::protocol_webhooks::SignatureError;
use protocol_webhooks_warp::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_warp::{
    ClaimedWebhook, Deduplicator, EventType, Payload, Rejection, Webhook, WebhookConfig,
    WebhookRejection, claimed_webhook, recover, webhook,
};
use warp::Filter;
use warp::http::StatusCode;
use warp::http::header::CONTENT_TYPE;
use warp::test::RequestBuilder;

const SECRET: &str = "whsec_filter";

fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET).expect("non-empty secret")
}

/// A signed delivery of a sample event (id `evt_sample`).
fn delivery(event_type: &EventType) -> RequestBuilder {
    let request = SignedRequest::sample(SECRET, event_type).expect("signed");
    warp::test::request()
        .method("POST")
        .path("/webhooks")
        .header(request.header_name(), request.signature())
        .body(request.body())
}

#[tokio::test]
async fn the_filter_alone_yields_the_parsed_event() {
    let Webhook(event) = delivery(&EventType::ContactDeleted)
        .filter(&webhook(config()))
        .await
        .expect("verified");
    assert_eq!(event.id, "evt_sample");
    assert_eq!(event.event_type, EventType::ContactDeleted);
    assert!(matches!(event.payload, Payload::Contact(_)));
}

#[tokio::test]
async fn the_rejection_is_a_custom_rejection_warp_can_find() {
    let rejection = warp::test::request()
        .method("POST")
        .body(b"{}")
        .filter(&webhook(config()))
        .await
        .expect_err("unsigned");
    let webhook_rejection = rejection
        .find::<WebhookRejection>()
        .expect("a webhook rejection");
    assert!(matches!(
        webhook_rejection.answer().rejection(),
        Some(Rejection::Signature(SignatureError::Missing))
    ));
}

#[tokio::test]
async fn the_claimed_filter_alone_hands_over_a_held_claim() {
    let dedup = Deduplicator::in_memory();
    let claimed = delivery(&EventType::MessageCreated)
        .filter(&claimed_webhook(config(), dedup.clone()))
        .await
        .expect("claimed");
    assert_eq!(claimed.id, "evt_sample");
    // Leaving warp's filter chain must neither release nor commit the claim.
    let busy = dedup.claim_id("evt_sample").await.expect_err("held");
    assert_eq!(busy.status(), 409);
    claimed.commit().await.expect("commit");
    let done = dedup.claim_id("evt_sample").await.expect_err("done");
    assert_eq!(done.status(), 200);
}

#[tokio::test]
async fn recover_passes_other_rejections_on() {
    let route = warp::path!("webhooks")
        .and(warp::post())
        .and(webhook(config()))
        .map(|Webhook(event): Webhook| event.id)
        .recover(recover);
    let response = warp::test::request()
        .method("POST")
        .path("/elsewhere")
        .body(b"{}")
        .reply(&route)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// The handler's own rejection, which `recover` does not know.
#[derive(Debug)]
struct HandlerFailed;

impl warp::reject::Reject for HandlerFailed {}

#[tokio::test]
async fn a_handler_that_rejects_releases_the_claim() {
    // A warp handler can fail by rejecting instead of replying: the claim
    // must go with the rejection, and `recover` must leave the handler's
    // rejection to warp.
    let runs = Arc::new(AtomicUsize::new(0));
    let route = {
        let runs = Arc::clone(&runs);
        warp::path!("webhooks")
            .and(warp::post())
            .and(claimed_webhook(config(), Deduplicator::in_memory()))
            .and_then(move |claimed: ClaimedWebhook| {
                let first = runs.fetch_add(1, Ordering::SeqCst) == 0;
                async move {
                    if first {
                        return Err(warp::reject::custom(HandlerFailed));
                    }
                    claimed.commit().await.expect("commit");
                    Ok("done")
                }
            })
            .recover(recover)
    };

    let failed = delivery(&EventType::MessageCreated).reply(&route).await;
    // warp's own answer to a custom rejection nobody recovered.
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        failed
            .headers()
            .get(CONTENT_TYPE)
            .is_none_or(|value| value != "application/json")
    );

    let retried = delivery(&EventType::MessageCreated).reply(&route).await;
    assert_eq!(retried.status(), StatusCode::OK);
    assert_eq!(retried.body().as_ref(), b"done");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_apps_own_filter_answers_a_missing_configuration_as_every_adapter_does() {
    // The filters take their settings as arguments, so only a filter of the
    // application's own can find them missing; it can reject with the
    // core's rejection, or reply with it, and either way gets the answer the
    // other adapters give.
    let missing = || {
        WebhookRejection::from(Rejection::MissingConfiguration {
            missing: "WebhookConfig",
        })
    };
    let rejecting = warp::path!("rejecting")
        .and_then(move || async move { Err::<String, _>(warp::reject::custom(missing())) });
    let replying = warp::path!("replying").map(missing);
    let app = rejecting
        .map(warp::Reply::into_response)
        .or(replying.map(warp::Reply::into_response))
        .unify()
        .recover(recover);

    for path in ["/rejecting", "/replying"] {
        let response = warp::test::request().path(path).reply(&app).await;
        assert_eq!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}"
        );
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "application/json",
            "{path}"
        );
        assert_eq!(
            response.body().as_ref(),
            br#"{"type":"api_error","message":"webhook configuration is missing"}"#,
            "{path}"
        );
    }
}
