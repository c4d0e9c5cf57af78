//! The apps the benchmarks and the load-test server run, one module per
//! framework, built from the same handlers so that every measurement
//! compares like with like.
//!
//! Every module has the six handlers [`routes`] names, each answering 200
//! for the [`Signed`] request:
//!
//! - `raw` takes the framework's plain bytes extractor and verifies nothing;
//! - `by_hand` takes the plain bytes and calls
//!   [`WebhookConfig::verify_event`] itself ([`Handler::Baseline`]);
//! - `raw_webhook` takes the adapter's `RawWebhook` (size limit, signature);
//! - `json_checked` takes `RawWebhook`, then checks the body is JSON without
//!   building anything from it: the least any extractor that refuses
//!   malformed JSON must do after verifying;
//! - `webhook` takes the adapter's `Webhook` ([`Handler::Ours`]);
//! - `hand_written` takes the plain bytes and every value of the signature
//!   header, the way the framework hands them out, and does the same checks
//!   as `Webhook` by hand ([`crate::hand_written`]).
//!
//! The `adapters` benchmark and the `adapter_calls` example mount one
//! handler at [`PATH`] (`app`, `service` or `client`); the load-test server
//! mounts all six (`server`).

use core::hint::black_box;

use protocol_webhooks::events::Event;
use protocol_webhooks::{Rejection, SIGNATURE_HEADER, WebhookConfig};

use crate::{SECRET, webhook_body};

/// The route every in-process app serves its one handler on.
pub const PATH: &str = routes::WEBHOOK;

/// The load-test server's routes, one per handler.
pub mod routes {
    /// The framework's plain bytes, nothing verified.
    pub const RAW: &str = "/raw";
    /// Plain bytes, then `verify_event` by hand.
    pub const BY_HAND: &str = "/by-hand";
    /// The adapter's `RawWebhook`: size limit and signature, no parse.
    pub const RAW_WEBHOOK: &str = "/raw-webhook";
    /// `RawWebhook`, then a JSON syntax check and no typed model.
    pub const JSON_CHECKED: &str = "/json-checked";
    /// The adapter's `Webhook`: size limit, signature, typed event.
    pub const WEBHOOK: &str = "/webhooks";
    /// The same checks written by hand: `hmac` and `serde_json`, no adapter
    /// ([`crate::hand_written`]).
    pub const HAND_WRITTEN: &str = "/hand-written";
}

/// Which handler an in-process app runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// The framework's plain bytes extractor, then `verify_event` by hand.
    Baseline,
    /// The adapter's `Webhook` extractor.
    Ours,
}

impl Handler {
    /// Both, baseline first.
    pub const ALL: [Self; 2] = [Self::Baseline, Self::Ours];

    /// The benchmark function name; `summarize.py` compares `ours_webhook`
    /// to `baseline_bytes` for each framework.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Baseline => "baseline_bytes",
            Self::Ours => "ours_webhook",
        }
    }
}

/// The status a by-hand handler answers: 200 for an event, and for a
/// rejection the core's status, as every adapter answers.
fn status_of(outcome: Result<Event, Rejection>) -> u16 {
    match outcome {
        Ok(event) => {
            black_box(event);
            200
        }
        Err(rejection) => rejection.status(),
    }
}

/// Whether the bytes are one JSON value, checked without keeping anything
/// of it.
fn is_json(body: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

/// The request every app is sent: [`webhook_body`], signed with [`SECRET`],
/// and the configuration that accepts it.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The body, cheap to clone into each request.
    pub body: bytes::Bytes,
    /// The `x-protocol-signature` value.
    pub signature: String,
    /// The configuration both handlers verify with.
    pub config: WebhookConfig,
}

impl Signed {
    /// Signs the body and checks that it verifies, so that no figure ever
    /// times a rejection.
    ///
    /// # Panics
    /// If the body does not verify and parse.
    #[must_use]
    pub fn new() -> Self {
        let body = webhook_body();
        let signature = protocol_webhooks::sign(SECRET, &body)
            .expect("non-empty secret")
            .to_hex()
            .as_str()
            .to_owned();
        let config = WebhookConfig::new(SECRET).expect("non-empty secret");
        config
            .verify_event(&body, Some(signature.as_bytes()))
            .expect("the body verifies and parses");
        Self {
            body: bytes::Bytes::from(body),
            signature,
            config,
        }
    }
}

impl Default for Signed {
    fn default() -> Self {
        Self::new()
    }
}

/// A current-thread tokio runtime: every request runs on the measuring
/// thread, with no hand-off to another.
///
/// # Panics
/// If the runtime cannot be built.
#[must_use]
pub fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// axum: a `Router`, driven with `tower::ServiceExt::oneshot` in-process.
pub mod axum_apps {
    use axum::Router;
    use axum::body::{Body, Bytes};
    use axum::extract::{FromRequest, Request, State};
    use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
    use axum::http::{HeaderMap, HeaderValue, StatusCode};
    use axum::routing::post;
    use protocol_webhooks_axum::{RawWebhook, Webhook};

    use super::{Handler, PATH, SIGNATURE_HEADER, Signed, WebhookConfig, black_box, routes};

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
    }

    async fn raw(body: Bytes) -> StatusCode {
        black_box(body);
        StatusCode::OK
    }

    /// Reads the header before the body, since `Bytes` consumes the request;
    /// cloning one `HeaderValue` is cheaper than axum's `HeaderMap`
    /// extractor, which clones them all.
    async fn by_hand(State(config): State<WebhookConfig>, request: Request) -> StatusCode {
        let signature = request.headers().get(SIGNATURE_HEADER).cloned();
        let Ok(body) = Bytes::from_request(request, &()).await else {
            return StatusCode::BAD_REQUEST;
        };
        let outcome = config.verify_event(&body, signature.as_ref().map(HeaderValue::as_bytes));
        status(super::status_of(outcome))
    }

    async fn raw_webhook(RawWebhook(body): RawWebhook) -> StatusCode {
        black_box(body);
        StatusCode::OK
    }

    /// `HeaderMap` and `Bytes`: how an axum handler reads a request by hand.
    async fn hand_written(headers: HeaderMap, body: Bytes) -> StatusCode {
        let signatures = headers.get_all(SIGNATURE_HEADER).iter();
        status(crate::hand_written::status(
            signatures.map(HeaderValue::as_bytes),
            &body,
        ))
    }

    async fn json_checked(RawWebhook(body): RawWebhook) -> StatusCode {
        if super::is_json(body.as_bytes()) {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        }
    }

    async fn webhook(Webhook(event): Webhook) -> StatusCode {
        black_box(event);
        StatusCode::OK
    }

    /// The app for `handler`, with the configuration as its state.
    pub fn app(config: WebhookConfig, handler: Handler) -> Router {
        let route = match handler {
            Handler::Baseline => post(by_hand),
            Handler::Ours => post(webhook),
        };
        Router::new().route(PATH, route).with_state(config)
    }

    /// Every handler on its route, for the load-test server.
    pub fn server(config: WebhookConfig) -> Router {
        Router::new()
            .route(routes::RAW, post(raw))
            .route(routes::BY_HAND, post(by_hand))
            .route(routes::RAW_WEBHOOK, post(raw_webhook))
            .route(routes::JSON_CHECKED, post(json_checked))
            .route(routes::WEBHOOK, post(webhook))
            .route(routes::HAND_WRITTEN, post(hand_written))
            .with_state(config)
    }

    /// The signed request, as a client sends it.
    ///
    /// # Panics
    /// Never: every part is valid.
    pub fn request(signed: &Signed) -> Request {
        Request::post(PATH)
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_LENGTH, signed.body.len())
            .header(SIGNATURE_HEADER, &signed.signature)
            .body(Body::from(signed.body.clone()))
            .expect("a valid request")
    }
}

/// actix-web: a service from `actix_web::test::init_service`, driven with
/// `actix_web::test::call_service` inside an actix `System` in-process.
pub mod actix_apps {
    use actix_web::dev::{Service, ServiceResponse};
    use actix_web::http::StatusCode;
    use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
    use actix_web::{App, HttpRequest, HttpResponse, test, web};
    use protocol_webhooks_actix_web::{RawWebhook, Webhook};

    use super::{Handler, PATH, SIGNATURE_HEADER, Signed, WebhookConfig, black_box, routes};

    fn status(code: u16) -> HttpResponse {
        HttpResponse::new(StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST))
    }

    async fn raw(body: web::Bytes) -> HttpResponse {
        black_box(body);
        HttpResponse::Ok().finish()
    }

    /// The configuration comes from the app data, where the adapter finds
    /// it too.
    async fn by_hand(request: HttpRequest, body: web::Bytes) -> HttpResponse {
        let Some(config) = request.app_data::<WebhookConfig>() else {
            return HttpResponse::InternalServerError().finish();
        };
        let signature = request
            .headers()
            .get(SIGNATURE_HEADER)
            .map(HeaderValue::as_bytes);
        status(super::status_of(config.verify_event(&body, signature)))
    }

    async fn hand_written(request: HttpRequest, body: web::Bytes) -> HttpResponse {
        let signatures = request.headers().get_all(SIGNATURE_HEADER);
        status(crate::hand_written::status(
            signatures.map(HeaderValue::as_bytes),
            &body,
        ))
    }

    async fn raw_webhook(RawWebhook(body): RawWebhook) -> HttpResponse {
        black_box(body);
        HttpResponse::Ok().finish()
    }

    async fn json_checked(RawWebhook(body): RawWebhook) -> HttpResponse {
        if super::is_json(body.as_bytes()) {
            HttpResponse::Ok().finish()
        } else {
            HttpResponse::BadRequest().finish()
        }
    }

    async fn webhook(Webhook(event): Webhook) -> HttpResponse {
        black_box(event);
        HttpResponse::Ok().finish()
    }

    /// The initialised service for `handler`, with the configuration in
    /// the app data. Call it inside the actix `System` that will drive it.
    pub async fn service(
        config: WebhookConfig,
        handler: Handler,
    ) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>
    {
        let route = match handler {
            Handler::Baseline => web::post().to(by_hand),
            Handler::Ours => web::post().to(webhook),
        };
        test::init_service(App::new().app_data(config).route(PATH, route)).await
    }

    /// Every handler on its route, for the load-test server's apps (which
    /// also need the configuration as app data).
    pub fn server(routes_config: &mut web::ServiceConfig) {
        routes_config
            .route(routes::RAW, web::post().to(raw))
            .route(routes::BY_HAND, web::post().to(by_hand))
            .route(routes::RAW_WEBHOOK, web::post().to(raw_webhook))
            .route(routes::JSON_CHECKED, web::post().to(json_checked))
            .route(routes::WEBHOOK, web::post().to(webhook))
            .route(routes::HAND_WRITTEN, web::post().to(hand_written));
    }

    /// The signed request; `set_payload` also sets `Content-Length`, as a
    /// real client does.
    pub fn request(signed: &Signed) -> actix_http::Request {
        test::TestRequest::post()
            .uri(PATH)
            .insert_header((CONTENT_TYPE, "application/json"))
            .insert_header((SIGNATURE_HEADER, signed.signature.as_str()))
            .set_payload(signed.body.clone())
            .to_request()
    }
}

/// warp: filters, driven with `warp::test::RequestBuilder::reply`
/// in-process.
pub mod warp_apps {
    use bytes::Bytes;
    use protocol_webhooks_warp::{RawWebhook, Webhook, raw_webhook, recover, webhook};
    use warp::Filter;
    use warp::http::{HeaderMap, HeaderValue, StatusCode};
    use warp::test::RequestBuilder;

    use super::{PATH, SIGNATURE_HEADER, Signed, WebhookConfig, black_box, routes};

    /// `POST` on exactly `route` (one segment after the slash).
    fn post_on(route: &'static str) -> impl Filter<Extract = (), Error = warp::Rejection> + Clone {
        warp::path(route.trim_start_matches('/'))
            .and(warp::path::end())
            .and(warp::post())
    }

    /// warp has no default body limit, so a hand-written handler sets one,
    /// like the adapter's.
    fn plain_body(
        body_limit: usize,
    ) -> impl Filter<Extract = (Bytes,), Error = warp::Rejection> + Clone {
        let limit = u64::try_from(body_limit).unwrap_or(u64::MAX);
        warp::body::content_length_limit(limit).and(warp::body::bytes())
    }

    fn raw(
        body_limit: usize,
    ) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
        post_on(routes::RAW)
            .and(plain_body(body_limit))
            .map(|body: Bytes| {
                black_box(body);
                StatusCode::OK
            })
    }

    fn by_hand(
        route: &'static str,
        config: WebhookConfig,
    ) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
        post_on(route)
            .and(warp::header::optional::<String>(SIGNATURE_HEADER))
            .and(plain_body(config.body_limit()))
            .map(move |signature: Option<String>, body: Bytes| {
                let outcome = config.verify_event(&body, signature.as_ref().map(String::as_bytes));
                StatusCode::from_u16(super::status_of(outcome)).unwrap_or(StatusCode::BAD_REQUEST)
            })
            .recover(recover)
    }

    /// Every value of the signature header is only seen through
    /// `headers_cloned`, as for the adapter.
    fn hand_written(
        body_limit: usize,
    ) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
        post_on(routes::HAND_WRITTEN)
            .and(warp::header::headers_cloned())
            .and(plain_body(body_limit))
            .map(|headers: HeaderMap, body: Bytes| {
                let signatures = headers.get_all(SIGNATURE_HEADER).iter();
                let status =
                    crate::hand_written::status(signatures.map(HeaderValue::as_bytes), &body);
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST)
            })
            .recover(recover)
    }

    fn raw_verified(
        config: WebhookConfig,
    ) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
        post_on(routes::RAW_WEBHOOK)
            .and(raw_webhook(config))
            .map(|RawWebhook(body): RawWebhook| {
                black_box(body);
                StatusCode::OK
            })
            .recover(recover)
    }

    fn json_checked(
        config: WebhookConfig,
    ) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
        post_on(routes::JSON_CHECKED)
            .and(raw_webhook(config))
            .map(|RawWebhook(body): RawWebhook| {
                if super::is_json(body.as_bytes()) {
                    StatusCode::OK
                } else {
                    StatusCode::BAD_REQUEST
                }
            })
            .recover(recover)
    }

    fn verified(
        route: &'static str,
        config: WebhookConfig,
    ) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
        post_on(route)
            .and(webhook(config))
            .map(|Webhook(event): Webhook| {
                black_box(event);
                StatusCode::OK
            })
            .recover(recover)
    }

    /// The baseline filter, on [`PATH`].
    pub fn baseline(
        config: WebhookConfig,
    ) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
        by_hand(PATH, config)
    }

    /// The adapter's filter, on [`PATH`].
    pub fn ours(
        config: WebhookConfig,
    ) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
        verified(PATH, config)
    }

    /// Every handler on its route, for the load-test server.
    pub fn server(
        config: WebhookConfig,
    ) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
        raw(config.body_limit())
            .or(by_hand(routes::BY_HAND, config.clone()))
            .or(raw_verified(config.clone()))
            .or(json_checked(config.clone()))
            .or(hand_written(config.body_limit()))
            .or(verified(routes::WEBHOOK, config))
    }

    /// The signed request; `body` also sets `Content-Length`, as a real
    /// client does.
    pub fn request(signed: &Signed) -> RequestBuilder {
        warp::test::request()
            .method("POST")
            .path(PATH)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, signed.signature.as_str())
            .body(&signed.body)
    }
}

/// Rocket: an untracked asynchronous local `Client` in-process. Every
/// handler's route is `/`, mounted where it is served.
pub mod rocket_apps {
    use core::convert::Infallible;

    use protocol_webhooks_rocket::{RawWebhook, Webhook, WebhookFairing};
    use rocket::data::Capped;
    use rocket::http::{ContentType, Header, Status};
    use rocket::local::asynchronous::{Client, LocalRequest};
    use rocket::outcome::Outcome;
    use rocket::request::{self, FromRequest, Request};
    use rocket::{Build, Rocket, State};

    use super::{Handler, PATH, SIGNATURE_HEADER, Signed, WebhookConfig, black_box, routes};

    /// The signature header as a request guard, the way a Rocket handler
    /// reads a header.
    #[derive(Debug, Clone, Copy)]
    pub struct SignatureHeader<'r>(pub Option<&'r str>);

    #[rocket::async_trait]
    impl<'r> FromRequest<'r> for SignatureHeader<'r> {
        type Error = Infallible;

        async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Infallible> {
            Outcome::Success(Self(request.headers().get_one(SIGNATURE_HEADER)))
        }
    }

    /// `Capped` tells a complete body from one cut at Rocket's `bytes`
    /// limit (8 KiB by default, well above the body sent).
    #[rocket::post("/", data = "<body>")]
    fn raw(body: Capped<Vec<u8>>) -> Status {
        if body.is_complete() {
            black_box(body);
            Status::Ok
        } else {
            Status::PayloadTooLarge
        }
    }

    #[rocket::post("/", data = "<body>")]
    fn by_hand(
        config: &State<WebhookConfig>,
        signature: SignatureHeader<'_>,
        body: Capped<Vec<u8>>,
    ) -> Status {
        if !body.is_complete() {
            return Status::PayloadTooLarge;
        }
        let body = body.into_inner();
        Status::new(super::status_of(
            config.verify_event(&body, signature.0.map(str::as_bytes)),
        ))
    }

    /// Every value of the signature header, the way a Rocket handler reads
    /// a header that may repeat.
    #[derive(Debug)]
    pub struct SignatureHeaders<'r>(Vec<&'r str>);

    #[rocket::async_trait]
    impl<'r> FromRequest<'r> for SignatureHeaders<'r> {
        type Error = Infallible;

        async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Infallible> {
            Outcome::Success(Self(request.headers().get(SIGNATURE_HEADER).collect()))
        }
    }

    #[rocket::post("/", data = "<body>")]
    fn hand_written(signatures: SignatureHeaders<'_>, body: Capped<Vec<u8>>) -> Status {
        if !body.is_complete() {
            return Status::PayloadTooLarge;
        }
        let signatures = signatures.0.into_iter().map(str::as_bytes);
        Status::new(crate::hand_written::status(signatures, &body.into_inner()))
    }

    #[rocket::post("/", data = "<webhook>")]
    fn raw_webhook(webhook: RawWebhook) -> Status {
        black_box(webhook);
        Status::Ok
    }

    #[rocket::post("/", data = "<webhook>")]
    fn json_checked(webhook: RawWebhook) -> Status {
        if super::is_json(webhook.into_inner().as_bytes()) {
            Status::Ok
        } else {
            Status::BadRequest
        }
    }

    #[rocket::post("/", data = "<webhook>")]
    fn webhook(webhook: Webhook) -> Status {
        black_box(webhook);
        Status::Ok
    }

    /// The fairing manages the configuration and registers the JSON
    /// catchers, so only the handler differs between apps. Logging is off:
    /// Rocket logs every request by default, which would dominate.
    fn app(config: WebhookConfig, settings: rocket::Config) -> Rocket<Build> {
        let settings = rocket::Config {
            log_level: rocket::config::LogLevel::Off,
            ..settings
        };
        rocket::custom(settings).attach(WebhookFairing::new(config))
    }

    /// An untracked local client (no cookie jar to update) of the app for
    /// `handler`.
    ///
    /// # Panics
    /// If Rocket refuses the app.
    pub async fn client(config: WebhookConfig, handler: Handler) -> Client {
        let routes = match handler {
            Handler::Baseline => rocket::routes![by_hand],
            Handler::Ours => rocket::routes![webhook],
        };
        Client::untracked(app(config, rocket::Config::release_default()).mount(PATH, routes))
            .await
            .expect("a valid Rocket app")
    }

    /// Every handler on its route, for the load-test server, with
    /// `settings` (address, port, workers) and logging off.
    pub fn server(config: WebhookConfig, settings: rocket::Config) -> Rocket<Build> {
        app(config, settings)
            .mount(routes::RAW, rocket::routes![raw])
            .mount(routes::BY_HAND, rocket::routes![by_hand])
            .mount(routes::RAW_WEBHOOK, rocket::routes![raw_webhook])
            .mount(routes::JSON_CHECKED, rocket::routes![json_checked])
            .mount(routes::WEBHOOK, rocket::routes![webhook])
            .mount(routes::HAND_WRITTEN, rocket::routes![hand_written])
    }

    /// The signed request; the local client sets no `Content-Length` of its
    /// own, so it is set here, as a real client does.
    pub fn request<'c>(client: &'c Client, signed: &Signed) -> LocalRequest<'c> {
        client
            .post(PATH)
            .header(ContentType::JSON)
            .header(Header::new("content-length", signed.body.len().to_string()))
            .header(Header::new(SIGNATURE_HEADER, signed.signature.clone()))
            .body(&signed.body)
    }
}

/// Poem: an endpoint, driven with `Endpoint::call` in-process.
pub mod poem_apps {
    use bytes::Bytes;
    use poem::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
    use poem::http::{HeaderValue, Method, StatusCode};
    use poem::web::Data;
    use poem::{Endpoint, EndpointExt, Request, Response, Route, handler, post};
    use protocol_webhooks_poem::{RawWebhook, Webhook};

    use super::{Handler, PATH, SIGNATURE_HEADER, Signed, WebhookConfig, black_box, routes};

    #[handler]
    async fn raw(body: Bytes) -> StatusCode {
        black_box(body);
        StatusCode::OK
    }

    /// The configuration comes from `.data(config)`, where the adapter finds
    /// it too.
    #[handler]
    async fn by_hand(
        request: &Request,
        Data(config): Data<&WebhookConfig>,
        body: Bytes,
    ) -> StatusCode {
        let signature = request
            .headers()
            .get(SIGNATURE_HEADER)
            .map(HeaderValue::as_bytes);
        let outcome = config.verify_event(&body, signature);
        StatusCode::from_u16(super::status_of(outcome)).unwrap_or(StatusCode::BAD_REQUEST)
    }

    #[handler]
    async fn raw_webhook(RawWebhook(body): RawWebhook) -> StatusCode {
        black_box(body);
        StatusCode::OK
    }

    #[handler]
    async fn json_checked(RawWebhook(body): RawWebhook) -> StatusCode {
        if super::is_json(body.as_bytes()) {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        }
    }

    #[handler]
    async fn hand_written(request: &Request, body: Bytes) -> StatusCode {
        let signatures = request.headers().get_all(SIGNATURE_HEADER);
        let status =
            crate::hand_written::status(signatures.iter().map(HeaderValue::as_bytes), &body);
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST)
    }

    #[handler]
    async fn webhook(Webhook(event): Webhook) -> StatusCode {
        black_box(event);
        StatusCode::OK
    }

    /// The endpoint for `handler`, with the configuration as route data.
    pub fn app(config: WebhookConfig, handler: Handler) -> impl Endpoint<Output = Response> {
        let route = match handler {
            Handler::Baseline => Route::new().at(PATH, post(by_hand)),
            Handler::Ours => Route::new().at(PATH, post(webhook)),
        };
        route.data(config)
    }

    /// Every handler on its route, for the load-test server.
    pub fn server(config: WebhookConfig) -> impl Endpoint<Output = Response> {
        Route::new()
            .at(routes::RAW, post(raw))
            .at(routes::BY_HAND, post(by_hand))
            .at(routes::RAW_WEBHOOK, post(raw_webhook))
            .at(routes::JSON_CHECKED, post(json_checked))
            .at(routes::WEBHOOK, post(webhook))
            .at(routes::HAND_WRITTEN, post(hand_written))
            .data(config)
    }

    /// The signed request, as a client sends it.
    pub fn request(signed: &Signed) -> Request {
        Request::builder()
            .method(Method::POST)
            .uri_str(PATH)
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_LENGTH, signed.body.len())
            .header(SIGNATURE_HEADER, signed.signature.as_str())
            .body(signed.body.clone())
    }
}
