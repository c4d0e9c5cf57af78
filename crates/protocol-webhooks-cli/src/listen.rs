//! `listen`: a local webhook receiver for development, which verifies each
//! request exactly as the library does, prints one line about it, and can
//! forward what it accepts to the receiver under development.
//!
//! # Lines
//!
//! Standard error gets the ready line first,
//! `Ready: listening on http://127.0.0.1:PORT/ (Ctrl-C to stop)`, then
//! notices and warnings. Standard output gets exactly one line per request,
//! once it is answered:
//!
//! ```text
//! <time>  <type>  <id>  <resource id>  <verdict>[  → <forward>]
//! 2024-02-29T10:01:02Z  message.created       evt_5f0c1d2e3a4b5c6d  a056V7R7NmNRjl70  accepted  → 200
//! 2024-02-29T10:01:03Z  -                     -                     -                 refused signature_mismatch
//! ```
//!
//! - `<time>`: when the request arrived, UTC, RFC 3339 to the second.
//! - `<type>`, `<id>`, `<resource id>`: the event's, or `-` when the request
//!   was refused (its bytes are not authentic, so they are not parsed) or
//!   the event has no resource id. Anything but printable ASCII shows as `?`.
//! - `<verdict>`: `accepted` (answered 200) or `refused <reason>`, where the
//!   reason is the core's `Answer::reason()`.
//! - `<forward>`: with `--forward-to`, the forward target's 3-digit status,
//!   or one word when no answer came back: `connection_refused`,
//!   `timed_out`, `host_not_found` or `request_failed`.
//!
//! With `--json` each line is instead one JSON object with the fields
//! `time`, `type`, `id`, `resource_id`, `verdict`, `reason`, `status` (the
//! answer's), `forward_status` and `forward_error`, absent ones `null`.
//!
//! # Answers
//!
//! Any path is accepted. A request is answered exactly as the adapters
//! answer it: a refusal with the core's `Answer` (status, headers, JSON
//! body); an authentic event with 200 and
//! `{"id":...,"type":...,"resource_id":...}`. Only accepted events are
//! forwarded, with their exact bytes, `x-protocol-signature` and
//! `content-type`; the answer waits for the forward (at most
//! [`FORWARD_TIMEOUT`]) and does not depend on it.

pub(crate) mod line;

use alloc::sync::Arc;
use core::convert::Infallible;
use core::fmt;
use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::io::{self, Write as _};
use std::sync::Mutex;
use std::time::SystemTime;

use axum_core::body::Body;
use axum_core::extract::FromRequest as _;
use axum_core::response::{IntoResponse as _, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use protocol_webhooks::events::Event;
use protocol_webhooks::{Answer, SIGNATURE_HEADER, WebhookConfig};
use protocol_webhooks_axum::{RawWebhook, WebhookRejection};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use ureq::http::Uri;

use crate::error::CliError;
use crate::secret::SecretArgs;
use crate::send::{Client, Headers, parse_url};

use line::{Forwarded, Line, Verdict};

/// The port used unless `--port` says otherwise.
const DEFAULT_PORT: u16 = 4242;
/// How long a client may take to send a request's head; also how long an
/// idle kept-alive connection stays open.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request's body may take to arrive after its head.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a forward may take: less than `send`'s own 10 s, so that a
/// stalled forward target does not cost the sender its answer.
pub(crate) const FORWARD_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a failed accept (such as too many open files), so that the
/// loop does not spin while the cause lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Arguments of `listen`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Answers POST on any path on 127.0.0.1 as a receiver built on this library would, and prints
one line per request on standard output:
  <time>  <type>  <id>  <resource id>  accepted|refused <reason>[  → <forward status or error>]
(`-` for the fields of a refused request). The ready line, naming the URL, goes to standard
error. With --forward-to, each accepted webhook is re-sent byte for byte, with its signature
and content-type, and the answer to the sender waits for it (at most 5 s); refused requests
are not forwarded. Ctrl-C stops after answering the requests in progress.

Example: protocol-webhooks listen --forward-to http://127.0.0.1:3000/webhooks")]
pub(crate) struct Args {
    /// The port to listen on, on 127.0.0.1; 0 picks a free one
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_PORT)]
    port: u16,

    #[command(flatten)]
    secret: SecretArgs,

    /// Re-send each accepted webhook to URL, e.g. http://127.0.0.1:3000/webhooks
    /// (plain http:// only), and show its status on the line
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    forward_to: Option<Uri>,

    /// Print one JSON object per request instead of a text line
    #[arg(long)]
    json: bool,
}

/// Serves until Ctrl-C (or SIGTERM), or until standard output is gone.
pub(crate) fn run(args: &Args) -> Result<(), CliError> {
    let config = WebhookConfig::from_key(args.secret.key()?).with_body_timeout(BODY_TIMEOUT);
    let state = Arc::new(State {
        config,
        forward: args.forward_to.clone().map(|url| Forward {
            url,
            client: Arc::new(Client::with_timeout(FORWARD_TIMEOUT)),
        }),
        json: args.json,
        output_error: Mutex::new(None),
        output_failed: Notify::new(),
    });
    // One thread is plenty for a development receiver; the blocking
    // forwards run on tokio's blocking pool, off that thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(serve(args.port, Arc::clone(&state)))?;
    let failed = state
        .output_error
        .lock()
        .ok()
        .and_then(|mut error| error.take());
    match failed {
        Some(error) => Err(CliError::WriteOutput(error)),
        None => {
            notice(format_args!("Stopped"));
            Ok(())
        }
    }
}

/// What every request needs.
#[derive(Debug)]
struct State {
    config: WebhookConfig,
    forward: Option<Forward>,
    json: bool,
    /// The first failure to write a line; it stops the server.
    output_error: Mutex<Option<io::Error>>,
    output_failed: Notify,
}

/// Where accepted webhooks go.
#[derive(Debug)]
struct Forward {
    url: Uri,
    client: Arc<Client>,
}

async fn serve(port: u16, state: Arc<State>) -> Result<(), CliError> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = TcpListener::bind(address)
        .await
        .map_err(|error| CliError::Listen { address, error })?;
    let address = listener
        .local_addr()
        .map_err(|error| CliError::Listen { address, error })?;
    let mut stop = Stop::new().map_err(CliError::Signals)?;
    notice(format_args!(
        "Ready: listening on http://{address}/ (Ctrl-C to stop)"
    ));
    if let Some(forward) = &state.forward {
        notice(format_args!(
            "Forwarding accepted webhooks to {}",
            forward.url
        ));
    }

    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                };
                let state = Arc::clone(&state);
                let service = service_fn(move |request| {
                    let state = Arc::clone(&state);
                    async move { Ok::<_, Infallible>(answer(&state, request).await) }
                });
                let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    // A client that goes away or times out only ends its
                    // own connection; its request, if any, has its line.
                    let _ = connection.await;
                });
            }
            () = stop.requested() => break,
            () = state.output_failed.notified() => break,
        }
    }
    drop(listener);
    // Requests in progress are answered and idle connections close at
    // once; the header, body and forward deadlines bound the wait, and a
    // second Ctrl-C ends it.
    tokio::select! {
        () = graceful.shutdown() => {}
        () = stop.requested() => {}
    }
    Ok(())
}

/// Answers one request and prints its line.
async fn answer(state: &State, request: hyper::Request<Incoming>) -> Response {
    let received_at = SystemTime::now();
    if request.method() != Method::POST {
        return refuse(state, received_at, WebhookRejection::method_not_allowed());
    }
    let headers = ReceivedHeaders::of(request.headers());
    let request = request.map(Body::new);
    let body = match RawWebhook::from_request(request, &state.config).await {
        Ok(RawWebhook(body)) => body,
        Err(rejection) => return refuse(state, received_at, rejection),
    };
    // Authentic bytes that are not an event get the same answer as from
    // the `Webhook` extractor: 400 `invalid_event`.
    let event = match body.parse() {
        Ok(event) => event,
        Err(error) => {
            return refuse(
                state,
                received_at,
                WebhookRejection::from(Answer::from(error)),
            );
        }
    };
    let forwarded = match &state.forward {
        Some(forward) => Some(forward.send(body.into_bytes(), headers).await),
        None => None,
    };
    state.print(&Line {
        received_at,
        event_type: Some(event.event_type.as_str()),
        event_id: Some(&event.id),
        resource_id: event.resource_id(),
        verdict: Verdict::Accepted,
        forwarded,
    });
    accepted(&event)
}

fn refuse(state: &State, received_at: SystemTime, rejection: WebhookRejection) -> Response {
    let answer = rejection.answer();
    state.print(&Line {
        received_at,
        event_type: None,
        event_id: None,
        resource_id: None,
        verdict: Verdict::Refused {
            reason: answer.reason(),
            status: answer.status(),
        },
        forwarded: None,
    });
    rejection.into_response()
}

/// 200 with the event's summary, as the example receivers answer.
fn accepted(event: &Event) -> Response {
    let summary = serde_json::json!({
        "id": event.id,
        "type": event.event_type.as_str(),
        "resource_id": event.resource_id(),
    });
    let mut response = Response::new(Body::from(summary.to_string()));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The headers a forward repeats.
#[derive(Debug)]
struct ReceivedHeaders {
    content_type: Option<HeaderValue>,
    signature: Option<HeaderValue>,
}

impl ReceivedHeaders {
    fn of(headers: &HeaderMap) -> Self {
        Self {
            content_type: headers.get(CONTENT_TYPE).cloned(),
            // An accepted request has exactly one: the core refuses a
            // repeated signature header.
            signature: headers.get(SIGNATURE_HEADER).cloned(),
        }
    }
}

impl Forward {
    /// Re-sends the exact bytes; the blocking client runs off the server's
    /// thread.
    async fn send(&self, body: Vec<u8>, headers: ReceivedHeaders) -> Forwarded {
        let client = Arc::clone(&self.client);
        let url = self.url.clone();
        let sent = tokio::task::spawn_blocking(move || {
            let headers = Headers {
                content_type: headers.content_type.as_ref().map(HeaderValue::as_bytes),
                signature: headers.signature.as_ref().map(HeaderValue::as_bytes),
            };
            client.forward(&url, &body, &headers)
        })
        .await;
        match sent {
            Ok(Ok(answer)) => Forwarded::Status(answer.status),
            Ok(Err(error)) => {
                notice(format_args!(
                    "warning: cannot forward to {}: {error}",
                    self.url
                ));
                Forwarded::Failed(error.code())
            }
            // The client panicked: a bug, reported as a failed forward
            // rather than taking the server down.
            Err(_) => Forwarded::Failed("request_failed"),
        }
    }
}

impl State {
    /// Writes one line; the first failure stops the server, since nobody
    /// would see what it answers.
    fn print(&self, line: &Line<'_>) {
        let text = if self.json {
            line.to_json()
        } else {
            line.to_string()
        };
        if let Err(error) = writeln!(io::stdout().lock(), "{text}") {
            if let Ok(mut first) = self.output_error.lock() {
                first.get_or_insert(error);
            }
            self.output_failed.notify_one();
        }
    }
}

/// Ctrl-C, and SIGTERM on Unix: registered before the ready line, so that
/// a signal sent as soon as it appears stops the server gracefully instead
/// of killing it.
#[derive(Debug)]
struct Stop {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
}

impl Stop {
    fn new() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(windows)]
        {
            Ok(Self {
                ctrl_c: tokio::signal::windows::ctrl_c()?,
            })
        }
    }

    /// Resolves at the next signal; cancel-safe.
    async fn requested(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(windows)]
        {
            let _ = self.ctrl_c.recv().await;
        }
    }
}

/// A line on standard error; nothing more can be done if it is gone.
fn notice(message: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{message}");
}
