//! `ClaimedWebhook` claims only an authentic event. The suite sees that a
//! refused request does not run the handler; only the store can show that
//! it was never asked to claim, so a forger cannot hold or mark an id.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use protocol_webhooks_axum::protocol_webhooks::dedup::{EventStore, MemoryStore};
use protocol_webhooks_axum::protocol_webhooks::samples::{SignedRequest, sample_body};
use protocol_webhooks_axum::{ClaimedWebhook, Deduplicator, EventType, WebhookConfig};
use tower::ServiceExt as _;

const SECRET: &str = "whsec_axum_claimed";

#[derive(Clone, FromRef)]
struct AppState {
    webhooks: WebhookConfig,
    dedup: Deduplicator,
}

async fn commit(claimed: ClaimedWebhook) -> StatusCode {
    match claimed.commit().await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[tokio::test]
async fn refused_requests_never_reach_the_store() {
    let store = Arc::new(MemoryStore::new());
    let shared: Arc<dyn EventStore> = Arc::clone(&store) as Arc<dyn EventStore>;
    let app = Router::new()
        .route("/webhooks", post(commit))
        .with_state(AppState {
            webhooks: WebhookConfig::new(SECRET).expect("non-empty secret"),
            dedup: Deduplicator::from_shared(shared),
        });
    let event = SignedRequest::new(
        SECRET,
        sample_body(&EventType::MessageCreated, "evt_target"),
    )
    .expect("signed");
    let forged = SignedRequest::new("whsec_forger", event.body().to_vec()).expect("signed");
    let not_an_event = SignedRequest::new(
        SECRET,
        br#"{"id":"evt_target","type":"contact.created","payload":{}}"#.to_vec(),
    )
    .expect("signed");

    for (signed, status) in [
        (&forged, StatusCode::UNAUTHORIZED),
        (&not_an_event, StatusCode::BAD_REQUEST),
        (&event, StatusCode::OK),
    ] {
        let request = Request::post("/webhooks")
            .header(signed.header_name(), signed.signature())
            .body(Body::from(signed.body().to_vec()))
            .expect("valid request");
        let response = app.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), status);
        let expected = usize::from(status == StatusCode::OK);
        assert_eq!(store.len(), expected, "after the {status} request");
    }
}
