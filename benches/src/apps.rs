//! The apps the `adapters` benchmark compares, one pair per framework,
//! shared with the `adapter_calls` example that counts their instructions.
//!
//! Each pair differs only in its handler ([`Handler`]): `Baseline` takes the
//! framework's plain bytes extractor and calls
//! [`WebhookConfig::verify_event`] by hand; `Ours` takes the adapter's
//! `Webhook` extractor. Both answer 200 on [`PATH`] for the [`Signed`]
//! request.

use core::hint::black_box;

use protocol_webhooks::{SIGNATURE_HEADER, WebhookConfig};

use crate::{SECRET, webhook_body};

/// The route both apps of every framework serve.
pub const PATH: &str = "/webhooks";

/// Which handler an app runs.
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

/// axum: a `Router`, driven with `tower::ServiceExt::oneshot`.
pub mod axum_apps {
    use axum::Router;
    use axum::body::{Body, Bytes};
    use axum::extract::{FromRequest, Request, State};
    use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
    use axum::http::{HeaderValue, StatusCode};
    use axum::routing::post;
    use protocol_webhooks_axum::Webhook;

    use super::{Handler, PATH, SIGNATURE_HEADER, Signed, WebhookConfig, black_box};

    /// Reads the header before the body, since `Bytes` consumes the request;
    /// cloning one `HeaderValue` is cheaper than axum's `HeaderMap`
    /// extractor, which clones them all.
    async fn baseline(State(config): State<WebhookConfig>, request: Request) -> StatusCode {
        let signature = request.headers().get(SIGNATURE_HEADER).cloned();
        let Ok(body) = Bytes::from_request(request, &()).await else {
            return StatusCode::BAD_REQUEST;
        };
        match config.verify_event(&body, signature.as_ref().map(HeaderValue::as_bytes)) {
            Ok(event) => {
                black_box(event);
                StatusCode::OK
            }
            Err(rejection) => {
                StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
        }
    }

    async fn ours(Webhook(event): Webhook) -> StatusCode {
        black_box(event);
        StatusCode::OK
    }

    /// The app for `handler`, with the configuration as its state.
    pub fn app(config: WebhookConfig, handler: Handler) -> Router {
        let route = match handler {
            Handler::Baseline => post(baseline),
            Handler::Ours => post(ours),
        };
        Router::new().route(PATH, route).with_state(config)
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
/// `actix_web::test::call_service` inside an actix `System`.
pub mod actix_apps {
    use actix_web::dev::{Service, ServiceResponse};
    use actix_web::http::StatusCode;
    use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
    use actix_web::{App, HttpRequest, HttpResponse, test, web};
    use protocol_webhooks_actix_web::Webhook;

    use super::{Handler, PATH, SIGNATURE_HEADER, Signed, WebhookConfig, black_box};

    /// The configuration comes from the app data, where the adapter finds
    /// it too.
    async fn baseline(request: HttpRequest, body: web::Bytes) -> HttpResponse {
        let Some(config) = request.app_data::<WebhookConfig>() else {
            return HttpResponse::InternalServerError().finish();
        };
        let signature = request
            .headers()
            .get(SIGNATURE_HEADER)
            .map(HeaderValue::as_bytes);
        match config.verify_event(&body, signature) {
            Ok(event) => {
                black_box(event);
                HttpResponse::Ok().finish()
            }
            Err(rejection) => HttpResponse::new(
                StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::BAD_REQUEST),
            ),
        }
    }

    async fn ours(Webhook(event): Webhook) -> HttpResponse {
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
            Handler::Baseline => web::post().to(baseline),
            Handler::Ours => web::post().to(ours),
        };
        test::init_service(App::new().app_data(config).route(PATH, route)).await
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

/// warp: filters, driven with `warp::test::RequestBuilder::reply`.
pub mod warp_apps {
    use bytes::Bytes;
    use protocol_webhooks_warp::{Webhook, recover, webhook};
    use warp::Filter;
    use warp::http::StatusCode;
    use warp::test::RequestBuilder;

    use super::{PATH, SIGNATURE_HEADER, Signed, WebhookConfig, black_box};

    /// The baseline filter. warp has no default body limit, so a
    /// hand-written handler sets one, like the adapter's.
    pub fn baseline(
        config: WebhookConfig,
    ) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
        let limit = u64::try_from(config.body_limit()).unwrap_or(u64::MAX);
        warp::path!("webhooks")
            .and(warp::post())
            .and(warp::header::optional::<String>(SIGNATURE_HEADER))
            .and(warp::body::content_length_limit(limit))
            .and(warp::body::bytes())
            .map(move |signature: Option<String>, body: Bytes| {
                match config.verify_event(&body, signature.as_ref().map(String::as_bytes)) {
                    Ok(event) => {
                        black_box(event);
                        StatusCode::OK
                    }
                    Err(rejection) => {
                        StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::BAD_REQUEST)
                    }
                }
            })
            .recover(recover)
    }

    /// The adapter's filter.
    pub fn ours(
        config: WebhookConfig,
    ) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
        warp::path!("webhooks")
            .and(warp::post())
            .and(webhook(config))
            .map(|Webhook(event): Webhook| {
                black_box(event);
                StatusCode::OK
            })
            .recover(recover)
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

/// Rocket: an untracked asynchronous local `Client`.
pub mod rocket_apps {
    use core::convert::Infallible;

    use protocol_webhooks_rocket::{Webhook, WebhookFairing};
    use rocket::data::Capped;
    use rocket::http::{ContentType, Header, Status};
    use rocket::local::asynchronous::{Client, LocalRequest};
    use rocket::outcome::Outcome;
    use rocket::request::{self, FromRequest, Request};
    use rocket::{Build, Rocket, State};

    use super::{Handler, PATH, SIGNATURE_HEADER, Signed, WebhookConfig, black_box};

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
    /// limit (8 KiB by default, well above the body measured).
    #[rocket::post("/webhooks", data = "<body>")]
    fn baseline(
        config: &State<WebhookConfig>,
        signature: SignatureHeader<'_>,
        body: Capped<Vec<u8>>,
    ) -> Status {
        if !body.is_complete() {
            return Status::PayloadTooLarge;
        }
        let body = body.into_inner();
        match config.verify_event(&body, signature.0.map(str::as_bytes)) {
            Ok(event) => {
                black_box(event);
                Status::Ok
            }
            Err(rejection) => Status::new(rejection.status()),
        }
    }

    #[rocket::post("/webhooks", data = "<webhook>")]
    fn ours(webhook: Webhook) -> Status {
        black_box(webhook);
        Status::Ok
    }

    /// The fairing manages the configuration and registers the JSON
    /// catchers in both apps, so only the handler differs. Logging is off:
    /// Rocket logs every request by default, which would dominate.
    fn app(config: WebhookConfig) -> Rocket<Build> {
        let settings = rocket::Config {
            log_level: rocket::config::LogLevel::Off,
            ..rocket::Config::release_default()
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
            Handler::Baseline => rocket::routes![baseline],
            Handler::Ours => rocket::routes![ours],
        };
        Client::untracked(app(config).mount("/", routes))
            .await
            .expect("a valid Rocket app")
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

/// Poem: an endpoint, driven with `Endpoint::call`.
pub mod poem_apps {
    use bytes::Bytes;
    use poem::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
    use poem::http::{HeaderValue, Method, StatusCode};
    use poem::web::Data;
    use poem::{Endpoint, EndpointExt, Request, Response, Route, handler, post};
    use protocol_webhooks_poem::Webhook;

    use super::{Handler, PATH, SIGNATURE_HEADER, Signed, WebhookConfig, black_box};

    /// The configuration comes from `.data(config)`, where the adapter finds
    /// it too.
    #[handler]
    async fn baseline(
        request: &Request,
        Data(config): Data<&WebhookConfig>,
        body: Bytes,
    ) -> StatusCode {
        let signature = request
            .headers()
            .get(SIGNATURE_HEADER)
            .map(HeaderValue::as_bytes);
        match config.verify_event(&body, signature) {
            Ok(event) => {
                black_box(event);
                StatusCode::OK
            }
            Err(rejection) => {
                StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
        }
    }

    #[handler]
    async fn ours(Webhook(event): Webhook) -> StatusCode {
        black_box(event);
        StatusCode::OK
    }

    /// The endpoint for `handler`, with the configuration as route data.
    pub fn app(config: WebhookConfig, handler: Handler) -> impl Endpoint<Output = Response> {
        let route = match handler {
            Handler::Baseline => Route::new().at(PATH, post(baseline)),
            Handler::Ours => Route::new().at(PATH, post(ours)),
        };
        route.data(config)
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
