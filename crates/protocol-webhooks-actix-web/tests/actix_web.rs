//! The shared conformance suite, and what only actix-web decides: where the
//! registrations are found, how its payload stream is read, and how a
//! handler can take a refusal and answer it itself.

// A test crate's root looks for its modules beside it, not in a folder of
// its own name.
#[path = "actix_web/claimed.rs"]
mod claimed;
#[path = "actix_web/conformance.rs"]
mod conformance;
#[path = "actix_web/extract.rs"]
mod extract;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use protocol_webhooks_actix_web::protocol_webhooks::samples::SignedRequest;
use protocol_webhooks_actix_web::{EventType, WebhookConfig};

const SECRET: &str = "whsec_actix_web_test";

fn config() -> WebhookConfig {
    WebhookConfig::new(SECRET).expect("non-empty secret")
}

/// A POST to `path` carrying the signature of the sample contact event
/// (id `evt_sample`), without a body yet.
fn signed_head(path: &str) -> (test::TestRequest, Vec<u8>) {
    let signed = SignedRequest::sample(SECRET, &EventType::ContactCreated).expect("secret");
    let request = test::TestRequest::post()
        .uri(path)
        .insert_header((signed.header_name(), signed.signature()));
    (request, signed.into_body())
}

/// The signed sample event, posted to `path`.
fn signed_post(path: &str) -> actix_http::Request {
    let (request, body) = signed_head(path);
    request.set_payload(body).to_request()
}

async fn answer<S>(app: &S, request: actix_http::Request) -> (StatusCode, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let response = test::call_service(app, request).await;
    let status = response.status();
    let body = test::read_body(response).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The lines the core wrote about an answer.
fn answer_lines(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .map(String::as_str)
        .filter(|line| line.contains(" protocol_webhooks::answer: "))
        .collect()
}
