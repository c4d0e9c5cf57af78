//! `send`: POSTs signed sample events, or a file, to a receiver and reports
//! each answer.
//!
//! # Report lines
//!
//! Standard output gets exactly one line per request, printed as soon as its
//! answer arrives, and nothing else (errors and the summary go to stderr):
//!
//! ```text
//! <type>  <status>  <latency> ms  <body>
//! message.created       200     12 ms  {"id":"evt_5f0c...","type":"message.created",...}
//! ```
//!
//! - `<type>`: the event type (for `--file`, the file's `"type"` when it is a
//!   plain token, else `file`), left-aligned in 20 columns; never contains
//!   whitespace.
//! - `<status>`: the 3-digit HTTP status, or `---` when no answer came back.
//! - `<latency>`: whole milliseconds from sending until the end of the answer
//!   (or the failure), right-aligned in 5 columns, followed by ` ms`.
//! - `<body>`: the answer body on one line (control characters as spaces),
//!   cut to 80 characters plus `...`; absent when empty. With status `---`
//!   it is the reason instead, e.g. `connection refused`.
//!
//! So `line.split_whitespace()` yields the type, the status, the latency,
//! the literal `ms`, then the words of the body. The line has no trailing
//! whitespace.
//!
//! # Exit status
//!
//! 0 when every answer is the expected one (any 2xx; 401 with `--tamper` or
//! `--unsigned`). 1 when some answer is not, or when a request gets no answer
//! at all, which also stops the run. 2 on usage errors.

mod client;
mod event_id;
mod line;
mod signing;

use core::fmt;
use std::io::{self, Write as _};
use std::path::PathBuf;

use protocol_webhooks::events::EventType;
use protocol_webhooks::samples::sample_body;
use ureq::http::Uri;

use crate::catalog::event_type_parser;
use crate::error::CliError;
use crate::input::Source;
use crate::secret::SecretArgs;

pub(crate) use client::{Client, Headers, TransportError};
pub(crate) use signing::Expectation;

use line::{Line, label_or};
use signing::Signing;

/// Arguments of `send`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Prints one line per request: <type>  <status>  <latency> ms  <body>
(status `---` when no answer came back; body cut to 80 characters, on one line).
Exits 0 when every answer is the expected one: any 2xx, or 401 with --tamper or --unsigned.
Each request has a 10 s time limit; the first request without an answer stops the run.

Example: protocol-webhooks send http://127.0.0.1:3000/webhooks --all")]
pub(crate) struct Args {
    /// The receiver's URL, e.g. http://127.0.0.1:3000/webhooks. Plain http://
    /// only: this tool has no TLS, for receivers under test on your machine
    #[arg(value_name = "URL", value_parser = parse_url)]
    url: Uri,

    #[command(flatten)]
    secret: SecretArgs,

    #[command(flatten)]
    selection: Selection,

    /// Sign, then change one byte of the body: the receiver should answer 401
    #[arg(long, conflicts_with = "unsigned")]
    tamper: bool,

    /// Send no x-protocol-signature header: the receiver should answer 401.
    /// Needs no secret
    #[arg(long)]
    unsigned: bool,
}

/// What to send: exactly one of the three.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct Selection {
    /// Send a sample event of TYPE with a fresh id (types: `protocol-webhooks events`)
    #[arg(
        long,
        value_name = "TYPE",
        value_parser = event_type_parser(),
        hide_possible_values = true
    )]
    event: Option<EventType>,

    /// Send FILE's exact bytes (`-` for standard input)
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,

    /// Send a sample of each of the 15 documented types, each with a fresh id
    #[arg(long)]
    all: bool,
}

/// One body to deliver, before signing.
#[derive(Debug)]
struct Delivery {
    label: String,
    body: Vec<u8>,
}

/// Sends each body in turn and prints one report line per request.
pub(crate) fn run(args: &Args) -> Result<(), CliError> {
    let signing = signing(args)?;
    let deliveries = deliveries(&args.selection)?;
    let expectation = signing.expectation();
    let client = Client::new();
    let total = deliveries.len();
    let mut unexpected = 0;
    let mut out = io::stdout().lock();
    for (index, delivery) in deliveries.into_iter().enumerate() {
        let mut body = delivery.body;
        let signature = signing.apply(&mut body);
        let (answer, latency) = client.post(&args.url, &body, signature.as_deref());
        let (status, shown): (Option<u16>, &[u8]) = match &answer {
            Ok(answer) => (Some(answer.status), &answer.body),
            Err(error) => (None, error.short().as_bytes()),
        };
        let line = Line {
            label: &delivery.label,
            status,
            latency,
            body: shown,
        };
        writeln!(out, "{line}").map_err(CliError::WriteOutput)?;
        match answer {
            Ok(answer) if !expectation.is_met_by(answer.status) => unexpected += 1,
            Ok(_) => {}
            // Without an answer the receiver is most likely down, and every
            // further request would only wait for its own timeout.
            Err(error) => {
                return Err(CliError::Unreachable {
                    url: args.url.to_string(),
                    error,
                    unsent: total - index - 1,
                });
            }
        }
    }
    if unexpected == 0 {
        Ok(())
    } else {
        Err(CliError::UnexpectedAnswers {
            unexpected,
            total,
            expected: expectation,
        })
    }
}

fn signing(args: &Args) -> Result<Signing, CliError> {
    if args.unsigned {
        return Ok(Signing::Unsigned);
    }
    let key = args.secret.key()?;
    Ok(if args.tamper {
        Signing::Tampered(key)
    } else {
        Signing::Valid(key)
    })
}

fn deliveries(selection: &Selection) -> Result<Vec<Delivery>, CliError> {
    if let Some(path) = &selection.file {
        let body = Source::from_arg(Some(path)).read()?;
        let label = label_or(declared_type(&body).as_deref(), "file").to_owned();
        return Ok(vec![Delivery { label, body }]);
    }
    let types: &[EventType] = match &selection.event {
        Some(event_type) => core::slice::from_ref(event_type),
        None => &EventType::KNOWN,
    };
    Ok(types.iter().map(sample).collect())
}

/// A sample body with a fresh id, so receivers that de-duplicate accept it.
fn sample(event_type: &EventType) -> Delivery {
    Delivery {
        label: event_type.as_str().to_owned(),
        body: sample_body(event_type, &event_id::fresh()),
    }
}

/// The `"type"` of a JSON body, if it has one.
fn declared_type(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("type")?.as_str().map(str::to_owned)
}

/// Why a URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlError {
    /// Not a URL with a host.
    Invalid,
    /// `https://`, which this build cannot speak.
    Https,
    /// Another scheme, or none.
    NotHttp,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Invalid => "not a URL, expected e.g. http://127.0.0.1:3000/webhooks",
            Self::Https => {
                "https:// is not supported: this tool speaks plain http://, for receivers under test"
            }
            Self::NotHttp => "expected an http:// URL, e.g. http://127.0.0.1:3000/webhooks",
        })
    }
}

impl core::error::Error for UrlError {}

/// Parses a plain `http://` URL with a host, as `send` and
/// `listen --forward-to` take it.
pub(crate) fn parse_url(text: &str) -> Result<Uri, UrlError> {
    // The scheme is checked first so that `localhost:3000/webhooks` gets the
    // helpful message rather than "not a URL".
    match text.split_once("://") {
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("http") => {}
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => return Err(UrlError::Https),
        _ => return Err(UrlError::NotHttp),
    }
    let uri: Uri = text.parse().map_err(|_| UrlError::Invalid)?;
    match uri.host() {
        Some(host) if !host.is_empty() => Ok(uri),
        _ => Err(UrlError::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_with_a_host() {
        let uri = parse_url("http://127.0.0.1:3000/webhooks").expect("valid");
        assert_eq!(uri.port_u16(), Some(3000));
        assert!(parse_url("HTTP://localhost/x").is_ok());
        assert_eq!(parse_url("https://example.com/"), Err(UrlError::Https));
        assert_eq!(parse_url("ftp://example.com/"), Err(UrlError::NotHttp));
        assert_eq!(parse_url("127.0.0.1:3000/webhooks"), Err(UrlError::NotHttp));
        assert_eq!(parse_url("http://"), Err(UrlError::Invalid));
        assert_eq!(parse_url("not a url"), Err(UrlError::NotHttp));
        assert_eq!(parse_url("http://exa mple/"), Err(UrlError::Invalid));
    }

    #[test]
    fn every_sample_gets_a_fresh_id() {
        let all = Selection {
            event: None,
            file: None,
            all: true,
        };
        let deliveries = deliveries(&all).expect("samples");
        assert_eq!(deliveries.len(), 15);
        let ids: std::collections::HashSet<String> = deliveries
            .iter()
            .map(|delivery| {
                let value: serde_json::Value =
                    serde_json::from_slice(&delivery.body).expect("json");
                assert_eq!(value["type"], delivery.label.as_str());
                value["id"].as_str().expect("id").to_owned()
            })
            .collect();
        assert_eq!(ids.len(), 15);
    }

    #[test]
    fn declared_type_of_a_file() {
        assert_eq!(declared_type(br#"{"type":"x.y"}"#).as_deref(), Some("x.y"));
        assert_eq!(declared_type(b"not json"), None);
        assert_eq!(declared_type(br#"{"type":1}"#), None);
    }
}
