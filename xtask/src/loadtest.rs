//! `cargo xtask loadtest [--framework F] [--duration S] [--connections N]
//! [--rounds R] [--all-routes] [--check]`: throughput of each adapter's
//! `Webhook` route against the same framework's plain bytes route, over
//! loopback, with wrk.
//!
//! Steps: install wrk if it is missing (with apt-get, as root; otherwise
//! print the command and stop); build `loadtest-server` from `benches/` in
//! release; ask it for the signed request and write a wrk Lua script that
//! sends it; then, for each framework, start the server on a free
//! 127.0.0.1 port, wait until both routes answer 200, run
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

use core::fmt;
use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::ffi::OsString;
use std::io::{self, BufRead as _, BufReader, Read, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::Instant;

use crate::cmd::describe;
use crate::paths::{self, PathsError};
use crate::server::{NotReady, Process, free_port};

/// The frameworks `loadtest-server` serves, in the order they are run.
const FRAMEWORKS: [&str; 5] = ["axum", "actix-web", "warp", "rocket", "poem"];

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
const DIAGNOSTIC_ROUTES: [(&str, &str); 3] = [
    ("/by-hand", "bytes + `verify_event` by hand"),
    ("/raw-webhook", "`RawWebhook` (no parse)"),
    (
        "/json-checked",
        "`RawWebhook` + JSON syntax check (no model)",
    ),
];

const SERVER_PACKAGE_DIR: &str = "benches";
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

const USAGE: &str = "usage: cargo xtask loadtest [--framework F] [--duration S] [--connections N]
                            [--rounds R] [--all-routes] [--check]
  --framework F    only this framework: axum, actix-web, warp, rocket or poem
                   (default: all five, one after the other)
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
The server answers 127.0.0.1 only; wrk is installed with apt-get if missing.";

/// Why the load test did not complete or did not pass.
#[derive(Debug)]
pub(crate) enum LoadtestError {
    /// The command line was wrong.
    Usage(String),
    /// wrk is missing and could not be installed from here.
    NoWrk { command: &'static str },
    /// A program could not be started.
    Spawn { program: String, error: io::Error },
    /// A program ran and failed.
    CommandFailed { command: String, status: ExitStatus },
    /// The repository or the target directory could not be located.
    Paths(PathsError),
    /// `loadtest-server --print-request` printed something unexpected.
    UnreadableRequest,
    /// A file or pipe could not be read or written.
    Io { context: String, error: io::Error },
    /// The server stopped before it answered.
    ServerExited { status: ExitStatus, log: String },
    /// The server did not answer 200 on a route in time.
    ServerNotReady {
        route: String,
        detail: String,
        log: String,
    },
    /// wrk ran past its duration and was killed.
    WrkOverran { route: String },
    /// wrk's output has no `Requests/sec` line.
    UnreadableWrk { route: String, output: String },
    /// Some responses were errors, or some requests failed.
    Errors { summary: String },
    /// `--check` and a ratio below the target.
    TargetMissed { frameworks: Vec<String> },
}

impl fmt::Display for LoadtestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) => write!(f, "{message}\n{USAGE}"),
            Self::NoWrk { command } => write!(
                f,
                "wrk is not installed and this is not root; install it with `{command}`"
            ),
            Self::Spawn { program, error } => write!(f, "cannot start {program}: {error}"),
            Self::CommandFailed { command, status } => write!(f, "`{command}` failed: {status}"),
            Self::Paths(error) => write!(f, "{error}"),
            Self::UnreadableRequest => f.write_str(
                "`loadtest-server --print-request` did not print a signature line and a body",
            ),
            Self::Io { context, error } => write!(f, "{context}: {error}"),
            Self::ServerExited { status, log } => {
                write!(f, "the server exited before answering ({status})")?;
                write_log(f, log)
            }
            Self::ServerNotReady { route, detail, log } => {
                write!(
                    f,
                    "the server did not answer 200 on {route} within {} s ({detail})",
                    READY_TIMEOUT.as_secs()
                )?;
                write_log(f, log)
            }
            Self::WrkOverran { route } => write!(
                f,
                "wrk on {route} ran {} s past its duration and was stopped",
                WRK_GRACE.as_secs()
            ),
            Self::UnreadableWrk { route, output } => {
                write!(f, "cannot read wrk's result for {route}:\n{output}")
            }
            Self::Errors { summary } => write!(f, "failed requests: {summary}"),
            Self::TargetMissed { frameworks } => write!(
                f,
                "verified / raw below {TARGET_RATIO:.2} for {}",
                frameworks.join(", ")
            ),
        }
    }
}

impl core::error::Error for LoadtestError {}

fn write_log(f: &mut fmt::Formatter<'_>, log: &str) -> fmt::Result {
    if log.is_empty() {
        Ok(())
    } else {
        write!(f, "; its last output:\n{log}")
    }
}

fn io_error(context: impl Into<String>) -> impl FnOnce(io::Error) -> LoadtestError {
    let context = context.into();
    move |error| LoadtestError::Io { context, error }
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

/// Runs the load test. `args` are the arguments after `loadtest`.
pub(crate) fn run(args: &[String]) -> Result<(), LoadtestError> {
    let Some(options) = parse_args(args)? else {
        return writeln!(io::stdout().lock(), "{USAGE}").map_err(io_error("cannot print"));
    };
    ensure_wrk()?;

    let root = paths::project_root();
    let workspace = root.join(SERVER_PACKAGE_DIR);
    // `benches/` is a workspace of its own, with its own target directory.
    let target = paths::target_dir(&workspace).map_err(LoadtestError::Paths)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    run_checked(
        Command::new(&cargo)
            .current_dir(&root)
            .args([
                "build",
                "--release",
                "--bin",
                SERVER_BINARY,
                "--manifest-path",
            ])
            .arg(workspace.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target),
    )?;
    let server = target
        .join("release")
        .join(format!("{SERVER_BINARY}{}", std::env::consts::EXE_SUFFIX));

    let request = SignedRequest::from_server(&server)?;
    let script = Script::write(&request)?;

    let mut rows = Vec::new();
    for framework in &options.frameworks {
        rows.push(measure(framework, &server, &request, &script, &options)?);
    }
    drop(script);

    print_report(&rows, &options, request.body.len())?;
    verdict(&rows, options.check)
}

/// A step of the run on stderr, next to cargo's and wrk's progress. Losing
/// such a line is harmless, so a write error is ignored.
fn progress(message: &str) {
    let _ = writeln!(io::stderr().lock(), "loadtest: {message}");
}

/// The options, or `None` when help was asked for.
fn parse_args(args: &[String]) -> Result<Option<Options>, LoadtestError> {
    let mut options = Options {
        frameworks: FRAMEWORKS.to_vec(),
        duration_secs: DEFAULT_DURATION_SECS,
        connections: DEFAULT_CONNECTIONS,
        all_routes: false,
        rounds: 1,
        check: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| LoadtestError::Usage(format!("{name} needs a value")))
        };
        match name {
            "-h" | "--help" => return Ok(None),
            "--check" => options.check = true,
            "--all-routes" => options.all_routes = true,
            "--framework" => {
                let value = value()?;
                let framework = FRAMEWORKS
                    .into_iter()
                    .find(|known| *known == value)
                    .ok_or_else(|| {
                        LoadtestError::Usage(format!(
                            "unknown framework `{value}`: expected one of {}",
                            FRAMEWORKS.join(", ")
                        ))
                    })?;
                options.frameworks = vec![framework];
            }
            "--duration" => options.duration_secs = positive(name, &value()?)?,
            "--connections" => options.connections = positive(name, &value()?)?,
            "--rounds" => options.rounds = positive(name, &value()?)?,
            other => return Err(LoadtestError::Usage(format!("unknown argument `{other}`"))),
        }
    }
    Ok(Some(options))
}

fn positive<T>(name: &str, value: &str) -> Result<T, LoadtestError>
where
    T: core::str::FromStr + PartialOrd + From<u8>,
{
    value
        .parse()
        .ok()
        .filter(|number| *number >= T::from(1))
        .ok_or_else(|| {
            LoadtestError::Usage(format!("{name} takes a positive number, not `{value}`"))
        })
}

/// Runs with inherited output and fails unless it exits with status 0.
fn run_checked(command: &mut Command) -> Result<(), LoadtestError> {
    progress(&format!("$ {}", describe(command)));
    let status = command.status().map_err(|error| LoadtestError::Spawn {
        program: describe(command),
        error,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(LoadtestError::CommandFailed {
            command: describe(command),
            status,
        })
    }
}

/// Runs and captures stdout, failing unless it exits with status 0.
fn stdout_of(command: &mut Command) -> Result<Vec<u8>, LoadtestError> {
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| LoadtestError::Spawn {
            program: describe(command),
            error,
        })?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(LoadtestError::CommandFailed {
            command: describe(command),
            status: output.status,
        })
    }
}

const WRK_INSTALL: &str = "apt-get update && apt-get install -y wrk";

/// Installs wrk with apt-get when it is missing and this runs as root;
/// otherwise says how to install it.
fn ensure_wrk() -> Result<(), LoadtestError> {
    if wrk_installed() {
        return Ok(());
    }
    if !is_root() {
        return Err(LoadtestError::NoWrk {
            command: "sudo apt-get update && sudo apt-get install -y wrk",
        });
    }
    progress(&format!("wrk is missing; installing it: {WRK_INSTALL}"));
    for args in [&["update"][..], &["install", "-y", "wrk"][..]] {
        run_checked(
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdin(Stdio::null()),
        )?;
    }
    if wrk_installed() {
        Ok(())
    } else {
        Err(LoadtestError::NoWrk {
            command: WRK_INSTALL,
        })
    }
}

/// Whether `wrk` can be started; its `-v` exits non-zero, so only a failure
/// to start counts.
fn wrk_installed() -> bool {
    Command::new("wrk")
        .arg("-v")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|output| output.status.success() && output.stdout.trim_ascii() == b"0")
}

/// The request every run sends: the server's own body and signature, so
/// this crate needs no HMAC of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SignedRequest {
    signature: String,
    body: Vec<u8>,
}

impl SignedRequest {
    fn from_server(server: &Path) -> Result<Self, LoadtestError> {
        Self::parse(&stdout_of(Command::new(server).arg("--print-request"))?)
            .ok_or(LoadtestError::UnreadableRequest)
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

/// The wrk script, in a temporary file removed when this is dropped.
#[derive(Debug)]
struct Script {
    path: PathBuf,
}

impl Script {
    fn write(request: &SignedRequest) -> Result<Self, LoadtestError> {
        let path = std::env::temp_dir().join(format!(
            "protocol-webhooks-loadtest-{}.lua",
            std::process::id()
        ));
        std::fs::write(&path, lua_script(request))
            .map_err(io_error(format!("cannot write {}", path.display())))?;
        Ok(Self { path })
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        // A leftover temporary file is harmless.
        let _ = std::fs::remove_file(&self.path);
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
            other => literal.push_str(&format!("\\{other:03}")),
        }
    }
    literal.push('"');
    literal
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

/// Starts the server for `framework`, checks both routes, loads each in
/// turn, and stops the server.
fn measure(
    framework: &'static str,
    server: &Path,
    request: &SignedRequest,
    script: &Script,
    options: &Options,
) -> Result<Row, LoadtestError> {
    let diagnostics: &[(&str, &str)] = if options.all_routes {
        &DIAGNOSTIC_ROUTES
    } else {
        &[]
    };
    let port = free_port().map_err(io_error("cannot reserve a loopback port"))?;
    // Every run of every route, the start-up and a margin: the server's own
    // deadline, should this process be killed without closing its stdin.
    let runs = (2 + diagnostics.len() as u64) * u64::from(options.rounds);
    let deadline = runs * (options.duration_secs + WRK_GRACE.as_secs()) + READY_TIMEOUT.as_secs();
    let load_before = load_average();
    progress(&format!(
        "{framework}: starting {SERVER_BINARY} on 127.0.0.1:{port}"
    ));
    let mut server = start_server(server, framework, port, deadline)?;
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
                return Err(LoadtestError::ServerExited {
                    status,
                    log: server.log_tail(),
                });
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
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The server for `framework`, its output kept to explain a failure.
fn start_server(
    binary: &Path,
    framework: &str,
    port: u16,
    deadline_secs: u64,
) -> Result<Process, LoadtestError> {
    Process::spawn_logged(
        Command::new(binary)
            .args(["--framework", framework, "--port"])
            .arg(port.to_string())
            .arg("--exit-after")
            .arg(deadline_secs.to_string())
            .arg("--watch-stdin")
            // The pipe stays open for as long as the child is held; its
            // end-of-file tells the server to exit, should this process die
            // without dropping the guard.
            .stdin(Stdio::piped()),
    )
    .map_err(|error| LoadtestError::Spawn {
        program: binary.display().to_string(),
        error,
    })
}

/// Sends the signed request to `path` until it is answered 200, within
/// [`READY_TIMEOUT`]: this is both the readiness check and the check that
/// the route accepts what wrk will send.
fn wait_until_ok(
    server: &mut Process,
    port: u16,
    path: &str,
    request: &SignedRequest,
) -> Result<(), LoadtestError> {
    let http = request.http(path, port);
    let outcome =
        server.wait_until_ready(READY_TIMEOUT, POLL_INTERVAL, |_| match probe(port, &http) {
            Ok(200) => Ok(()),
            Ok(status) => Err(format!("last answer: {status}")),
            Err(error) => Err(format!("last attempt: {error}")),
        });
    match outcome {
        Ok(()) => Ok(()),
        Err(NotReady::Exited(status)) => Err(LoadtestError::ServerExited {
            status,
            log: server.log_tail(),
        }),
        Err(NotReady::TimedOut(detail)) => Err(LoadtestError::ServerNotReady {
            route: path.to_owned(),
            detail,
            log: server.log_tail(),
        }),
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
fn run_wrk(
    script: &Script,
    port: u16,
    path: &str,
    options: &Options,
) -> Result<WrkResult, LoadtestError> {
    let url = format!("http://127.0.0.1:{port}{path}");
    let mut command = Command::new("wrk");
    command
        .arg(format!("-t{WRK_THREADS}"))
        .arg(format!("-c{}", options.connections))
        .arg(format!("-d{}s", options.duration_secs))
        .arg(format!("--timeout={WRK_TIMEOUT_SECS}s"))
        .arg("-s")
        .arg(&script.path)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Guarded, though bounded by its duration, so that an error path is
    // bounded too.
    let mut wrk = Process::spawn(&mut command).map_err(|error| LoadtestError::Spawn {
        program: describe(&command),
        error,
    })?;
    let stdout = read_all(wrk.child_mut().stdout.take());
    let stderr = read_all(wrk.child_mut().stderr.take());

    let deadline = Instant::now() + Duration::from_secs(options.duration_secs) + WRK_GRACE;
    let status = loop {
        if let Some(status) = wrk
            .child_mut()
            .try_wait()
            .map_err(io_error("cannot wait for wrk"))?
        {
            break status;
        }
        if Instant::now() >= deadline {
            return Err(LoadtestError::WrkOverran {
                route: path.to_owned(),
            });
        }
        thread::sleep(POLL_INTERVAL);
    };
    let output = format!(
        "{}{}",
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default()
    );
    if !status.success() {
        return Err(LoadtestError::CommandFailed {
            command: format!("{} ({})", describe(&command), output.trim_end()),
            status,
        });
    }
    parse_wrk(&output).ok_or_else(|| LoadtestError::UnreadableWrk {
        route: path.to_owned(),
        output,
    })
}

/// Reads a pipe to its end on another thread, so that a full pipe never
/// stalls the program writing it.
fn read_all(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            // What was read before an error is still worth reporting.
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// Reads wrk's summary: `Requests/sec:` is required; the error lines are
/// printed only when their counts are not zero.
fn parse_wrk(output: &str) -> Option<WrkResult> {
    let mut result = WrkResult {
        requests_per_sec: f64::NAN,
        error_responses: 0,
        socket_errors: 0,
        mean_latency_us: None,
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

/// The Markdown table, on stdout.
fn print_report(rows: &[Row], options: &Options, body_len: usize) -> Result<(), LoadtestError> {
    let mut out = io::stdout().lock();
    out.write_all(report(rows, options, body_len).as_bytes())
        .map_err(io_error("cannot print the results"))
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
    text.push_str(&format!(
        "| framework | raw req/s | verified req/s | verified / raw (target ≥ {TARGET_RATIO:.2}) \
         | errors: non-2xx | errors: socket | load |\n"
    ));
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
        text.push_str(&format!(
            "| {} | {:.0} [{}] | {:.0} [{}] | {ratio:.3} {verdict} | {} / {} | {} / {} | {load} |\n",
            row.framework,
            row.raw.requests_per_sec,
            row.raw.latency(),
            row.verified.requests_per_sec,
            row.verified.latency(),
            row.raw.error_responses,
            row.verified.error_responses,
            row.raw.socket_errors,
            row.verified.socket_errors,
        ));
    }
    if let Some(first) = rows.iter().find(|row| !row.diagnostics.is_empty()) {
        text.push_str(&diagnostics_table(rows, first));
    }
    text
}

/// Every route of `--all-routes`, as requests/s and, in brackets, as a
/// fraction of the raw route's.
fn diagnostics_table(rows: &[Row], first: &Row) -> String {
    let mut text =
        String::from("\nEvery route, as req/s (fraction of raw):\n\n| framework | raw |");
    for (label, _) in &first.diagnostics {
        text.push_str(&format!(" {label} |"));
    }
    text.push_str(" `Webhook` |\n|---|---:|");
    text.push_str(&"---:|".repeat(first.diagnostics.len() + 1));
    text.push('\n');
    for row in rows {
        let raw = row.raw.requests_per_sec;
        text.push_str(&format!("| {} | {raw:.0} |", row.framework));
        let routes = row.diagnostics.iter().map(|(_, result)| result);
        for result in routes.chain([&row.verified]) {
            let rate = result.requests_per_sec;
            text.push_str(&format!(" {rate:.0} ({:.2}) |", rate / raw));
        }
        text.push('\n');
    }
    text
}

/// Error responses or failed requests always fail the run; a missed ratio
/// only with `--check`, since it is a figure to judge on a quiet machine.
fn verdict(rows: &[Row], check: bool) -> Result<(), LoadtestError> {
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
        return Err(LoadtestError::Errors {
            summary: errors.join("; "),
        });
    }
    let missed: Vec<String> = rows
        .iter()
        .filter(|row| row.ratio() < TARGET_RATIO)
        .map(|row| row.framework.to_owned())
        .collect();
    if check && !missed.is_empty() {
        return Err(LoadtestError::TargetMissed { frameworks: missed });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|arg| (*arg).to_owned()).collect()
    }

    fn parsed(args: &[&str]) -> Options {
        parse_args(&strings(args))
            .expect("valid arguments")
            .expect("not help")
    }

    #[test]
    fn arguments() {
        assert_eq!(
            parsed(&[]),
            Options {
                frameworks: FRAMEWORKS.to_vec(),
                duration_secs: 10,
                connections: 32,
                all_routes: false,
                rounds: 1,
                check: false,
            }
        );
        let options = parsed(&[
            "--framework",
            "rocket",
            "--duration=3",
            "--connections",
            "8",
            "--check",
            "--all-routes",
            "--rounds=4",
        ]);
        assert_eq!(options.rounds, 4);
        assert_eq!(options.frameworks, ["rocket"]);
        assert_eq!((options.duration_secs, options.connections), (3, 8));
        assert!(options.check && options.all_routes);
        assert_eq!(parsed(&["--framework=actix-web"]).frameworks, ["actix-web"]);

        assert!(matches!(parse_args(&strings(&["--help"])), Ok(None)));
        for wrong in [
            &["--framework", "tide"][..],
            &["--framework"],
            &["--duration", "0"],
            &["--connections", "many"],
            &["--release"],
        ] {
            assert!(
                matches!(parse_args(&strings(wrong)), Err(LoadtestError::Usage(_))),
                "{wrong:?}"
            );
        }
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
        assert_eq!(combined, run(70.0, 3, Some(1000.0)).with_socket_errors(3));
        assert_eq!(combined.latency(), "1.00 ms");
        assert_eq!(run(1.0, 0, Some(612.4)).latency(), "612 µs");
        assert_eq!(WrkResult::combine(&[]).requests_per_sec, 0.0);
    }

    impl WrkResult {
        fn with_socket_errors(mut self, count: u64) -> Self {
            self.socket_errors = count;
            self
        }
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

    #[test]
    fn report_and_verdict() {
        let options = parsed(&[]);
        let rows = [
            row("axum", 50_000.0, 45_000.0, 0),
            row("poem", 50_000.0, 35_000.0, 0),
        ];
        let text = report(&rows, &options, 880);
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
        assert!(matches!(
            verdict(&rows, true),
            Err(LoadtestError::TargetMissed { frameworks }) if frameworks == ["poem"]
        ));
        assert!(matches!(
            verdict(&[row("warp", 1.0, 1.0, 3)], false),
            Err(LoadtestError::Errors { .. })
        ));
    }

    #[test]
    fn every_route_table() {
        let mut with_all = row("actix-web", 80_000.0, 60_000.0, 0);
        let by_hand = row("", 62_000.0, 0.0, 0).raw;
        let raw_webhook = row("", 76_000.0, 0.0, 0).raw;
        let json_checked = row("", 68_000.0, 0.0, 0).raw;
        with_all.diagnostics = vec![
            (DIAGNOSTIC_ROUTES[0].1, by_hand),
            (DIAGNOSTIC_ROUTES[1].1, raw_webhook.clone()),
            (DIAGNOSTIC_ROUTES[2].1, json_checked),
        ];
        let text = report(&[with_all.clone()], &parsed(&["--all-routes"]), 880);
        assert!(
            text.contains(
                "| framework | raw | bytes + `verify_event` by hand | `RawWebhook` (no parse) \
                 | `RawWebhook` + JSON syntax check (no model) | `Webhook` |\n\
                 |---|---:|---:|---:|---:|---:|\n\
                 | actix-web | 80000 | 62000 (0.78) | 76000 (0.95) | 68000 (0.85) | 60000 (0.75) |\n"
            ),
            "{text}"
        );

        let mut failing = raw_webhook;
        failing.socket_errors = 1;
        with_all.diagnostics[1].1 = failing;
        assert!(matches!(
            verdict(&[with_all], false),
            Err(LoadtestError::Errors { summary }) if summary.contains("`RawWebhook` (no parse)")
        ));
    }

    /// A stand-in server that answers one request: the probe, tested
    /// without the real server.
    #[test]
    fn probe_reads_the_status() {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
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
}
