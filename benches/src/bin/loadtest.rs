//! `loadtest [--framework F] [--duration S] [--connections N] [--rounds R]
//! [--all-routes] [--check]`: throughput of each adapter's `Webhook` route
//! against the same framework's plain bytes route, over loopback, with wrk.
//! `cargo xtask loadtest` runs it in release, after installing wrk if it is
//! missing.
//!
//! Steps: build `loadtest-server` (`src/bin/loadtest-server.rs`) in release
//! next to this binary; ask it for the signed request and write a wrk Lua
//! script that sends it; then, for each framework, start the server on a
//! free 127.0.0.1 port, wait until both routes answer 200, run
//! `wrk -t1 -cN -dSs` against `POST /raw` and then `POST /webhooks`, stop
//! the server, and print a Markdown table of requests per second.
//!
//! With `--all-routes`, three more routes are loaded in between, to tell
//! where the difference goes: `POST /by-hand` (plain bytes, then
//! `verify_event` called by hand: `/webhooks` against it is the adapter's
//! glue), `POST /raw-webhook` (`RawWebhook`: verification without the
//! parse) and `POST /json-checked` (`RawWebhook`, then a JSON syntax check
//! of the whole body with `serde_json`, no typed model). With `--rounds R`,
//! every route is loaded R times, the routes taking turns, and the runs
//! averaged, so that load from other work that comes and goes falls on
//! every route alike.
//!
//! Everything is bounded: wrk stops after its duration (and is killed if it
//! overruns by [`WRK_GRACE`]), the server is killed when its guard is
//! dropped, and the server also exits by itself when this process's end of
//! its standard input closes or after a deadline, so an interrupted run
//! leaves nothing behind. Only 127.0.0.1 is ever contacted.

#![forbid(unsafe_code)]

use core::fmt::{self, Write as _};
use core::net::{Ipv4Addr, SocketAddr};
use core::str::FromStr;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::thread;
use std::time::Instant;

use protocol_webhooks_benches::FRAMEWORKS;

const DEFAULT_DURATION_SECS: u64 = 10;
const DEFAULT_CONNECTIONS: u32 = 32;

/// One load-generating thread: wrk takes one core and the one-worker server
/// the other, on the two-core machines this runs on.
const WRK_THREADS: u32 = 1;

/// The lowest acceptable verified / raw throughput ratio.
const TARGET_RATIO: f64 = 0.80;

/// The routes compared, as `loadtest-server` serves them.
const RAW_PATH: &str = "/raw";
const VERIFIED_PATH: &str = "/webhooks";
/// The routes `--all-routes` adds, with the names the second table gives
/// them, loaded between the two above.
const DIAGNOSTIC_ROUTES: [(&str, &str); 4] = [
    ("/by-hand", "bytes + `verify_event` by hand"),
    (HAND_WRITTEN.0, HAND_WRITTEN.1),
    (RAW_WEBHOOK.0, RAW_WEBHOOK.1),
    (
        "/json-checked",
        "`RawWebhook` + JSON syntax check (no model)",
    ),
];
/// The same checks as `Webhook` written by hand with `hmac` and
/// `serde_json`: `Webhook` must serve at least as many requests.
const HAND_WRITTEN: (&str, &str) = ("/hand-written", "hand-written: `hmac` + `serde_json`");
/// `RawWebhook`: at least [`RAW_WEBHOOK_FLOOR`] of the plain route.
const RAW_WEBHOOK: (&str, &str) = ("/raw-webhook", "`RawWebhook` (no parse)");
/// The floors the `--all-routes` table checks.
const WEBHOOK_FLOOR: f64 = 1.00;
const RAW_WEBHOOK_FLOOR: f64 = 0.85;

const SERVER_BINARY: &str = "loadtest-server";

/// Long enough for the server to start on a loaded machine, short enough
/// that a broken one does not hang the run.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How long one probe request may take before it counts as unanswered.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long wrk may run past its duration (it reports after the last
/// responses arrive) before it is killed.
const WRK_GRACE: Duration = Duration::from_secs(30);
/// wrk's per-request timeout: a response slower than this is counted as a
/// timeout error rather than waited for.
const WRK_TIMEOUT_SECS: u64 = 5;
/// Output lines of the server kept to explain a failure.
const LOG_TAIL: usize = 20;

const USAGE: &str = "usage: cargo xtask loadtest [--framework F] [--duration S] [--connections N]
                            [--rounds R] [--all-routes] [--check]
  --framework F    only this framework (default: every one, in turn)
  --duration S     seconds of each wrk run (default 10)
  --connections N  concurrent keep-alive connections (default 32)
  --rounds R       load every route R times, taking turns, and average
                   (default 1); on a machine whose other load comes and
                   goes, turns spread it over every route alike
  --all-routes     also load /by-hand (verify_event called by hand),
                   /raw-webhook (RawWebhook, no parse) and /json-checked
                   (RawWebhook + JSON syntax check, no model), and
                   tabulate them
  --check          fail when a verified / raw ratio is below 0.80
The server answers 127.0.0.1 only; `cargo xtask loadtest` installs wrk with
apt-get if it is missing. F is one of: ";

fn usage() -> String {
    format!("{USAGE}{}", FRAMEWORKS.join(", "))
}

/// Why the load test did not complete or did not pass.
#[derive(Debug)]
enum Error {
    /// The command line was wrong: exit status 2, after the usage.
    Usage(String),
    /// Anything else: exit status 1.
    Failed(String),
}

impl From<pico_args::Error> for Error {
    fn from(error: pico_args::Error) -> Self {
        Self::Usage(error.to_string())
    }
}

type Result<T = ()> = core::result::Result<T, Error>;

/// What was being done when an error happened, as every message says.
fn failed<E: fmt::Display>(doing: impl fmt::Display) -> impl FnOnce(E) -> Error {
    move |error| Error::Failed(format!("{doing}: {error}"))
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    frameworks: Vec<&'static str>,
    duration_secs: u64,
    connections: u32,
    all_routes: bool,
    rounds: u32,
    check: bool,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Usage(message)) => {
            eprintln!("loadtest: {message}\n{}", usage());
            ExitCode::from(2)
        }
        Err(Error::Failed(message)) => {
            eprintln!("loadtest: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result {
    let mut args = pico_args::Arguments::from_env();
    if args.contains(["-h", "--help"]) {
        return writeln!(io::stdout().lock(), "{}", usage()).map_err(failed("cannot print"));
    }
    let framework = args.opt_value_from_fn("--framework", framework)?;
    let duration = args.opt_value_from_fn("--duration", positive)?;
    let connections = args.opt_value_from_fn("--connections", positive)?;
    let rounds = args.opt_value_from_fn("--rounds", positive)?;
    let options = Options {
        frameworks: framework.map_or_else(|| FRAMEWORKS.to_vec(), |one| vec![one]),
        duration_secs: duration.unwrap_or(DEFAULT_DURATION_SECS),
        connections: connections.unwrap_or(DEFAULT_CONNECTIONS),
        rounds: rounds.unwrap_or(1),
        all_routes: args.contains("--all-routes"),
        check: args.contains("--check"),
    };
    if let Some(unknown) = args.finish().first() {
        let unknown = unknown.to_string_lossy();
        return Err(Error::Usage(format!("unknown argument `{unknown}`")));
    }

    let server = build_server()?;
    let request = SignedRequest::from_server(&server)?;
    let script = TempFile::new("lua");
    fs::write(&script.0, lua_script(&request))
        .map_err(failed(format!("cannot write {}", script.0.display())))?;

    let mut rows = Vec::new();
    for framework in &options.frameworks {
        rows.push(measure(framework, &server, &request, &script.0, &options)?);
    }
    drop(script);

    let mut out = io::stdout().lock();
    out.write_all(report(&rows, &options, request.body.len()).as_bytes())
        .map_err(failed("cannot print the results"))?;
    verdict(&rows, options.check)
}

/// A `--framework` value: one of [`FRAMEWORKS`].
fn framework(name: &str) -> core::result::Result<&'static str, String> {
    let found = FRAMEWORKS.into_iter().find(|known| *known == name);
    found.ok_or_else(|| format!("expected one of {}", FRAMEWORKS.join(", ")))
}

/// A number of at least one.
fn positive<T: FromStr + Default + PartialOrd>(text: &str) -> core::result::Result<T, String> {
    text.parse()
        .ok()
        .filter(|number| *number > T::default())
        .ok_or_else(|| String::from("expected a positive number"))
}

/// A step of the run on stderr, next to cargo's and wrk's progress. Losing
/// such a line is harmless, so a write error is ignored.
fn progress(message: &str) {
    let _ = writeln!(io::stderr().lock(), "loadtest: {message}");
}

/// Builds `loadtest-server` in release next to this binary, where
/// `cargo run --release --bin loadtest` put it, and returns its path.
fn build_server() -> Result<PathBuf> {
    let this = std::env::current_exe().map_err(failed("cannot locate this binary"))?;
    let dir = this
        .parent()
        .ok_or_else(|| Error::Failed(format!("{} has no directory", this.display())))?;
    // The directory is `<target>/release`.
    let target = dir.parent().unwrap_or(dir);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--release",
            "--bin",
            SERVER_BINARY,
            "--manifest-path",
        ])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target)
        .stdin(Stdio::null());
    let shown = format!(
        "cargo build --release --bin {SERVER_BINARY} --manifest-path {} --target-dir {}",
        manifest.display(),
        target.display()
    );
    progress(&format!("$ {shown}"));
    let status = build
        .status()
        .map_err(failed(format!("cannot start `{shown}`")))?;
    if !status.success() {
        return Err(Error::Failed(format!("`{shown}` failed: {status}")));
    }
    Ok(dir.join(format!("{SERVER_BINARY}{}", std::env::consts::EXE_SUFFIX)))
}

/// The request every run sends: the server's own body and signature, so
/// this harness needs no HMAC of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SignedRequest {
    signature: String,
    body: Vec<u8>,
}

impl SignedRequest {
    fn from_server(server: &Path) -> Result<Self> {
        let shown = format!("{} --print-request", server.display());
        let output = Command::new(server)
            .arg("--print-request")
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(failed(format!("cannot start `{shown}`")))?;
        if !output.status.success() {
            return Err(Error::Failed(format!(
                "`{shown}` failed: {}",
                output.status
            )));
        }
        Self::parse(&output.stdout).ok_or_else(|| {
            Error::Failed(format!(
                "`{shown}` did not print a signature line and a body"
            ))
        })
    }

    /// The signature line (64 hex digits), then the body.
    fn parse(printed: &[u8]) -> Option<Self> {
        let newline = printed.iter().position(|&byte| byte == b'\n')?;
        let (signature, body) = (&printed[..newline], &printed[newline + 1..]);
        let well_formed = signature.len() == 64 && signature.iter().all(u8::is_ascii_hexdigit);
        (well_formed && !body.is_empty()).then(|| Self {
            signature: String::from_utf8_lossy(signature).into_owned(),
            body: body.to_vec(),
        })
    }

    /// The request as raw HTTP/1.1, closing the connection after the answer.
    fn http(&self, path: &str, port: u16) -> Vec<u8> {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Content-Type: application/json\r\nx-protocol-signature: {}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.signature,
            self.body.len()
        )
        .into_bytes();
        request.extend_from_slice(&self.body);
        request
    }
}

/// wrk sends every request with these settings; it adds `Content-Length`
/// from the body itself.
fn lua_script(request: &SignedRequest) -> String {
    format!(
        "-- Written by `cargo xtask loadtest`: the same signed webhook on every request.\n\
         wrk.method = \"POST\"\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n\
         wrk.headers[\"x-protocol-signature\"] = {}\n\
         wrk.body = {}\n",
        lua_string(request.signature.as_bytes()),
        lua_string(&request.body)
    )
}

/// A Lua string literal holding exactly `bytes`. Anything outside printable
/// ASCII is written as a three-digit decimal escape, so the bytes survive
/// whatever the script file is read as and no escape can absorb a digit
/// that follows it.
fn lua_string(bytes: &[u8]) -> String {
    let mut literal = String::with_capacity(bytes.len() + 2);
    literal.push('"');
    for &byte in bytes {
        match byte {
            b'"' => literal.push_str("\\\""),
            b'\\' => literal.push_str("\\\\"),
            b' '..=b'~' => literal.push(char::from(byte)),
            other => {
                let _ = write!(literal, "\\{other:03}");
            }
        }
    }
    literal.push('"');
    literal
}

/// A temporary file, removed when this is dropped.
#[derive(Debug)]
struct TempFile(PathBuf);

impl TempFile {
    /// A fresh name, ending in `extension`.
    fn new(extension: &str) -> Self {
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let (pid, number) = (std::process::id(), MADE.fetch_add(1, Ordering::Relaxed));
        let name = format!("protocol-webhooks-loadtest-{pid}-{number}.{extension}");
        Self(std::env::temp_dir().join(name))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // A leftover temporary file is harmless, and there may be none.
        let _ = fs::remove_file(&self.0);
    }
}

/// A started child process whose stdout and stderr go to a temporary file,
/// which, unlike a pipe left unread, never fills up and blocks it. Dropping
/// the guard kills and reaps the process, so that no error path leaves it
/// running, and removes the file.
#[derive(Debug)]
struct Logged {
    child: Child,
    log: TempFile,
}

impl Logged {
    fn start(command: &mut Command, shown: &str) -> Result<Self> {
        let log = TempFile::new("log");
        let file =
            File::create(&log.0).map_err(failed(format!("cannot create {}", log.0.display())))?;
        let stderr = file
            .try_clone()
            .map_err(failed(format!("cannot open {}", log.0.display())))?;
        let child = command
            .stdout(file)
            .stderr(stderr)
            .spawn()
            .map_err(failed(format!("cannot start {shown}")))?;
        Ok(Self { child, log })
    }

    /// Everything it printed so far.
    fn output(&self) -> String {
        let bytes = fs::read(&self.log.0).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Its last lines, to explain a failure.
    fn tail(&self) -> String {
        let output = self.output();
        let lines: Vec<&str> = output.lines().collect();
        let tail = lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n");
        if tail.is_empty() {
            tail
        } else {
            format!("; its last output:\n{tail}")
        }
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        // Each fails only when the process has already exited and been
        // reaped, which is the state wanted anyway.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One framework's figures.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    framework: &'static str,
    /// The one-minute load average just before the server started: how
    /// busy the machine was with other work.
    load_before: Option<f64>,
    raw: WrkResult,
    verified: WrkResult,
    /// `--all-routes`: the diagnostic routes' labels and figures.
    diagnostics: Vec<(&'static str, WrkResult)>,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.verified.requests_per_sec / self.raw.requests_per_sec
    }
}

/// Starts the server for `framework`, checks every route, loads each in
/// turn, and stops the server.
fn measure(
    framework: &'static str,
    server: &Path,
    request: &SignedRequest,
    script: &Path,
    options: &Options,
) -> Result<Row> {
    let diagnostics: &[(&str, &str)] = if options.all_routes {
        &DIAGNOSTIC_ROUTES
    } else {
        &[]
    };
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map_err(failed("cannot reserve a loopback port"))?
        .port();
    // Every run of every route, the start-up and a margin: the server's own
    // deadline, should this process be killed without closing its stdin.
    let runs = (2 + diagnostics.len() as u64) * u64::from(options.rounds);
    let deadline = runs * (options.duration_secs + WRK_GRACE.as_secs()) + READY_TIMEOUT.as_secs();
    let load_before = load_average();
    progress(&format!(
        "{framework}: starting {SERVER_BINARY} on 127.0.0.1:{port}"
    ));
    let mut server = Logged::start(
        Command::new(server)
            .args(["--framework", framework, "--port", &port.to_string()])
            .args(["--exit-after", &deadline.to_string(), "--watch-stdin"])
            // The pipe stays open for as long as the child is held; its
            // end-of-file tells the server to exit, should this process die
            // without dropping the guard.
            .stdin(Stdio::piped()),
        SERVER_BINARY,
    )?;
    // In the order they are loaded: raw first, `Webhook` last.
    let routes: Vec<&str> = [RAW_PATH]
        .into_iter()
        .chain(diagnostics.iter().map(|(path, _)| *path))
        .chain([VERIFIED_PATH])
        .collect();
    for path in &routes {
        wait_until_ok(&mut server, port, path, request)?;
    }
    let mut runs: Vec<Vec<WrkResult>> = vec![Vec::new(); routes.len()];
    for round in 1..=options.rounds {
        for (path, results) in routes.iter().zip(&mut runs) {
            progress(&format!(
                "{framework}: round {round}/{}: wrk -t{WRK_THREADS} -c{} -d{}s POST {path}",
                options.rounds, options.connections, options.duration_secs
            ));
            let result = run_wrk(script, port, path, options);
            if let Some(status) = server.exited() {
                let log = server.tail();
                return Err(Error::Failed(format!(
                    "the server exited before the end of the run ({status}){log}"
                )));
            }
            results.push(result?);
        }
    }
    drop(server);
    let mut combined = runs.iter().map(|results| WrkResult::combine(results));
    let raw = combined.next().unwrap_or_default();
    let diagnostics = diagnostics
        .iter()
        .map(|(_, label)| (*label, combined.next().unwrap_or_default()))
        .collect();
    let verified = combined.next().unwrap_or_default();
    Ok(Row {
        framework,
        load_before,
        raw,
        verified,
        diagnostics,
    })
}

/// The one-minute load average, where the system reports one (Linux).
fn load_average() -> Option<f64> {
    fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Sends the signed request to `path` until it is answered 200, within
/// [`READY_TIMEOUT`]: this is both the readiness check and the check that
/// the route accepts what wrk will send.
fn wait_until_ok(server: &mut Logged, port: u16, path: &str, request: &SignedRequest) -> Result {
    let http = request.http(path, port);
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let detail = match probe(port, &http) {
            Ok(200) => return Ok(()),
            Ok(status) => format!("last answer: {status}"),
            Err(error) => format!("last attempt: {error}"),
        };
        if let Some(status) = server.exited() {
            let log = server.tail();
            return Err(Error::Failed(format!(
                "the server exited before answering ({status}){log}"
            )));
        }
        if Instant::now() >= deadline {
            let (log, within) = (server.tail(), READY_TIMEOUT.as_secs());
            return Err(Error::Failed(format!(
                "the server did not answer 200 on {path} within {within} s ({detail}){log}"
            )));
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// Sends `http` to 127.0.0.1:`port` and returns the response's status.
fn probe(port: u16, http: &[u8]) -> io::Result<u16> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&address, PROBE_TIMEOUT)?;
    stream.set_read_timeout(Some(PROBE_TIMEOUT))?;
    stream.set_write_timeout(Some(PROBE_TIMEOUT))?;
    stream.write_all(http)?;
    let mut status_line = String::new();
    BufReader::new(stream).read_line(&mut status_line)?;
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not an HTTP status line: {:?}", status_line.trim_end()),
            )
        })
}

/// What one wrk run reports, or several combined.
#[derive(Debug, Clone, Default, PartialEq)]
struct WrkResult {
    requests_per_sec: f64,
    /// Responses with a status of 400 or more: wrk's "Non-2xx or 3xx".
    error_responses: u64,
    /// Connect, read, write and timeout errors together.
    socket_errors: u64,
    /// wrk's mean latency, in microseconds.
    mean_latency_us: Option<f64>,
}

impl WrkResult {
    /// Runs of equal duration as one: the mean rate (total requests over
    /// total time), the errors added up, the mean of the mean latencies.
    fn combine(runs: &[Self]) -> Self {
        let count = runs.len().max(1) as f64;
        let latencies: Vec<f64> = runs.iter().filter_map(|run| run.mean_latency_us).collect();
        Self {
            requests_per_sec: runs.iter().map(|run| run.requests_per_sec).sum::<f64>() / count,
            error_responses: runs.iter().map(|run| run.error_responses).sum(),
            socket_errors: runs.iter().map(|run| run.socket_errors).sum(),
            mean_latency_us: (!latencies.is_empty())
                .then(|| latencies.iter().sum::<f64>() / latencies.len() as f64),
        }
    }

    fn latency(&self) -> String {
        match self.mean_latency_us {
            None => String::from("–"),
            Some(us) if us >= 1000.0 => format!("{:.2} ms", us / 1000.0),
            Some(us) => format!("{us:.0} µs"),
        }
    }
}

/// wrk's duration figure (`612.34us`, `1.01ms`, `2.00s`, `1.50m`) in
/// microseconds.
fn micros(figure: &str) -> Option<f64> {
    let split = figure.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = figure.split_at(split);
    let scale = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3600e6,
        _ => return None,
    };
    Some(number.parse::<f64>().ok()? * scale)
}

/// Runs wrk against `path` and reads its summary; kills it if it overruns.
fn run_wrk(script: &Path, port: u16, path: &str, options: &Options) -> Result<WrkResult> {
    let mut command = Command::new("wrk");
    command
        .arg(format!("-t{WRK_THREADS}"))
        .arg(format!("-c{}", options.connections))
        .arg(format!("-d{}s", options.duration_secs))
        .arg(format!("--timeout={WRK_TIMEOUT_SECS}s"))
        .arg("-s")
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .stdin(Stdio::null());
    // Guarded, though bounded by its duration, so that an error path is
    // bounded too.
    let shown = "wrk (`cargo xtask loadtest` installs it)";
    let mut wrk = Logged::start(&mut command, shown)?;
    let deadline = Instant::now() + Duration::from_secs(options.duration_secs) + WRK_GRACE;
    let status = loop {
        if let Some(status) = wrk.exited() {
            break status;
        }
        if Instant::now() >= deadline {
            let overrun = WRK_GRACE.as_secs();
            return Err(Error::Failed(format!(
                "wrk on {path} ran {overrun} s past its duration and was stopped"
            )));
        }
        thread::sleep(POLL_INTERVAL);
    };
    let output = wrk.output();
    if !status.success() {
        let output = output.trim_end();
        return Err(Error::Failed(format!(
            "wrk on {path} failed ({status}): {output}"
        )));
    }
    parse_wrk(&output)
        .ok_or_else(|| Error::Failed(format!("cannot read wrk's result for {path}:\n{output}")))
}

/// Reads wrk's summary: `Requests/sec:` is required; the error lines are
/// printed only when their counts are not zero.
fn parse_wrk(output: &str) -> Option<WrkResult> {
    let mut result = WrkResult {
        requests_per_sec: f64::NAN,
        ..WrkResult::default()
    };
    for line in output.lines().map(str::trim) {
        if let Some(rate) = line.strip_prefix("Requests/sec:") {
            result.requests_per_sec = rate.trim().parse().ok()?;
        } else if let Some(count) = line.strip_prefix("Non-2xx or 3xx responses:") {
            result.error_responses = count.trim().parse().ok()?;
        } else if let Some(counts) = line.strip_prefix("Socket errors:") {
            // `connect 0, read 0, write 0, timeout 0`
            result.socket_errors = counts
                .split(',')
                .map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<Option<u64>>()?;
        } else if let Some(stats) = line.strip_prefix("Latency")
            && let Some(mean) = stats.split_whitespace().next()
        {
            result.mean_latency_us = micros(mean);
        }
    }
    result.requests_per_sec.is_finite().then_some(result)
}

fn report(rows: &[Row], options: &Options, body_len: usize) -> String {
    let cpus = thread::available_parallelism().map_or(0, usize::from);
    let mut text = format!(
        "\nwrk -t{WRK_THREADS} -c{} -d{}s, {} run(s) per route taking turns, one {body_len}-byte signed \
         message.created webhook per request, server with one worker thread on \
         127.0.0.1, {cpus} CPUs. Mean latency in brackets; \"errors\" are wrk's \
         responses with status 400 or more, then its socket errors, raw / verified; \
         \"load\" is the one-minute load average before the framework's run.\n\n",
        options.connections, options.duration_secs, options.rounds
    );
    let _ = writeln!(
        text,
        "| framework | raw req/s | verified req/s | verified / raw (target ≥ {TARGET_RATIO:.2}) \
         | errors: non-2xx | errors: socket | load |"
    );
    text.push_str("|---|---:|---:|---|---:|---:|---:|\n");
    for row in rows {
        let ratio = row.ratio();
        let verdict = if ratio >= TARGET_RATIO {
            "met"
        } else {
            "**missed**"
        };
        let load = row
            .load_before
            .map_or_else(|| String::from("–"), |load| format!("{load:.2}"));
        let _ = writeln!(
            text,
            "| {} | {:.0} [{}] | {:.0} [{}] | {ratio:.3} {verdict} | {} / {} | {} / {} | {load} |",
            row.framework,
            row.raw.requests_per_sec,
            row.raw.latency(),
            row.verified.requests_per_sec,
            row.verified.latency(),
            row.raw.error_responses,
            row.verified.error_responses,
            row.raw.socket_errors,
            row.verified.socket_errors,
        );
    }
    if let Some(first) = rows.iter().find(|row| !row.diagnostics.is_empty()) {
        text.push_str(&diagnostics_table(rows, first));
        text.push_str(&floors_table(rows));
    }
    text
}

/// `Webhook` against the same checks written by hand, and `RawWebhook`
/// against the plain route, each pair from the same run.
fn floors_table(rows: &[Row]) -> String {
    let mut text = format!(
        "\n| framework | `Webhook` / hand-written (floor {WEBHOOK_FLOOR:.2}) \
         | `RawWebhook` / raw (floor {RAW_WEBHOOK_FLOOR:.2}) |\n|---|---|---|\n"
    );
    let verdict = |ratio: f64, floor: f64| {
        if ratio >= floor { "met" } else { "**missed**" }
    };
    for row in rows {
        let rate = |label: &str| {
            row.diagnostics
                .iter()
                .find(|(name, _)| *name == label)
                .map(|(_, result)| result.requests_per_sec)
        };
        let (Some(hand), Some(raw_webhook)) = (rate(HAND_WRITTEN.1), rate(RAW_WEBHOOK.1)) else {
            continue;
        };
        let webhook = row.verified.requests_per_sec / hand;
        let raw = raw_webhook / row.raw.requests_per_sec;
        let _ = writeln!(
            text,
            "| {} | {webhook:.3} {} | {raw:.3} {} |",
            row.framework,
            verdict(webhook, WEBHOOK_FLOOR),
            verdict(raw, RAW_WEBHOOK_FLOOR),
        );
    }
    text
}

/// Every route of `--all-routes`, as requests/s and, in brackets, as a
/// fraction of the raw route's.
fn diagnostics_table(rows: &[Row], first: &Row) -> String {
    let mut text =
        String::from("\nEvery route, as req/s (fraction of raw):\n\n| framework | raw |");
    for (label, _) in &first.diagnostics {
        let _ = write!(text, " {label} |");
    }
    text.push_str(" `Webhook` |\n|---|---:|");
    text.push_str(&"---:|".repeat(first.diagnostics.len() + 1));
    text.push('\n');
    for row in rows {
        let raw = row.raw.requests_per_sec;
        let _ = write!(text, "| {} | {raw:.0} |", row.framework);
        let routes = row.diagnostics.iter().map(|(_, result)| result);
        for result in routes.chain([&row.verified]) {
            let rate = result.requests_per_sec;
            let _ = write!(text, " {rate:.0} ({:.2}) |", rate / raw);
        }
        text.push('\n');
    }
    text
}

/// Error responses or failed requests always fail the run; a missed ratio
/// only with `--check`, since it is a figure to judge on a quiet machine.
fn verdict(rows: &[Row], check: bool) -> Result {
    let errors: Vec<String> = rows
        .iter()
        .flat_map(|row| {
            let diagnostics = row
                .diagnostics
                .iter()
                .map(|(label, result)| (*label, result));
            [(RAW_PATH, &row.raw), (VERIFIED_PATH, &row.verified)]
                .into_iter()
                .chain(diagnostics)
                .filter(|(_, result)| result.error_responses > 0 || result.socket_errors > 0)
                .map(move |(path, result)| {
                    format!(
                        "{} {path}: {} error responses, {} socket errors",
                        row.framework, result.error_responses, result.socket_errors
                    )
                })
        })
        .collect();
    if !errors.is_empty() {
        return Err(Error::Failed(format!(
            "failed requests: {}",
            errors.join("; ")
        )));
    }
    let missed: Vec<&str> = rows
        .iter()
        .filter(|row| row.ratio() < TARGET_RATIO)
        .map(|row| row.framework)
        .collect();
    if check && !missed.is_empty() {
        return Err(Error::Failed(format!(
            "verified / raw below {TARGET_RATIO:.2} for {}",
            missed.join(", ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    fn defaults() -> Options {
        Options {
            frameworks: FRAMEWORKS.to_vec(),
            duration_secs: DEFAULT_DURATION_SECS,
            connections: DEFAULT_CONNECTIONS,
            all_routes: false,
            rounds: 1,
            check: false,
        }
    }

    #[test]
    fn option_values() {
        assert_eq!(positive::<u32>("8"), Ok(8));
        assert!(positive::<u32>("0").is_err() && positive::<u64>("many").is_err());
        assert_eq!(framework("warp"), Ok("warp"));
        assert!(framework("tide").is_err());
    }

    #[test]
    fn lua_strings_keep_every_byte() {
        assert_eq!(lua_string(b"plain {\"a\": 1}"), r#""plain {\"a\": 1}""#);
        assert_eq!(lua_string(b"back\\slash"), r#""back\\slash""#);
        // A newline, then a digit that must not join the escape, then the
        // UTF-8 of `’`.
        assert_eq!(lua_string("\n1’".as_bytes()), r#""\0101\226\128\153""#);
    }

    #[test]
    fn the_script_sets_method_header_and_body() {
        let request = SignedRequest {
            signature: "ab".repeat(32),
            body: b"{\"id\":\"evt\"}\n".to_vec(),
        };
        let script = lua_script(&request);
        assert!(script.contains("wrk.method = \"POST\"\n"), "{script}");
        assert!(
            script.contains(&format!(
                "wrk.headers[\"x-protocol-signature\"] = \"{}\"\n",
                "ab".repeat(32)
            )),
            "{script}"
        );
        assert!(
            script.contains(r#"wrk.body = "{\"id\":\"evt\"}\010""#),
            "{script}"
        );
    }

    #[test]
    fn signed_request_from_the_server() {
        let signature = "0123456789abcdef".repeat(4);
        let printed = format!("{signature}\n{{\n  \"id\": \"evt\"\n}}");
        let request = SignedRequest::parse(printed.as_bytes()).expect("parsed");
        assert_eq!(request.signature, signature);
        assert_eq!(request.body, b"{\n  \"id\": \"evt\"\n}");
        assert_eq!(SignedRequest::parse(b"not hex\n{}"), None);
        assert_eq!(SignedRequest::parse(signature.as_bytes()), None);

        let http = String::from_utf8(request.http("/webhooks", 8080)).expect("ASCII");
        assert!(http.starts_with("POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
        assert!(http.contains(&format!("\r\nx-protocol-signature: {signature}\r\n")));
        assert!(
            http.ends_with(
                "Content-Length: 17\r\nConnection: close\r\n\r\n{\n  \"id\": \"evt\"\n}"
            )
        );
    }

    const WRK_CLEAN: &str = "Running 10s test @ http://127.0.0.1:40000/raw
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   612.34us  201.12us   5.01ms   85.00%
    Req/Sec    52.31k     3.12k   58.00k    70.00%
  520512 requests in 10.00s, 40.21MB read
Requests/sec:  52046.12
Transfer/sec:      4.02MB
";

    #[test]
    fn wrk_summaries() {
        assert_eq!(
            parse_wrk(WRK_CLEAN),
            Some(WrkResult {
                requests_per_sec: 52046.12,
                error_responses: 0,
                socket_errors: 0,
                mean_latency_us: Some(612.34),
            })
        );
        let failing = WRK_CLEAN.replace(
            "Requests/sec:",
            "  Socket errors: connect 0, read 2, write 0, timeout 3\n  Non-2xx or 3xx responses: 17\nRequests/sec:",
        );
        let result = parse_wrk(&failing).expect("parsed");
        assert_eq!((result.error_responses, result.socket_errors), (17, 5));
        assert_eq!(parse_wrk("unable to connect to 127.0.0.1:1"), None);
        assert_eq!(micros("1.50ms"), Some(1500.0));
        assert_eq!(micros("2.00s"), Some(2e6));
        assert_eq!(micros("12"), None);
    }

    #[test]
    fn rounds_combine() {
        let run = |rate, errors, latency| WrkResult {
            requests_per_sec: rate,
            error_responses: errors,
            socket_errors: 1,
            mean_latency_us: latency,
        };
        let combined = WrkResult::combine(&[
            run(100.0, 0, Some(300.0)),
            run(50.0, 2, None),
            run(60.0, 1, Some(1700.0)),
        ]);
        let expected = WrkResult {
            socket_errors: 3,
            ..run(70.0, 3, Some(1000.0))
        };
        assert_eq!(combined, expected);
        assert_eq!(combined.latency(), "1.00 ms");
        assert_eq!(run(1.0, 0, Some(612.4)).latency(), "612 µs");
        assert_eq!(WrkResult::combine(&[]).requests_per_sec, 0.0);
    }

    fn row(framework: &'static str, raw: f64, verified: f64, errors: u64) -> Row {
        let result = |requests_per_sec| WrkResult {
            requests_per_sec,
            error_responses: errors,
            socket_errors: 0,
            mean_latency_us: Some(1000.0),
        };
        Row {
            framework,
            load_before: Some(0.5),
            raw: result(raw),
            verified: result(verified),
            diagnostics: Vec::new(),
        }
    }

    fn failure(result: Result) -> String {
        match result {
            Err(Error::Failed(message)) => message,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn report_and_verdict() {
        let rows = [
            row("axum", 50_000.0, 45_000.0, 0),
            row("poem", 50_000.0, 35_000.0, 0),
        ];
        let text = report(&rows, &defaults(), 880);
        assert!(
            text.contains(
                "| axum | 50000 [1.00 ms] | 45000 [1.00 ms] | 0.900 met | 0 / 0 | 0 / 0 | 0.50 |"
            ),
            "{text}"
        );
        assert!(!text.contains("Every route"), "{text}");
        assert!(
            text.contains("| poem | 50000 [1.00 ms] | 35000 [1.00 ms] | 0.700 **missed** |"),
            "{text}"
        );

        assert!(verdict(&rows, false).is_ok());
        assert_eq!(
            failure(verdict(&rows, true)),
            "verified / raw below 0.80 for poem"
        );
        assert!(
            failure(verdict(&[row("warp", 1.0, 1.0, 3)], false))
                .starts_with("failed requests: warp /raw: 3 error responses")
        );
    }

    #[test]
    fn every_route_table() {
        let mut with_all = row("actix-web", 80_000.0, 60_000.0, 0);
        let by_hand = row("", 62_000.0, 0.0, 0).raw;
        let hand_written = row("", 58_000.0, 0.0, 0).raw;
        let raw_webhook = row("", 76_000.0, 0.0, 0).raw;
        let json_checked = row("", 68_000.0, 0.0, 0).raw;
        with_all.diagnostics = vec![
            (DIAGNOSTIC_ROUTES[0].1, by_hand),
            (DIAGNOSTIC_ROUTES[1].1, hand_written),
            (DIAGNOSTIC_ROUTES[2].1, raw_webhook.clone()),
            (DIAGNOSTIC_ROUTES[3].1, json_checked),
        ];
        let options = Options {
            all_routes: true,
            ..defaults()
        };
        let text = report(&[with_all.clone()], &options, 880);
        assert!(
            text.contains(
                "| framework | raw | bytes + `verify_event` by hand | hand-written: `hmac` + `serde_json` \
                 | `RawWebhook` (no parse) | `RawWebhook` + JSON syntax check (no model) | `Webhook` |\n\
                 |---|---:|---:|---:|---:|---:|---:|\n\
                 | actix-web | 80000 | 62000 (0.78) | 58000 (0.72) | 76000 (0.95) | 68000 (0.85) | 60000 (0.75) |\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("| actix-web | 1.034 met | 0.950 met |"),
            "{text}"
        );

        let mut failing = raw_webhook;
        failing.socket_errors = 1;
        with_all.diagnostics[2].1 = failing;
        assert!(failure(verdict(&[with_all], false)).contains("`RawWebhook` (no parse)"));
    }

    /// A stand-in server that answers one request: the probe, tested
    /// without the real server.
    #[test]
    fn probe_reads_the_status() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = listener.local_addr().expect("address").port();
        let answer = thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut head = [0; 16];
            let _ = stream.read(&mut head);
            stream
                .write_all(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n")
                .expect("answer");
        });
        assert_eq!(
            probe(port, b"POST / HTTP/1.1\r\n\r\n").expect("answered"),
            401
        );
        answer.join().expect("answered once");
    }

    #[test]
    fn a_logged_process_is_stopped_and_its_log_removed() {
        let mut process = Logged::start(
            Command::new("sh").args(["-c", "echo ready; exec sleep 30"]),
            "sh",
        )
        .expect("sh starts");
        let deadline = Instant::now() + READY_TIMEOUT;
        while !process.output().contains("ready") && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(process.tail(), "; its last output:\nready");
        assert_eq!(process.exited(), None);
        let log = process.log.0.clone();
        drop(process);
        assert!(!log.exists());
    }
}
