//! The server `cargo xtask loadtest` drives with wrk: one framework at a
//! time on 127.0.0.1, serving two routes side by side.
//!
//! - `POST /raw` takes the body with the framework's plain bytes extractor
//!   and answers 200, without verifying anything: the framework's own cost.
//! - `POST /webhooks` takes the adapter's `Webhook` extractor (size limit,
//!   signature, parse) and answers 200.
//!
//! Two more routes tell where the difference between those two goes:
//!
//! - `POST /by-hand` takes the plain bytes and calls
//!   `WebhookConfig::verify_event` itself (the `adapters` benchmark's
//!   baseline handler): `/webhooks` against it is the adapter's glue.
//! - `POST /raw-webhook` takes the adapter's `RawWebhook` (size limit and
//!   signature, no parse): against `/webhooks`, the cost of the parse.
//!
//! ```text
//! loadtest-server --framework <axum|actix-web|warp|rocket|poem> --port <p>
//!                 [--workers N] [--exit-after SECONDS] [--watch-stdin]
//! loadtest-server --print-request
//! ```
//!
//! `--print-request` prints the signature header value on the first line
//! and the signed body after it, for the load generator to send. The secret
//! is fixed; this is a benchmark, not a service.
//!
//! The server stops by itself after `--exit-after` seconds (default 600) and,
//! with `--watch-stdin`, as soon as its standard input closes (the process
//! that started it went away), whichever comes first. `--workers` sets the
//! worker threads (default 1).

#![forbid(unsafe_code)]

use core::fmt;
use core::hint::black_box;
use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::io::{self, Read as _, Write as _};
use std::process::ExitCode;

use protocol_webhooks::events::Event;
use protocol_webhooks::{Rejection, SIGNATURE_HEADER, WebhookConfig};
use protocol_webhooks_benches::{SECRET, webhook_body};

const USAGE: &str = "usage: loadtest-server --framework <axum|actix-web|warp|rocket|poem> --port <p> [--workers N] [--exit-after SECONDS] [--watch-stdin]
       loadtest-server --print-request";

/// One worker thread: the load generator runs on the machine's other core,
/// and more server threads than free cores would only contend.
const DEFAULT_WORKERS: usize = 1;

/// Long enough for every route of a load test run, short enough that a
/// forgotten server does not linger.
const DEFAULT_EXIT_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framework {
    Axum,
    ActixWeb,
    Warp,
    Rocket,
    Poem,
}

impl Framework {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "axum" => Self::Axum,
            "actix-web" => Self::ActixWeb,
            "warp" => Self::Warp,
            "rocket" => Self::Rocket,
            "poem" => Self::Poem,
            _ => return None,
        })
    }
}

#[derive(Debug)]
struct Options {
    framework: Framework,
    port: u16,
    workers: usize,
    exit_after: Duration,
    watch_stdin: bool,
}

#[derive(Debug)]
enum Command {
    Serve(Options),
    PrintRequest,
}

/// Why the server did not run.
#[derive(Debug)]
enum Error {
    Usage(String),
    Io(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) => write!(f, "{message}\n{USAGE}"),
            Self::Io(error) => write!(f, "{error}"),
        }
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Self::Io(error)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = parse_args(&args).and_then(|command| match command {
        Command::PrintRequest => print_request(),
        Command::Serve(options) => serve(&options),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("loadtest-server: {error}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(args: &[String]) -> Result<Command, Error> {
    let mut framework = None;
    let mut port = None;
    let mut workers = DEFAULT_WORKERS;
    let mut exit_after = DEFAULT_EXIT_AFTER;
    let mut watch_stdin = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| Error::Usage(format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--print-request" => return Ok(Command::PrintRequest),
            "--watch-stdin" => watch_stdin = true,
            "--framework" => {
                let name = value()?;
                framework = Some(
                    Framework::parse(name)
                        .ok_or_else(|| Error::Usage(format!("unknown framework `{name}`")))?,
                );
            }
            "--port" => port = Some(number(arg, value()?)?),
            "--workers" => workers = number(arg, value()?)?,
            "--exit-after" => exit_after = Duration::from_secs(number(arg, value()?)?),
            other => return Err(Error::Usage(format!("unknown argument `{other}`"))),
        }
    }
    let framework =
        framework.ok_or_else(|| Error::Usage(String::from("--framework is required")))?;
    let port = port.ok_or_else(|| Error::Usage(String::from("--port is required")))?;
    if workers == 0 {
        return Err(Error::Usage(String::from("--workers must be at least 1")));
    }
    Ok(Command::Serve(Options {
        framework,
        port,
        workers,
        exit_after,
        watch_stdin,
    }))
}

fn number<T: core::str::FromStr>(name: &str, value: &str) -> Result<T, Error> {
    value
        .parse()
        .map_err(|_| Error::Usage(format!("{name} takes a number, not `{value}`")))
}

/// The signature on one line, then the exact body bytes.
fn print_request() -> Result<(), Error> {
    let body = webhook_body();
    let signature = protocol_webhooks::sign(SECRET, &body)
        .map_err(|error| Error::Io(io::Error::other(error.to_string())))?;
    let mut out = io::stdout().lock();
    out.write_all(signature.as_str().as_bytes())?;
    out.write_all(b"\n")?;
    out.write_all(&body)?;
    out.flush()?;
    Ok(())
}

fn serve(options: &Options) -> Result<(), Error> {
    stop_by_itself(options.exit_after, options.watch_stdin);
    let config = WebhookConfig::new(SECRET)
        .map_err(|error| Error::Io(io::Error::other(error.to_string())))?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let workers = options.workers;
    match options.framework {
        Framework::Axum => tokio_runtime(workers)?.block_on(axum_server::serve(config, address)),
        Framework::ActixWeb => actix_server::serve(config, address, workers),
        Framework::Warp => tokio_runtime(workers)?.block_on(warp_server::serve(config, address)),
        Framework::Rocket => {
            tokio_runtime(workers)?.block_on(rocket_server::serve(config, address, workers))
        }
        Framework::Poem => tokio_runtime(workers)?.block_on(poem_server::serve(config, address)),
    }
}

/// What `#[tokio::main]` builds, with the worker count fixed: the same
/// shape as actix-web's acceptor thread plus workers.
fn tokio_runtime(workers: usize) -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
}

/// Exits at the deadline in any case and, with `--watch-stdin`, as soon as
/// standard input reaches its end: that happens when the process that
/// started the server (and holds the pipe's other end) exits, however it
/// exits, so a load test that is interrupted leaves nothing running.
fn stop_by_itself(deadline: Duration, watch_stdin: bool) {
    if watch_stdin {
        std::thread::spawn(|| {
            let mut sink = [0; 64];
            while matches!(io::stdin().lock().read(&mut sink), Ok(1..)) {}
            std::process::exit(0);
        });
    }
    std::thread::spawn(move || {
        std::thread::sleep(deadline);
        eprintln!("loadtest-server: exiting after {} s", deadline.as_secs());
        std::process::exit(0);
    });
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

fn listening(address: SocketAddr) {
    eprintln!("loadtest-server: listening on http://{address}");
}

mod axum_server {
    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::{FromRequest, Request, State};
    use axum::http::{HeaderValue, StatusCode};
    use axum::routing::post;
    use protocol_webhooks_axum::{RawWebhook, Webhook};

    use super::{
        Error, SIGNATURE_HEADER, SocketAddr, WebhookConfig, black_box, listening, status_of,
    };

    async fn raw(body: Bytes) -> StatusCode {
        black_box(body);
        StatusCode::OK
    }

    async fn verified(Webhook(event): Webhook) -> StatusCode {
        black_box(event);
        StatusCode::OK
    }

    async fn verified_raw(RawWebhook(body): RawWebhook) -> StatusCode {
        black_box(body);
        StatusCode::OK
    }

    /// Reads the header before the body, since `Bytes` consumes the request.
    async fn by_hand(State(config): State<WebhookConfig>, request: Request) -> StatusCode {
        let signature = request.headers().get(SIGNATURE_HEADER).cloned();
        let Ok(body) = Bytes::from_request(request, &()).await else {
            return StatusCode::BAD_REQUEST;
        };
        let outcome = config.verify_event(&body, signature.as_ref().map(HeaderValue::as_bytes));
        StatusCode::from_u16(status_of(outcome)).unwrap_or(StatusCode::BAD_REQUEST)
    }

    pub(super) async fn serve(config: WebhookConfig, address: SocketAddr) -> Result<(), Error> {
        let app = Router::new()
            .route("/raw", post(raw))
            .route("/by-hand", post(by_hand))
            .route("/raw-webhook", post(verified_raw))
            .route("/webhooks", post(verified))
            .with_state(config);
        let listener = tokio::net::TcpListener::bind(address).await?;
        listening(address);
        axum::serve(listener, app).await?;
        Ok(())
    }
}

mod actix_server {
    use actix_web::http::StatusCode;
    use actix_web::http::header::HeaderValue;
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    use protocol_webhooks_actix_web::{RawWebhook, Webhook};

    use super::{
        Error, SIGNATURE_HEADER, SocketAddr, WebhookConfig, black_box, listening, status_of,
    };

    async fn raw(body: web::Bytes) -> HttpResponse {
        black_box(body);
        HttpResponse::Ok().finish()
    }

    async fn verified(Webhook(event): Webhook) -> HttpResponse {
        black_box(event);
        HttpResponse::Ok().finish()
    }

    async fn verified_raw(RawWebhook(body): RawWebhook) -> HttpResponse {
        black_box(body);
        HttpResponse::Ok().finish()
    }

    async fn by_hand(request: HttpRequest, body: web::Bytes) -> HttpResponse {
        let Some(config) = request.app_data::<WebhookConfig>() else {
            return HttpResponse::InternalServerError().finish();
        };
        let signature = request
            .headers()
            .get(SIGNATURE_HEADER)
            .map(HeaderValue::as_bytes);
        let outcome = config.verify_event(&body, signature);
        HttpResponse::new(
            StatusCode::from_u16(status_of(outcome)).unwrap_or(StatusCode::BAD_REQUEST),
        )
    }

    pub(super) fn serve(
        config: WebhookConfig,
        address: SocketAddr,
        workers: usize,
    ) -> Result<(), Error> {
        actix_rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(config.clone())
                    .route("/raw", web::post().to(raw))
                    .route("/by-hand", web::post().to(by_hand))
                    .route("/raw-webhook", web::post().to(verified_raw))
                    .route("/webhooks", web::post().to(verified))
            })
            .workers(workers)
            .bind(address)?;
            listening(address);
            server.run().await?;
            Ok(())
        })
    }
}

mod warp_server {
    use bytes::Bytes;
    use protocol_webhooks_warp::{RawWebhook, Webhook, raw_webhook, recover, webhook};
    use warp::Filter;
    use warp::http::StatusCode;

    use super::{
        Error, SIGNATURE_HEADER, SocketAddr, WebhookConfig, black_box, listening, status_of,
    };

    pub(super) async fn serve(config: WebhookConfig, address: SocketAddr) -> Result<(), Error> {
        // warp has no default body limit; the plain route gets the same one
        // as the webhook route.
        let limit = u64::try_from(config.body_limit()).unwrap_or(u64::MAX);
        let raw = warp::path!("raw")
            .and(warp::post())
            .and(warp::body::content_length_limit(limit))
            .and(warp::body::bytes())
            .map(|body: Bytes| {
                black_box(body);
                StatusCode::OK
            });
        let by_hand_config = config.clone();
        let by_hand = warp::path!("by-hand")
            .and(warp::post())
            .and(warp::header::optional::<String>(SIGNATURE_HEADER))
            .and(warp::body::content_length_limit(limit))
            .and(warp::body::bytes())
            .map(move |signature: Option<String>, body: Bytes| {
                let outcome =
                    by_hand_config.verify_event(&body, signature.as_ref().map(String::as_bytes));
                StatusCode::from_u16(status_of(outcome)).unwrap_or(StatusCode::BAD_REQUEST)
            });
        let verified_raw = warp::path!("raw-webhook")
            .and(warp::post())
            .and(raw_webhook(config.clone()))
            .map(|RawWebhook(body): RawWebhook| {
                black_box(body);
                StatusCode::OK
            })
            .recover(recover);
        let verified = warp::path!("webhooks")
            .and(warp::post())
            .and(webhook(config))
            .map(|Webhook(event): Webhook| {
                black_box(event);
                StatusCode::OK
            })
            .recover(recover);
        let listener = tokio::net::TcpListener::bind(address).await?;
        listening(address);
        warp::serve(raw.or(by_hand).or(verified_raw).or(verified))
            .incoming(listener)
            .run()
            .await;
        Ok(())
    }
}

mod rocket_server {
    use core::convert::Infallible;

    use protocol_webhooks_rocket::{RawWebhook, Webhook, WebhookFairing};
    use rocket::State;
    use rocket::data::Capped;
    use rocket::http::Status;
    use rocket::outcome::Outcome;
    use rocket::request::{self, FromRequest, Request};

    use super::{
        Error, SIGNATURE_HEADER, SocketAddr, WebhookConfig, black_box, listening, status_of,
    };

    /// `Capped` tells a complete body from one cut at Rocket's `bytes`
    /// limit (8 KiB by default, well above the body sent).
    #[rocket::post("/raw", data = "<body>")]
    fn raw(body: Capped<Vec<u8>>) -> Status {
        if body.is_complete() {
            black_box(body);
            Status::Ok
        } else {
            Status::PayloadTooLarge
        }
    }

    #[rocket::post("/webhooks", data = "<webhook>")]
    fn verified(webhook: Webhook) -> Status {
        black_box(webhook);
        Status::Ok
    }

    #[rocket::post("/raw-webhook", data = "<webhook>")]
    fn verified_raw(webhook: RawWebhook) -> Status {
        black_box(webhook);
        Status::Ok
    }

    /// The signature header as a request guard, the way a Rocket handler
    /// reads a header.
    #[derive(Debug, Clone, Copy)]
    struct SignatureHeader<'r>(Option<&'r str>);

    #[rocket::async_trait]
    impl<'r> FromRequest<'r> for SignatureHeader<'r> {
        type Error = Infallible;

        async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Infallible> {
            Outcome::Success(Self(request.headers().get_one(SIGNATURE_HEADER)))
        }
    }

    #[rocket::post("/by-hand", data = "<body>")]
    fn by_hand(
        config: &State<WebhookConfig>,
        signature: SignatureHeader<'_>,
        body: Capped<Vec<u8>>,
    ) -> Status {
        if !body.is_complete() {
            return Status::PayloadTooLarge;
        }
        let body = body.into_inner();
        let outcome = config.verify_event(&body, signature.0.map(str::as_bytes));
        Status::new(status_of(outcome))
    }

    pub(super) async fn serve(
        config: WebhookConfig,
        address: SocketAddr,
        workers: usize,
    ) -> Result<(), Error> {
        // Logging off: Rocket logs every request by default, which would
        // cost more than what is measured.
        let settings = rocket::Config {
            address: address.ip(),
            port: address.port(),
            workers,
            log_level: rocket::config::LogLevel::Off,
            ..rocket::Config::release_default()
        };
        listening(address);
        rocket::custom(settings)
            .attach(WebhookFairing::new(config))
            .mount("/", rocket::routes![raw, by_hand, verified_raw, verified])
            .launch()
            .await
            .map_err(|error| Error::Io(std::io::Error::other(error.to_string())))?;
        Ok(())
    }
}

mod poem_server {
    use bytes::Bytes;
    use poem::http::{HeaderValue, StatusCode};
    use poem::listener::TcpListener;
    use poem::web::Data;
    use poem::{EndpointExt, Request, Route, Server, handler, post};
    use protocol_webhooks_poem::{RawWebhook, Webhook};

    use super::{
        Error, SIGNATURE_HEADER, SocketAddr, WebhookConfig, black_box, listening, status_of,
    };

    #[handler]
    async fn raw(body: Bytes) -> StatusCode {
        black_box(body);
        StatusCode::OK
    }

    #[handler]
    async fn verified(Webhook(event): Webhook) -> StatusCode {
        black_box(event);
        StatusCode::OK
    }

    #[handler]
    async fn verified_raw(RawWebhook(body): RawWebhook) -> StatusCode {
        black_box(body);
        StatusCode::OK
    }

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
        StatusCode::from_u16(status_of(outcome)).unwrap_or(StatusCode::BAD_REQUEST)
    }

    pub(super) async fn serve(config: WebhookConfig, address: SocketAddr) -> Result<(), Error> {
        let app = Route::new()
            .at("/raw", post(raw))
            .at("/by-hand", post(by_hand))
            .at("/raw-webhook", post(verified_raw))
            .at("/webhooks", post(verified))
            .data(config);
        listening(address);
        Server::new(TcpListener::bind(address)).run(app).await?;
        Ok(())
    }
}
