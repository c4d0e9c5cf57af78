//! `framing [--framework F]...`: sends each of a list of requests whose
//! framing the HTTP library decides on (before any adapter code runs) to
//! the five example receivers (`examples/`) over a raw socket, and prints a
//! Markdown table of what each answered: the status, `closed` (the
//! connection ended with no answer), `no answer in 5 s`, `reset`, or
//! `HTTP/2 frames`; a status marked `adapter` came with the contract's
//! JSON body, so the request reached the adapter, and an unmarked one was
//! the HTTP library's own. Two more rows time the slow-client deadlines: a head
//! trickled one byte every 2 s, and a kept-alive connection left idle after
//! an answer. The last row counts the framework's own log lines at WARN or
//! ERROR during the run.
//!
//! ```sh
//! cargo run --release --manifest-path benches/Cargo.toml --bin framing
//! ```
//!
//! It builds the examples in release in the main workspace, starts each on
//! a free 127.0.0.1 port and stops them at the end. Only 127.0.0.1 is
//! contacted.

#![forbid(unsafe_code)]

use core::net::SocketAddr;
use core::time::Duration;
use std::io::{self, ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::process::ExitCode;
use std::thread;
use std::time::Instant;

use protocol_webhooks_benches::FRAMEWORKS;
use protocol_webhooks_benches::receivers::{self, Receiver};

/// How long to wait for an answer to a malformed request.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the deadline rows wait before reporting `open`.
const DEADLINE_WATCH: Duration = Duration::from_secs(25);
/// The trickled head's pace.
const TRICKLE_INTERVAL: Duration = Duration::from_secs(2);

/// A body the receivers refuse with 401 (its signature is all zeros) once
/// it reaches them: any other answer was decided before the adapter.
const BODY: &[u8] = br#"{"id":"evt_framing","type":"ping","payload":{}}"#;

/// The head of a `POST /webhooks` with a wrong signature, without its
/// final empty line, so that each case adds its framing headers.
fn head() -> String {
    format!(
        "POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         x-protocol-signature: {}\r\nConnection: close\r\n",
        "0".repeat(64)
    )
}

fn chunked(body: &[u8], extension: &str) -> Vec<u8> {
    let mut chunks = format!("{:x}{extension}\r\n", body.len()).into_bytes();
    chunks.extend_from_slice(body);
    chunks.extend_from_slice(b"\r\n0\r\n\r\n");
    chunks
}

fn request(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!("{}{headers}\r\n", head()).into_bytes();
    request.extend_from_slice(body);
    request
}

/// The cases: a name for the table and the bytes sent.
fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let length = BODY.len();
    vec![
        (
            "valid framing, wrong signature (reaches the adapter)",
            request(&format!("Content-Length: {length}\r\n"), BODY),
        ),
        (
            "`GET /webhooks` (wrong method)",
            b"GET /webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        (
            "`Content-Length: 4` and `Transfer-Encoding: chunked`, signed chunked body",
            {
                // Signed for the chunked reading: 200 means the chunked
                // framing won, 401 that the first 4 bytes were read.
                let mut request = receivers::signed_request("/webhooks", BODY, false);
                let head_end = request
                    .windows(4)
                    .position(|window| window == b"\r\n\r\n")
                    .unwrap_or(0);
                let head = String::from_utf8_lossy(&request[..head_end])
                    .replace(&format!("Content-Length: {length}"), "Content-Length: 4");
                request = format!("{head}\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
                request.extend_from_slice(&chunked(BODY, ""));
                request
            },
        ),
        (
            "two identical `Content-Length`",
            request(
                &format!("Content-Length: {length}\r\nContent-Length: {length}\r\n"),
                BODY,
            ),
        ),
        (
            "two different `Content-Length`",
            request(
                &format!(
                    "Content-Length: {length}\r\nContent-Length: {}\r\n",
                    length + 1
                ),
                BODY,
            ),
        ),
        (
            "`Transfer-Encoding: gzip, chunked`",
            request("Transfer-Encoding: gzip, chunked\r\n", &chunked(BODY, "")),
        ),
        (
            "`Transfer-Encoding: chunked, chunked`",
            request(
                "Transfer-Encoding: chunked, chunked\r\n",
                &chunked(BODY, ""),
            ),
        ),
        (
            "100 KB chunk extension",
            request(
                "Transfer-Encoding: chunked\r\n",
                &chunked(BODY, &format!(";ext={}", "a".repeat(100_000))),
            ),
        ),
        (
            "HTTP/2 prior knowledge (`PRI * HTTP/2.0` preface)",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        ),
        (
            "100 KB header line",
            request(
                &format!(
                    "X-Padding: {}\r\nContent-Length: {length}\r\n",
                    "a".repeat(100_000)
                ),
                BODY,
            ),
        ),
    ]
}

/// What came back, as the table shows it.
fn answer(address: SocketAddr, bytes: &[u8]) -> String {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return String::from("cannot connect");
    };
    let _ = stream.set_read_timeout(Some(ANSWER_TIMEOUT));
    // A server may answer and close before reading everything.
    let _ = stream.write_all(bytes);
    let mut received = Vec::new();
    let mut buffer = [0; 16 * 1024];
    let outcome = loop {
        match stream.read(&mut buffer) {
            Ok(0) => break None,
            Ok(read) => received.extend_from_slice(&buffer[..read]),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break Some("no answer in 5 s");
            }
            Err(error) if error.kind() == ErrorKind::ConnectionReset => break Some("reset"),
            Err(_) => break Some("read error"),
        }
    };
    describe(&received).unwrap_or_else(|| outcome.unwrap_or("closed").to_owned())
}

/// The status of an HTTP/1 answer (with `Allow` for a 405), or a note
/// that the server spoke HTTP/2.
fn describe(received: &[u8]) -> Option<String> {
    if received.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(received);
    let Some(status) = text.strip_prefix("HTTP/1.").and_then(|rest| rest.get(2..5)) else {
        return Some(String::from("HTTP/2 frames"));
    };
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // The contract's JSON body: the answer came from the adapter.
    let status = if body.contains("\"type\":\"invalid_request\"") {
        format!("{status} adapter")
    } else {
        status.to_owned()
    };
    let allow = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("allow")
            .then(|| value.trim().to_owned())
    });
    Some(match allow {
        Some(allow) => format!("{status} (`Allow: {allow}`)"),
        None => status,
    })
}

/// Sends a head one byte every [`TRICKLE_INTERVAL`] and says when the
/// server closed the connection, and what it answered.
fn trickled_head(address: SocketAddr) -> String {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return String::from("cannot connect");
    };
    let started = Instant::now();
    let head = format!("{}X-Padding: {}", head(), "a".repeat(200));
    let _ = stream.set_read_timeout(Some(TRICKLE_INTERVAL));
    let mut received = Vec::new();
    for byte in head.as_bytes() {
        if started.elapsed() >= DEADLINE_WATCH {
            break;
        }
        if stream.write_all(&[*byte]).is_err() {
            return format!("closed at {:.1} s", started.elapsed().as_secs_f64());
        }
        let mut buffer = [0; 1024];
        match stream.read(&mut buffer) {
            Ok(0) => return closed_at(started, &received),
            Ok(read) => received.extend_from_slice(&buffer[..read]),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return closed_at(started, &received),
        }
    }
    format!("open at {} s", DEADLINE_WATCH.as_secs())
}

fn closed_at(started: Instant, received: &[u8]) -> String {
    let seconds = started.elapsed().as_secs_f64();
    match describe(received) {
        Some(status) => format!("{status}, closed at {seconds:.1} s"),
        None => format!("closed at {seconds:.1} s"),
    }
}

/// Sends one request that keeps the connection alive, reads the answer,
/// then waits and says when the server closed the idle connection.
fn idle_after_answer(address: SocketAddr) -> String {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return String::from("cannot connect");
    };
    let request = receivers::signed_request("/webhooks", BODY, true);
    if stream.write_all(&request).is_err() {
        return String::from("write failed");
    }
    let _ = stream.set_read_timeout(Some(DEADLINE_WATCH));
    let mut buffer = [0; 16 * 1024];
    let mut answered: Option<Instant> = None;
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                answered.get_or_insert_with(Instant::now);
            }
        }
    }
    match answered {
        Some(at) if at.elapsed() >= DEADLINE_WATCH => {
            format!("open at {} s", DEADLINE_WATCH.as_secs())
        }
        Some(at) => format!("closed at {:.1} s", at.elapsed().as_secs_f64()),
        None => String::from("no answer"),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("framing: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = pico_args::Arguments::from_env();
    let chosen: Vec<String> = args
        .values_from_str("--framework")
        .map_err(|error| error.to_string())?;
    if let Some(unknown) = args.finish().first() {
        return Err(format!(
            "unknown argument {unknown:?}; usage: framing [--framework F]..."
        ));
    }
    let frameworks: Vec<&'static str> = FRAMEWORKS
        .into_iter()
        .filter(|framework| chosen.is_empty() || chosen.iter().any(|c| c == framework))
        .collect();
    if frameworks.is_empty() {
        return Err(format!(
            "--framework takes one of {}",
            FRAMEWORKS.join(", ")
        ));
    }
    let binaries = receivers::build(&frameworks)?;
    let receivers = frameworks
        .iter()
        .zip(&binaries)
        .map(|(framework, binary)| Receiver::start(framework, binary, &[]))
        .collect::<Result<Vec<_>, _>>()?;

    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    for (name, bytes) in cases() {
        let answers = thread::scope(|scope| {
            let handles: Vec<_> = receivers
                .iter()
                .map(|receiver| scope.spawn(|| answer(receiver.address, &bytes)))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap_or_else(|_| String::from("panicked")))
                .collect()
        });
        rows.push((name.to_owned(), answers));
    }
    let _ = writeln!(
        io::stderr().lock(),
        "framing: timing the deadlines (up to {} s)",
        DEADLINE_WATCH.as_secs()
    );
    let (trickled, idle): (Vec<String>, Vec<String>) = thread::scope(|scope| {
        let handles: Vec<_> = receivers
            .iter()
            .map(|receiver| {
                (
                    scope.spawn(|| trickled_head(receiver.address)),
                    scope.spawn(|| idle_after_answer(receiver.address)),
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|(trickled, idle)| {
                let failed = |_| String::from("panicked");
                (
                    trickled.join().unwrap_or_else(failed),
                    idle.join().unwrap_or_else(failed),
                )
            })
            .unzip()
    });
    rows.push((
        format!(
            "head trickled one byte every {} s",
            TRICKLE_INTERVAL.as_secs()
        ),
        trickled,
    ));
    rows.push((
        String::from("kept-alive connection idle after an answer"),
        idle,
    ));
    // Let the receivers write their last lines.
    thread::sleep(Duration::from_millis(500));
    rows.push((
        String::from("framework log lines at WARN or ERROR"),
        receivers
            .iter()
            .map(|receiver| receiver.framework_warnings().len().to_string())
            .collect(),
    ));
    for receiver in &receivers {
        for line in receiver.framework_warnings() {
            let _ = writeln!(io::stderr().lock(), "{}: {line}", receiver.framework);
        }
    }

    let mut table = format!("| request | {} |\n|---|", frameworks.join(" | "));
    table.push_str(&"---|".repeat(frameworks.len()));
    table.push('\n');
    for (name, answers) in rows {
        table.push_str(&format!("| {name} | {} |\n", answers.join(" | ")));
    }
    io::stdout()
        .lock()
        .write_all(table.as_bytes())
        .map_err(|error| format!("cannot print: {error}"))
}
