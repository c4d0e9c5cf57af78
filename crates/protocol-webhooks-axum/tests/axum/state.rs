//! How the extractors find their configuration in axum's router state:
//! through `FromRef`, next to the app's other state, and per router, so
//! routes merged into one app each verify with their own secret.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{Request, StatusCode};
use axum::routing::post;
use protocol_webhooks_axum::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_axum::{EventType, Webhook, WebhookConfig};
use tower::ServiceExt as _;

const FIRST: &str = "whsec_axum_first";
const SECOND: &str = "whsec_axum_second";

#[derive(Clone, FromRef)]
struct AppState {
    webhooks: WebhookConfig,
    handled: Arc<AtomicUsize>,
}

async fn counted(State(handled): State<Arc<AtomicUsize>>, Webhook(event): Webhook) -> String {
    handled.fetch_add(1, Ordering::SeqCst);
    event.id
}

fn config(secret: &str) -> WebhookConfig {
    WebhookConfig::new(secret).expect("non-empty secret")
}

#[tokio::test]
async fn each_router_verifies_with_the_config_of_its_own_state() {
    let handled = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/first", post(counted))
        .with_state(AppState {
            webhooks: config(FIRST),
            handled: Arc::clone(&handled),
        })
        .merge(
            Router::new()
                .route(
                    "/second",
                    post(|Webhook(event): Webhook| async move { event.id }),
                )
                .with_state(config(SECOND)),
        );

    for (path, secret, status) in [
        ("/first", FIRST, StatusCode::OK),
        ("/first", SECOND, StatusCode::UNAUTHORIZED),
        ("/second", SECOND, StatusCode::OK),
        ("/second", FIRST, StatusCode::UNAUTHORIZED),
    ] {
        let signed = SignedRequest::sample(secret, &EventType::MessageCreated).expect("sample");
        let request = Request::post(path)
            .header(signed.header_name(), signed.signature())
            .body(Body::from(signed.body().to_vec()))
            .expect("valid request");
        let response = app.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), status, "{path} signed with {secret}");
    }
    assert_eq!(handled.load(Ordering::SeqCst), 1);
}
