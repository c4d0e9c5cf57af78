//! The server that the `loadtest` binary (`cargo xtask loadtest`) drives
//! with wrk: one framework at a time on 127.0.0.1, serving its routes side
//! by side.
//!
//! The routes and their handlers are `protocol_webhooks_benches::apps`
//! (see its `routes`): `POST /raw` (the framework's plain bytes, nothing
//! verified: the framework's own cost) and `POST /webhooks` (the adapter's
//! `Webhook`) are the two compared; `/by-hand` (`verify_event` called on
//! the plain bytes), `/raw-webhook` (`RawWebhook`: verification, no parse)
//! and `/json-checked` (`RawWebhook` plus a JSON syntax check, no model)
//! tell where the difference between them goes.
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
use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::io::{self, Read as _, Write as _};
use std::process::ExitCode;

use protocol_webhooks::WebhookConfig;
use protocol_webhooks_benches::apps::{actix_apps, axum_apps, poem_apps, rocket_apps, warp_apps};
use protocol_webhooks_benches::{FRAMEWORKS, SECRET, webhook_body};

const USAGE: &str = "usage: loadtest-server --framework F --port <p> [--workers N] [--exit-after SECONDS] [--watch-stdin]
       loadtest-server --print-request
F is one of: ";

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
    /// In the order of [`FRAMEWORKS`], which names them.
    const ALL: [Self; 5] = [
        Self::Axum,
        Self::ActixWeb,
        Self::Warp,
        Self::Rocket,
        Self::Poem,
    ];

    fn parse(name: &str) -> Result<Self, String> {
        let position = FRAMEWORKS.iter().position(|known| *known == name);
        position
            .map(|index| Self::ALL[index])
            .ok_or_else(|| format!("expected one of {}", FRAMEWORKS.join(", ")))
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
            Self::Usage(message) => write!(f, "{message}\n{USAGE}{}", FRAMEWORKS.join(", ")),
            Self::Io(error) => write!(f, "{error}"),
        }
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Self::Io(error)
    }
}

impl From<pico_args::Error> for Error {
    fn from(error: pico_args::Error) -> Self {
        Self::Usage(error.to_string())
    }
}

fn main() -> ExitCode {
    let result = parse_args(pico_args::Arguments::from_env()).and_then(|command| match command {
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

fn parse_args(mut args: pico_args::Arguments) -> Result<Command, Error> {
    if args.contains("--print-request") {
        return Ok(Command::PrintRequest);
    }
    let number = |text: &str| text.parse::<u64>().map_err(|error| error.to_string());
    let options = Options {
        framework: args.value_from_fn("--framework", Framework::parse)?,
        port: args.value_from_str("--port")?,
        workers: args
            .opt_value_from_str("--workers")?
            .unwrap_or(DEFAULT_WORKERS),
        exit_after: args
            .opt_value_from_fn("--exit-after", number)?
            .map_or(DEFAULT_EXIT_AFTER, Duration::from_secs),
        watch_stdin: args.contains("--watch-stdin"),
    };
    if let Some(unknown) = args.finish().first() {
        let unknown = unknown.to_string_lossy();
        return Err(Error::Usage(format!("unknown argument `{unknown}`")));
    }
    if options.workers == 0 {
        return Err(Error::Usage(String::from("--workers must be at least 1")));
    }
    Ok(Command::Serve(options))
}

/// The signature on one line, then the exact body bytes.
fn print_request() -> Result<(), Error> {
    let body = webhook_body();
    let signature = protocol_webhooks::sign(SECRET, &body)
        .map_err(|error| Error::Io(io::Error::other(error.to_string())))?
        .to_hex();
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
        Framework::Axum => tokio_runtime(workers)?.block_on(serve_axum(config, address)),
        Framework::ActixWeb => serve_actix(config, address, workers),
        Framework::Warp => tokio_runtime(workers)?.block_on(serve_warp(config, address)),
        Framework::Rocket => {
            tokio_runtime(workers)?.block_on(serve_rocket(config, address, workers))
        }
        Framework::Poem => tokio_runtime(workers)?.block_on(serve_poem(config, address)),
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

fn listening(address: SocketAddr) {
    eprintln!("loadtest-server: listening on http://{address}");
}

async fn serve_axum(config: WebhookConfig, address: SocketAddr) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    listening(address);
    axum::serve(listener, axum_apps::server(config)).await?;
    Ok(())
}

fn serve_actix(config: WebhookConfig, address: SocketAddr, workers: usize) -> Result<(), Error> {
    use actix_web::{App, HttpServer};

    actix_rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(config.clone())
                .configure(actix_apps::server)
        })
        .workers(workers)
        .bind(address)?;
        listening(address);
        server.run().await?;
        Ok(())
    })
}

async fn serve_warp(config: WebhookConfig, address: SocketAddr) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    listening(address);
    warp::serve(warp_apps::server(config))
        .incoming(listener)
        .run()
        .await;
    Ok(())
}

async fn serve_rocket(
    config: WebhookConfig,
    address: SocketAddr,
    workers: usize,
) -> Result<(), Error> {
    let settings = rocket::Config {
        address: address.ip(),
        port: address.port(),
        workers,
        ..rocket::Config::release_default()
    };
    listening(address);
    rocket_apps::server(config, settings)
        .launch()
        .await
        .map_err(|error| Error::Io(io::Error::other(error.to_string())))?;
    Ok(())
}

async fn serve_poem(config: WebhookConfig, address: SocketAddr) -> Result<(), Error> {
    use poem::Server;
    use poem::listener::TcpListener;

    listening(address);
    Server::new(TcpListener::bind(address))
        .run(poem_apps::server(config))
        .await?;
    Ok(())
}
