//! `slowloris [--framework F]... [--slow-header N] [--slow-body N]
//! [--body-timeout S] [--duration S] [--clients C]`: slow clients against
//! the five example receivers (`examples/`), one receiver at a time, while
//! valid signed webhooks are sent.
//!
//! ```sh
//! ulimit -n 8192   # each slow connection is a descriptor here and one in the receiver
//! cargo run --release --manifest-path benches/Cargo.toml --bin slowloris
//! ```
//!
//! For each receiver: start it with `PROTOCOL_WEBHOOK_BODY_TIMEOUT=S`
//! (default 10 s, to keep runs short; the examples' default is 30 s), send
//! a few valid webhooks, read its resident memory (`VmRSS` in
//! `/proc/PID/status`), then open N connections that send a request head
//! one byte every 2 s and N that send a whole head (`Content-Length:
//! 1024`) and then the body one byte every 2 s, all at once, while C
//! clients send valid signed webhooks one after another, each on a new
//! connection. After `--duration` seconds (default 30) the slow clients
//! give up; two seconds later memory is read again. The table gives how
//! many slow connections the receiver closed within the deadline plus one
//! second (the examples' header deadline is 10 s; the body's is S), how
//! many it never closed, the valid requests' latency (p50, p99) and the
//! receiver's memory before, at its peak during, and after.
//!
//! It builds the examples in release in the main workspace and stops each
//! one after its run. Only 127.0.0.1 is contacted.

#![forbid(unsafe_code)]

use core::net::SocketAddr;
use core::time::Duration;
use std::io::{self, Write as _};
use std::process::ExitCode;
use std::time::Instant;

use protocol_webhooks_benches::receivers::{self, Receiver};
use protocol_webhooks_benches::{FRAMEWORKS, webhook_body};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::timeout_at;

/// The examples' header-read deadline (`example_shared::HEADER_READ_TIMEOUT`).
const HEADER_DEADLINE: Duration = Duration::from_secs(10);
/// A slow connection closed this long after its deadline still counts.
const MARGIN: Duration = Duration::from_secs(1);
/// The slow clients' pace: one byte every this long.
const INTERVAL: Duration = Duration::from_secs(2);
/// The body a slow-body client declares.
const DECLARED_BODY: usize = 1024;
/// How long a valid request may take before it counts as failed.
const VALID_TIMEOUT: Duration = Duration::from_secs(10);
/// Valid webhooks sent before the slow clients start.
const WARM_UP: usize = 20;
/// How often memory is read during the run.
const RSS_EVERY: Duration = Duration::from_millis(250);
/// How long after the slow clients give up memory is read again.
const SETTLE: Duration = Duration::from_secs(2);

const USAGE: &str = "usage: slowloris [--framework F]... [--slow-header N] [--slow-body N]
                 [--body-timeout S] [--duration S] [--clients C]
  --framework F     only these frameworks (default: all five, in turn)
  --slow-header N   connections trickling their head (default 500)
  --slow-body N     connections trickling their body (default 500)
  --body-timeout S  the receivers' PROTOCOL_WEBHOOK_BODY_TIMEOUT (default 10)
  --duration S      how long the slow clients keep going (default 30)
  --clients C       clients sending valid webhooks meanwhile (default 4)";

#[derive(Debug, Clone)]
struct Options {
    frameworks: Vec<&'static str>,
    slow_header: usize,
    slow_body: usize,
    body_timeout: Duration,
    duration: Duration,
    clients: usize,
}

/// What became of one slow connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slow {
    /// It could not connect.
    Refused,
    /// The server closed it this long after it connected; `answered`:
    /// with an HTTP answer first.
    Closed { after: Duration, answered: bool },
    /// Still open when the client gave up.
    Open,
}

/// One receiver's figures.
#[derive(Debug)]
struct Row {
    framework: &'static str,
    heads: Vec<Slow>,
    bodies: Vec<Slow>,
    latencies: Vec<Duration>,
    failed: usize,
    rss: [Option<u64>; 3],
    warnings: usize,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("slowloris: {message}");
            ExitCode::FAILURE
        }
    }
}

fn options() -> Result<Options, String> {
    let mut args = pico_args::Arguments::from_env();
    if args.contains(["-h", "--help"]) {
        return Err(USAGE.to_owned());
    }
    let usage = |error: pico_args::Error| format!("{error}\n{USAGE}");
    let chosen: Vec<String> = args.values_from_str("--framework").map_err(usage)?;
    let number = |args: &mut pico_args::Arguments, name: &'static str, default: u64| {
        args.opt_value_from_str::<_, u64>(name)
            .map(|value| value.unwrap_or(default))
            .map_err(usage)
    };
    let options = Options {
        frameworks: FRAMEWORKS
            .into_iter()
            .filter(|framework| chosen.is_empty() || chosen.iter().any(|c| c == framework))
            .collect(),
        slow_header: usize::try_from(number(&mut args, "--slow-header", 500)?).unwrap_or(500),
        slow_body: usize::try_from(number(&mut args, "--slow-body", 500)?).unwrap_or(500),
        body_timeout: Duration::from_secs(number(&mut args, "--body-timeout", 10)?.max(1)),
        duration: Duration::from_secs(number(&mut args, "--duration", 30)?.max(1)),
        clients: usize::try_from(number(&mut args, "--clients", 4)?.max(1)).unwrap_or(4),
    };
    if let Some(unknown) = args.finish().first() {
        return Err(format!("unknown argument {unknown:?}\n{USAGE}"));
    }
    if options.frameworks.is_empty() {
        return Err(format!(
            "--framework takes one of {}",
            FRAMEWORKS.join(", ")
        ));
    }
    Ok(options)
}

fn run() -> Result<(), String> {
    let options = options()?;
    let needed = u64::try_from(options.slow_header + options.slow_body).unwrap_or(u64::MAX) + 256;
    if let Some(limit) = receivers::open_files_limit()
        && limit < needed
    {
        return Err(format!(
            "the open-files limit is {limit}, below the {needed} this run needs \
             (here and in the receiver): raise it with `ulimit -n {}`",
            needed.next_power_of_two()
        ));
    }
    let binaries = receivers::build(&options.frameworks)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start tokio: {error}"))?;
    let mut rows = Vec::new();
    for (framework, binary) in options.frameworks.iter().zip(&binaries) {
        let timeout = options.body_timeout.as_secs().to_string();
        let receiver = Receiver::start(
            framework,
            binary,
            &[("PROTOCOL_WEBHOOK_BODY_TIMEOUT", timeout)],
        )?;
        progress(&format!(
            "{framework}: {} slow heads and {} slow bodies for {} s",
            options.slow_header,
            options.slow_body,
            options.duration.as_secs()
        ));
        let row = runtime.block_on(measure(&receiver, &options))?;
        rows.push(row);
    }
    io::stdout()
        .lock()
        .write_all(report(&rows, &options).as_bytes())
        .map_err(|error| format!("cannot print: {error}"))
}

fn progress(message: &str) {
    let _ = writeln!(io::stderr().lock(), "slowloris: {message}");
}

async fn measure(receiver: &Receiver, options: &Options) -> Result<Row, String> {
    let address = receiver.address;
    let request = receivers::signed_request("/webhooks", &webhook_body(), false);
    for _ in 0..WARM_UP {
        if valid(address, &request).await.is_none() {
            return Err(format!("{}: a valid webhook failed", receiver.framework));
        }
    }
    let before = receiver.rss_kib();
    let started = Instant::now();
    let give_up = tokio::time::Instant::now() + options.duration;

    let mut heads = JoinSet::new();
    for _ in 0..options.slow_header {
        heads.spawn(slow_head(address, give_up));
    }
    let mut bodies = JoinSet::new();
    for _ in 0..options.slow_body {
        bodies.spawn(slow_body(address, give_up));
    }
    let mut clients = JoinSet::new();
    for _ in 0..options.clients {
        let request = request.clone();
        clients.spawn(async move {
            let (mut latencies, mut failed) = (Vec::new(), 0);
            while tokio::time::Instant::now() < give_up {
                match valid(address, &request).await {
                    Some(latency) => latencies.push(latency),
                    None => failed += 1,
                }
            }
            (latencies, failed)
        });
    }
    let mut peak = before;
    while started.elapsed() < options.duration {
        tokio::time::sleep(RSS_EVERY).await;
        peak = peak.max(receiver.rss_kib());
    }
    let heads = heads.join_all().await;
    let bodies = bodies.join_all().await;
    let (mut latencies, mut failed) = (Vec::new(), 0);
    for (some, failures) in clients.join_all().await {
        latencies.extend(some);
        failed += failures;
    }
    tokio::time::sleep(SETTLE).await;
    let after = receiver.rss_kib();
    latencies.sort_unstable();
    Ok(Row {
        framework: receiver.framework,
        heads,
        bodies,
        latencies,
        failed,
        rss: [before, peak, after],
        warnings: receiver.framework_warnings().len(),
    })
}

/// Sends one valid webhook on a new connection: its latency when the
/// answer is a 200.
async fn valid(address: SocketAddr, request: &[u8]) -> Option<Duration> {
    let started = Instant::now();
    let exchange = async {
        let mut stream = TcpStream::connect(address).await.ok()?;
        stream.write_all(request).await.ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.ok()?;
        answer.starts_with(b"HTTP/1.1 200").then_some(())
    };
    tokio::time::timeout(VALID_TIMEOUT, exchange)
        .await
        .ok()
        .flatten()
        .map(|()| started.elapsed())
}

/// A request head sent one byte every [`INTERVAL`], never finished.
async fn slow_head(address: SocketAddr, give_up: tokio::time::Instant) -> Slow {
    let mut head = b"POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ".to_vec();
    head.resize(head.len() + 4096, b'a');
    trickle(address, Vec::new(), head, give_up).await
}

/// A whole head declaring [`DECLARED_BODY`] bytes, then the body one byte
/// every [`INTERVAL`].
async fn slow_body(address: SocketAddr, give_up: tokio::time::Instant) -> Slow {
    let head = format!(
        "POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         x-protocol-signature: {}\r\nContent-Length: {DECLARED_BODY}\r\n\r\n",
        "0".repeat(64)
    );
    trickle(
        address,
        head.into_bytes(),
        vec![b' '; DECLARED_BODY],
        give_up,
    )
    .await
}

/// Connects, sends `first` at once and then `slowly` one byte every
/// [`INTERVAL`], and watches for the server closing the connection.
async fn trickle(
    address: SocketAddr,
    first: Vec<u8>,
    slowly: Vec<u8>,
    give_up: tokio::time::Instant,
) -> Slow {
    let Ok(mut stream) = TcpStream::connect(address).await else {
        return Slow::Refused;
    };
    let connected = Instant::now();
    let closed = |answered: bool| Slow::Closed {
        after: connected.elapsed(),
        answered,
    };
    if stream.write_all(&first).await.is_err() {
        return closed(false);
    }
    let mut answered = false;
    let mut buffer = [0; 1024];
    for byte in slowly {
        if stream.write_all(&[byte]).await.is_err() {
            return closed(answered);
        }
        let next = tokio::time::Instant::now() + INTERVAL;
        loop {
            if next >= give_up && tokio::time::Instant::now() >= give_up {
                return Slow::Open;
            }
            match timeout_at(next.min(give_up), stream.read(&mut buffer)).await {
                Ok(Ok(0) | Err(_)) => return closed(answered),
                Ok(Ok(_)) => answered = true,
                Err(_) => break,
            }
        }
        if tokio::time::Instant::now() >= give_up {
            return Slow::Open;
        }
    }
    Slow::Open
}

fn count(slow: &[Slow], deadline: Duration) -> (usize, usize, usize, usize) {
    let mut within = 0;
    let mut answered = 0;
    let mut open = 0;
    let mut refused = 0;
    for outcome in slow {
        match *outcome {
            Slow::Closed {
                after,
                answered: with_answer,
            } => {
                if after <= deadline + MARGIN {
                    within += 1;
                }
                if with_answer {
                    answered += 1;
                }
            }
            Slow::Open => open += 1,
            Slow::Refused => refused += 1,
        }
    }
    (within, answered, open, refused)
}

fn percentile(sorted: &[Duration], percent: usize) -> String {
    if sorted.is_empty() {
        return String::from("-");
    }
    let rank = (sorted.len() * percent).div_ceil(100).max(1) - 1;
    format!(
        "{:.1}",
        sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
    )
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || String::from("-"),
        |kib| format!("{:.1}", kib as f64 / 1024.0),
    )
}

fn report(rows: &[Row], options: &Options) -> String {
    let mut out = format!(
        "{} slow-header and {} slow-body connections (one byte every {} s) for {} s; \
         header deadline {} s, body deadline {} s, counted closed within deadline + {} s; \
         {} clients sending valid webhooks meanwhile.\n\n",
        options.slow_header,
        options.slow_body,
        INTERVAL.as_secs(),
        options.duration.as_secs(),
        HEADER_DEADLINE.as_secs(),
        options.body_timeout.as_secs(),
        MARGIN.as_secs(),
        options.clients,
    );
    out.push_str(
        "| example | slow heads closed in time | still open | slow bodies closed in time (answered) | still open | valid webhooks (failed) | p50 ms | p99 ms | RSS MiB before / peak / after | framework WARN+ lines |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let (heads, _, heads_open, heads_refused) = count(&row.heads, HEADER_DEADLINE);
        let (bodies, answered, bodies_open, bodies_refused) =
            count(&row.bodies, options.body_timeout);
        let refused = heads_refused + bodies_refused;
        let refused = if refused == 0 {
            String::new()
        } else {
            format!(" ({refused} could not connect)")
        };
        out.push_str(&format!(
            "| {} | {heads}/{} | {heads_open} | {bodies}/{} ({answered}) | {bodies_open}{refused} | {} ({}) | {} | {} | {} / {} / {} | {} |\n",
            row.framework,
            row.heads.len(),
            row.bodies.len(),
            row.latencies.len(),
            row.failed,
            percentile(&row.latencies, 50),
            percentile(&row.latencies, 99),
            mib(row.rss[0]),
            mib(row.rss[1]),
            mib(row.rss[2]),
            row.warnings,
        ));
    }
    out
}
