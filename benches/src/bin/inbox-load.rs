//! `inbox-load`: the durable inbox over loopback and its worker.
//!
//! ```text
//! inbox-load [--duration S] [--connections LIST] [--rounds R] [--dir DIR]
//!            [--redis URL]... [--worker-events N] [--worker-concurrency 1,8]
//!            [--skip-accepts] [--skip-worker]
//! ```
//!
//! **Accepts.** An axum server (this binary, started again with `--serve`:
//! one worker thread on 127.0.0.1, like `loadtest-server`) serves
//! `POST /webhooks` (the adapter's `Webhook`, nothing stored: the baseline),
//! `POST /inbox-sqlite` (`InboxWebhook` into a `SqliteStore`) and
//! `POST /inbox-redis` (`InboxWebhook` into a `RedisStore`). Each run loads
//! one route with a count of keep-alive connections from `--connections`
//! (one table per count) for `--duration` seconds, against a fresh SQLite
//! file in `--dir` or a fresh Redis key prefix (removed afterwards); with
//! `--rounds R` the routes take turns R times. Every request carries a new
//! event id, signed here: the same body twice would be answered 200
//! "already stored" without a commit. The client is closed-loop like wrk
//! (each connection sends its next request when the answer arrived) and
//! times every request itself. Each run also reads how busy the machine's
//! CPUs were (`/proc/stat`): a route whose run leaves them idle is bound
//! by its round trips, not by its cost, and more connections raise its
//! throughput.
//!
//! Before that, it times a 4 KiB append and `fdatasync` in `--dir` (the
//! commit a SQLite WAL with `synchronous=FULL` waits for), and reads each
//! Redis's `appendonly`, `appendfsync` and `auto-aof-rewrite-percentage`.
//!
//! **Worker.** In this process: a fresh inbox per store and concurrency is
//! filled with `--worker-events` events (64 concurrent accepts), then a
//! worker with a handler that does nothing runs until every event is
//! handled; events per second from the worker's start to its return.
//!
//! `--dir` defaults to a directory next to this binary, on the disk the
//! build is on, and is removed afterwards; the report names its file
//! system, since a tmpfs would make SQLite's fsyncs free. Redis is not
//! started here: pass the URL of one (`--redis`, repeatable, e.g. one with
//! `appendfsync everysec` and one with `always`); `--redis none` skips it.

#![forbid(unsafe_code)]

use core::convert::Infallible;
use core::fmt::{self, Write as _};
use core::hint::black_box;
use core::net::{Ipv4Addr, SocketAddr};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use std::fs::{self, File};
use std::io::{self, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::post;
use protocol_webhooks::{Key, SIGNATURE_HEADER, WebhookConfig};
use protocol_webhooks_axum::InboxWebhook;
use protocol_webhooks_benches::apps::{axum_apps, routes};
use protocol_webhooks_benches::{SECRET, webhook_body};
use protocol_webhooks_inbox::{Delivery, Inbox, RedisStore, SqliteStore};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::Notify;

const USAGE: &str = "usage: inbox-load [--duration S] [--connections LIST] [--rounds R] [--dir DIR]
                  [--redis URL]... [--worker-events N] [--worker-concurrency LIST]
                  [--skip-accepts] [--skip-worker]
  --duration S            seconds of each accept run (default 10)
  --connections LIST      comma-separated counts of concurrent keep-alive
                          connections, one table each (default 32)
  --rounds R              load every route R times, taking turns (default 1)
  --dir DIR               where the SQLite files go (default: next to this
                          binary); must not be a tmpfs for honest figures
  --redis URL             a Redis to store in, repeatable (default
                          redis://127.0.0.1:6395); `none` for no Redis
  --worker-events N       events in the inbox the worker empties (default 20000)
  --worker-concurrency L  comma-separated worker concurrencies (default 1,8)
  --skip-accepts          only the worker
  --skip-worker           only the accepts";

const DEFAULT_REDIS: &str = "redis://127.0.0.1:6395";
const SQLITE_PATH: &str = "/inbox-sqlite";
const REDIS_PATH: &str = "/inbox-redis";
/// The event id's digits in every body: 16 hex digits, so that every body
/// has the same length.
const ID_PREFIX: &str = "evt_load_";
const ID_DIGITS: usize = 16;
/// Concurrent accepts that fill the worker's inbox.
const FILL_TASKS: usize = 64;
/// 4 KiB appends with an `fdatasync` each, timed in `--dir`.
const FSYNC_SAMPLES: usize = 2_000;
/// The server stops by itself after this long, whatever happens here.
const SERVER_DEADLINE: Duration = Duration::from_secs(600);
const READY_TIMEOUT: Duration = Duration::from_secs(30);

type Result<T = ()> = core::result::Result<T, String>;

/// What was being done when an error happened, as every message says.
fn failed<E: fmt::Display>(doing: impl fmt::Display) -> impl FnOnce(E) -> String {
    move |error| format!("{doing}: {error}")
}

fn main() -> ExitCode {
    let mut args = pico_args::Arguments::from_env();
    let result = if args.contains("--serve") {
        serve(args)
    } else if args.contains(["-h", "--help"]) {
        writeln!(io::stdout().lock(), "{USAGE}").map_err(failed("cannot print"))
    } else {
        drive(args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("inbox-load: {message}");
            ExitCode::FAILURE
        }
    }
}

fn progress(message: &str) {
    let _ = writeln!(io::stderr().lock(), "inbox-load: {message}");
}

// ---------------------------------------------------------------------------
// The server: `inbox-load --serve --port P [--sqlite PATH] [--redis URL --prefix P]`

/// The state of an inbox route: the configuration and the inbox.
#[derive(Debug, Clone)]
struct InboxState {
    config: WebhookConfig,
    inbox: Inbox,
}

impl FromRef<InboxState> for WebhookConfig {
    fn from_ref(state: &InboxState) -> Self {
        state.config.clone()
    }
}

impl FromRef<InboxState> for Inbox {
    fn from_ref(state: &InboxState) -> Self {
        state.inbox.clone()
    }
}

/// Stores the event, then answers 202 (200 for an id stored already).
async fn stored(stored: InboxWebhook) -> InboxWebhook {
    stored
}

fn serve(mut args: pico_args::Arguments) -> Result {
    let port: u16 = args.value_from_str("--port").map_err(failed("--port"))?;
    let sqlite: Option<PathBuf> = args
        .opt_value_from_str("--sqlite")
        .map_err(failed("--sqlite"))?;
    let redis: Option<String> = args
        .opt_value_from_str("--redis")
        .map_err(failed("--redis"))?;
    let prefix: Option<String> = args
        .opt_value_from_str("--prefix")
        .map_err(failed("--prefix"))?;
    // The driver holds the other end of standard input: when it goes away,
    // so does the server.
    std::thread::spawn(|| {
        let mut sink = [0; 64];
        while matches!(io::stdin().lock().read(&mut sink), Ok(1..)) {}
        std::process::exit(0);
    });
    std::thread::spawn(|| {
        std::thread::sleep(SERVER_DEADLINE);
        std::process::exit(0);
    });
    let config = WebhookConfig::new(SECRET).map_err(failed("the secret"))?;
    // One worker thread, as `loadtest-server` runs: the load generator has
    // the machine's other core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(failed("cannot start a runtime"))?;
    runtime.block_on(async move {
        let mut app: Router = axum_apps::server(config.clone());
        if let Some(path) = sqlite {
            let store = SqliteStore::open(&path)
                .map_err(failed(format!("cannot open {}", path.display())))?;
            let state = InboxState {
                config: config.clone(),
                inbox: Inbox::new(store),
            };
            app = app.merge(
                Router::new()
                    .route(SQLITE_PATH, post(stored))
                    .with_state(state),
            );
        }
        if let Some(url) = redis {
            let mut options = RedisStore::options();
            if let Some(prefix) = prefix {
                options = options.prefix(prefix);
            }
            let store = options
                .open(&url)
                .await
                .map_err(failed(format!("cannot open Redis at {url}")))?;
            let state = InboxState {
                config,
                inbox: Inbox::new(store),
            };
            app = app.merge(
                Router::new()
                    .route(REDIS_PATH, post(stored))
                    .with_state(state),
            );
        }
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(failed(format!("cannot listen on {address}")))?;
        axum::serve(listener, app)
            .await
            .map_err(failed("the server stopped"))
    })
}

// ---------------------------------------------------------------------------
// The driver

#[derive(Debug, Clone)]
struct Options {
    duration: Duration,
    connections: Vec<usize>,
    rounds: usize,
    dir: Option<PathBuf>,
    redis: Vec<String>,
    worker_events: usize,
    worker_concurrency: Vec<usize>,
    accepts: bool,
    worker: bool,
}

fn parse_options(mut args: pico_args::Arguments) -> Result<Options> {
    let or_usage = |error: pico_args::Error| format!("{error}\n{USAGE}");
    let duration = args
        .opt_value_from_fn("--duration", positive)
        .map_err(or_usage)?;
    let mut redis: Vec<String> = args.values_from_str("--redis").map_err(or_usage)?;
    if redis.is_empty() {
        redis.push(String::from(DEFAULT_REDIS));
    }
    redis.retain(|url| url != "none");
    let options = Options {
        duration: Duration::from_secs(duration.unwrap_or(10) as u64),
        connections: args
            .opt_value_from_fn("--connections", list)
            .map_err(or_usage)?
            .unwrap_or_else(|| vec![32]),
        rounds: args
            .opt_value_from_fn("--rounds", positive)
            .map_err(or_usage)?
            .unwrap_or(1),
        dir: args.opt_value_from_str("--dir").map_err(or_usage)?,
        redis,
        worker_events: args
            .opt_value_from_fn("--worker-events", positive)
            .map_err(or_usage)?
            .unwrap_or(20_000),
        worker_concurrency: args
            .opt_value_from_fn("--worker-concurrency", list)
            .map_err(or_usage)?
            .unwrap_or_else(|| vec![1, 8]),
        accepts: !args.contains("--skip-accepts"),
        worker: !args.contains("--skip-worker"),
    };
    if let Some(unknown) = args.finish().first() {
        let unknown = unknown.to_string_lossy();
        return Err(format!("unknown argument `{unknown}`\n{USAGE}"));
    }
    Ok(options)
}

fn positive(text: &str) -> Result<usize> {
    match text.parse::<usize>() {
        Ok(0) | Err(_) => Err(format!("expected a positive number, not {text:?}")),
        Ok(n) => Ok(n),
    }
}

fn list(text: &str) -> Result<Vec<usize>> {
    text.split(',').map(positive).collect()
}

/// A directory removed when this is dropped.
#[derive(Debug)]
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn drive(args: pico_args::Arguments) -> Result {
    let options = parse_options(args)?;
    let this = std::env::current_exe().map_err(failed("cannot locate this binary"))?;
    let parent = options
        .dir
        .clone()
        .or_else(|| this.parent().map(Path::to_path_buf))
        .ok_or("this binary has no directory")?;
    let dir = TempDir(parent.join(format!("inbox-load-{}", std::process::id())));
    fs::create_dir_all(&dir.0).map_err(failed(format!("cannot create {}", dir.0.display())))?;

    let mut report = String::new();
    let _ = writeln!(report, "{}\n", machine_line());
    let fsync = fsync_probe(&dir.0)?;
    let _ = writeln!(
        report,
        "Disk: {}; 4 KiB append + `fdatasync` there: median {} µs, p99 {} µs ({FSYNC_SAMPLES} samples).\n",
        file_system(&dir.0),
        fsync.0,
        fsync.1
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(failed("cannot start a runtime"))?;
    let mut redis = Vec::new();
    for url in &options.redis {
        let settings = runtime.block_on(redis_settings(url))?;
        let _ = writeln!(report, "Redis at {url}: {settings}.\n");
        redis.push((url.clone(), settings));
    }

    if options.accepts {
        let accepts = accepts(&this, &dir.0, &redis, &options)?;
        report.push_str(&accepts);
        let after = fsync_probe(&dir.0)?;
        let _ = writeln!(
            report,
            "The same fsync probe after the accepts: median {} µs, p99 {} µs.\n",
            after.0, after.1
        );
    }
    if options.worker {
        let worker = runtime.block_on(worker_runs(&dir.0, &redis, &options))?;
        report.push_str(&worker);
    }
    io::stdout()
        .lock()
        .write_all(report.as_bytes())
        .map_err(failed("cannot print"))
}

/// CPU model, core count and load average, for the report.
fn machine_line() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split(':').nth(1))
        .map_or("unknown CPU", str::trim)
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?").to_owned();
    format!("Machine: {cores} CPUs, `{model}`; load average {load} at the start.")
}

/// The file system `path` is on, from `/proc/mounts`: the longest mount
/// point that contains it.
fn file_system(path: &Path) -> String {
    let path = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mounts = fs::read_to_string("/proc/mounts").unwrap_or_default();
    let best = mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (device, point, kind) = (fields.next()?, fields.next()?, fields.next()?);
            path.starts_with(point)
                .then_some((point.len(), device, point, kind))
        })
        .max_by_key(|found| found.0);
    match best {
        Some((_, device, point, kind)) => {
            format!("`{}` on {kind} ({device} at {point})", path.display())
        }
        None => format!("`{}`", path.display()),
    }
}

/// Median and 99th percentile, in microseconds, of a 4 KiB append followed
/// by `fdatasync`: what one durable commit of a WAL costs on this disk.
fn fsync_probe(dir: &Path) -> Result<(u64, u64)> {
    let path = dir.join("fsync-probe");
    let mut file =
        File::create(&path).map_err(failed(format!("cannot create {}", path.display())))?;
    let page = [0x5a_u8; 4096];
    let mut samples = Vec::with_capacity(FSYNC_SAMPLES);
    for _ in 0..FSYNC_SAMPLES {
        file.write_all(&page)
            .map_err(failed("cannot write the probe"))?;
        let started = Instant::now();
        file.sync_data().map_err(failed("cannot sync the probe"))?;
        samples.push(micros(started.elapsed()));
    }
    drop(file);
    let _ = fs::remove_file(&path);
    samples.sort_unstable();
    Ok((percentile(&samples, 50), percentile(&samples, 99)))
}

fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

/// The `p`th percentile of sorted samples (nearest rank).
fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// How the Redis at `url` persists writes, as the tables name it:
/// `appendfsync everysec` (`, no automatic rewrite` when it is off), or
/// `no append-only file`; `Unix socket, ` first when it is reached by one.
async fn redis_settings(url: &str) -> Result<String> {
    let client = redis::Client::open(url).map_err(failed(format!("Redis URL {url}")))?;
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .map_err(failed(format!(
            "cannot reach Redis at {url} (start one, or pass --redis none)"
        )))?;
    let appendonly = redis_config(&mut connection, "appendonly").await?;
    let appendfsync = redis_config(&mut connection, "appendfsync").await?;
    // The rewrite forks and writes the whole data set each time the file
    // doubled: on a shared machine it takes CPU from the run, so it is named.
    let rewrite = redis_config(&mut connection, "auto-aof-rewrite-percentage").await?;
    let persistence = if appendonly != "yes" {
        String::from("no append-only file")
    } else if rewrite == "0" {
        format!("appendfsync {appendfsync}, no automatic rewrite")
    } else {
        format!("appendfsync {appendfsync}")
    };
    let unix = url.starts_with("unix:") || url.starts_with("redis+unix:");
    Ok(if unix {
        format!("Unix socket, {persistence}")
    } else {
        persistence
    })
}

async fn redis_config(
    connection: &mut redis::aio::MultiplexedConnection,
    name: &str,
) -> Result<String> {
    let pair: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg(name)
        .query_async(connection)
        .await
        .map_err(failed(format!("CONFIG GET {name}")))?;
    Ok(pair.get(1).cloned().unwrap_or_default())
}

/// Removes every key of the inbox with `prefix`.
async fn redis_remove(url: &str, prefix: &str) -> Result {
    let client = redis::Client::open(url).map_err(failed(format!("Redis URL {url}")))?;
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .map_err(failed(format!("cannot reach Redis at {url}")))?;
    let pattern = format!("{{{prefix}}}:*");
    let mut cursor = 0_u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(10_000)
            .query_async(&mut connection)
            .await
            .map_err(failed("SCAN"))?;
        if !keys.is_empty() {
            let _removed: u64 = redis::cmd("UNLINK")
                .arg(&keys)
                .query_async(&mut connection)
                .await
                .map_err(failed("UNLINK"))?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

/// Bodies with a fresh event id each, signed: [`webhook_body`] (880 bytes
/// of `message.created` with an attachment), its id replaced.
#[derive(Debug, Clone)]
struct Bodies {
    template: Vec<u8>,
    /// Where the id's hex digits start.
    digits_at: usize,
    key: Key,
}

impl Bodies {
    fn new() -> Result<Self> {
        let body = String::from_utf8(webhook_body()).map_err(failed("the body"))?;
        let sample = r#""id":"evt_sample""#;
        let at = body
            .find(sample)
            .ok_or("the sample body has no `evt_sample` id")?;
        let id = format!(r#""id":"{ID_PREFIX}{}""#, "0".repeat(ID_DIGITS));
        let template = body.replacen(sample, &id, 1).into_bytes();
        let digits_at = at + r#""id":""#.len() + ID_PREFIX.len();
        let key = Key::new(SECRET).map_err(failed("the secret"))?;
        let bodies = Self {
            template,
            digits_at,
            key,
        };
        // Every figure must time accepted requests: check one.
        let config = WebhookConfig::new(SECRET).map_err(failed("the secret"))?;
        let (body, signature) = bodies.signed(0xabc);
        let event = config
            .verify_event(&body, Some(signature.as_bytes()))
            .map_err(failed("a generated body does not verify"))?;
        if event.id != format!("{ID_PREFIX}0000000000000abc") {
            return Err(format!("a generated body has the id {:?}", event.id));
        }
        Ok(bodies)
    }

    fn body(&self, n: u64) -> Vec<u8> {
        let mut body = self.template.clone();
        let digits = format!("{n:0ID_DIGITS$x}");
        body[self.digits_at..self.digits_at + ID_DIGITS].copy_from_slice(digits.as_bytes());
        body
    }

    /// The body of event `n` and its signature header value.
    fn signed(&self, n: u64) -> (Vec<u8>, String) {
        let body = self.body(n);
        let signature = self.key.sign(&body).to_hex().as_str().to_owned();
        (body, signature)
    }

    /// The whole HTTP/1.1 request for event `n`, kept alive.
    fn request(&self, n: u64, path: &str, into: &mut Vec<u8>) {
        let (body, signature) = self.signed(n);
        into.clear();
        let _ = write!(
            Writer(into),
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             {SIGNATURE_HEADER}: {signature}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        into.extend_from_slice(&body);
    }
}

/// `fmt::Write` into bytes.
struct Writer<'a>(&'a mut Vec<u8>);

impl fmt::Write for Writer<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

/// One route loaded: its name in the tables, its path, the store.
#[derive(Debug, Clone)]
struct Route {
    label: String,
    path: &'static str,
    store: Store,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Store {
    None,
    Sqlite,
    Redis(String),
}

/// What one or more runs of a route measured.
#[derive(Debug, Default)]
struct Measured {
    requests: u64,
    seconds: f64,
    /// Latency of every answered request, in microseconds.
    latencies: Vec<u64>,
    /// Answers with the route's status: 200 for `Webhook`, 202 (stored)
    /// for an inbox.
    expected: u64,
    socket_errors: u64,
    /// CPU seconds the server process used while loaded (its SQLite writer
    /// thread included), and Redis's.
    server_cpu: f64,
    redis_cpu: f64,
    /// `EVALSHA` calls Redis ran: each stores a batch of accepts.
    script_calls: u64,
    /// The machine's CPU time while loaded, busy and in all.
    machine: MachineCpu,
}

impl Measured {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(f64::MIN_POSITIVE)
    }

    fn add(&mut self, other: Self) {
        self.requests += other.requests;
        self.seconds += other.seconds;
        self.latencies.extend(other.latencies);
        self.expected += other.expected;
        self.socket_errors += other.socket_errors;
        self.server_cpu += other.server_cpu;
        self.redis_cpu += other.redis_cpu;
        self.script_calls += other.script_calls;
        self.machine.busy += other.machine.busy;
        self.machine.total += other.machine.total;
    }

    /// CPU microseconds per request.
    fn cpu_per_request(&self, seconds: f64) -> f64 {
        seconds * 1e6 / (self.requests.max(1) as f64)
    }
}

/// CPU seconds process `pid` used so far, from `/proc/<pid>/stat` (user and
/// system, in clock ticks of 1/100 s).
fn process_cpu(pid: u32) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |index: usize| fields.get(index).and_then(|n| n.parse::<f64>().ok());
    // utime and stime are fields 14 and 15; `fields` starts at field 3.
    ticks(11).unwrap_or(0.0) / 100.0 + ticks(12).unwrap_or(0.0) / 100.0
}

/// The machine's CPU time so far, in clock ticks, from the first line of
/// `/proc/stat`: busy is all but idle and waiting for I/O.
#[derive(Debug, Default, Clone, Copy)]
struct MachineCpu {
    busy: u64,
    total: u64,
}

impl MachineCpu {
    fn now() -> Self {
        let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
        let ticks: Vec<u64> = stat
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("cpu "))
            .map_or(Vec::new(), |rest| {
                rest.split_whitespace()
                    .filter_map(|n| n.parse().ok())
                    .collect()
            });
        // user nice system idle iowait irq softirq steal: guests are
        // counted in user already.
        let total: u64 = ticks.iter().take(8).sum();
        let idle = ticks.get(3).unwrap_or(&0) + ticks.get(4).unwrap_or(&0);
        Self {
            busy: total.saturating_sub(idle),
            total,
        }
    }

    fn since(self, before: Self) -> Self {
        Self {
            busy: self.busy.saturating_sub(before.busy),
            total: self.total.saturating_sub(before.total),
        }
    }

    fn busy_percent(&self) -> f64 {
        self.busy as f64 * 100.0 / self.total.max(1) as f64
    }
}

/// What Redis counted so far: CPU seconds (`used_cpu_user` +
/// `used_cpu_sys`) and `EVALSHA` calls.
#[derive(Debug, Default, Clone, Copy)]
struct RedisCounters {
    cpu: f64,
    script_calls: u64,
}

async fn redis_counters(url: &str) -> Result<RedisCounters> {
    let client = redis::Client::open(url).map_err(failed(format!("Redis URL {url}")))?;
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .map_err(failed(format!("cannot reach Redis at {url}")))?;
    let cpu = redis_info(&mut connection, "cpu").await?;
    let commands = redis_info(&mut connection, "commandstats").await?;
    let seconds = |name: &str| {
        info_field(&cpu, name)
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // `cmdstat_evalsha:calls=N,usec=...`
    let script_calls = info_field(&commands, "cmdstat_evalsha")
        .and_then(|stats| {
            stats
                .split(',')
                .find_map(|stat| stat.strip_prefix("calls="))
                .and_then(|calls| calls.parse().ok())
        })
        .unwrap_or(0);
    Ok(RedisCounters {
        cpu: seconds("used_cpu_user") + seconds("used_cpu_sys"),
        script_calls,
    })
}

async fn redis_info(
    connection: &mut redis::aio::MultiplexedConnection,
    section: &str,
) -> Result<String> {
    redis::cmd("INFO")
        .arg(section)
        .query_async(connection)
        .await
        .map_err(failed(format!("INFO {section}")))
}

/// The value of `name:value` in an `INFO` answer.
fn info_field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

fn accepts(
    this: &Path,
    dir: &Path,
    redis: &[(String, String)],
    options: &Options,
) -> Result<String> {
    let bodies = Arc::new(Bodies::new()?);
    let mut routes = vec![
        Route {
            label: String::from("`Webhook`, no store"),
            path: routes::WEBHOOK,
            store: Store::None,
        },
        Route {
            label: String::from("`InboxWebhook` → SQLite"),
            path: SQLITE_PATH,
            store: Store::Sqlite,
        },
    ];
    for (url, settings) in redis {
        routes.push(Route {
            label: format!("`InboxWebhook` → Redis, {settings}"),
            path: REDIS_PATH,
            store: Store::Redis(url.clone()),
        });
    }
    // The client: one thread, like wrk -t1.
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(failed("cannot start a runtime"))?;
    let mut report = String::new();
    let mut run = 0;
    for &connections in &options.connections {
        let mut measured: Vec<Measured> = routes.iter().map(|_| Measured::default()).collect();
        for round in 1..=options.rounds {
            for (route, total) in routes.iter().zip(&mut measured) {
                run += 1;
                progress(&format!(
                    "{connections} connections, round {round}/{}: {} for {} s",
                    options.rounds,
                    route.path,
                    options.duration.as_secs()
                ));
                let load = Load {
                    route,
                    connections,
                    duration: options.duration,
                };
                total.add(one_run(this, dir, &load, run, &bodies, &client)?);
            }
        }
        report.push_str(&accepts_report(
            &routes,
            &mut measured,
            connections,
            options,
            bodies.template.len(),
        ));
    }
    Ok(report)
}

/// What one run loads: a route, with this many connections, this long.
#[derive(Debug, Clone, Copy)]
struct Load<'a> {
    route: &'a Route,
    connections: usize,
    duration: Duration,
}

/// Starts a server for `route` with a fresh store, loads it, stops it and
/// removes the store.
fn one_run(
    this: &Path,
    dir: &Path,
    load: &Load<'_>,
    run: usize,
    bodies: &Arc<Bodies>,
    client: &tokio::runtime::Runtime,
) -> Result<Measured> {
    let route = load.route;
    let port = free_port()?;
    let mut command = Command::new(this);
    command
        .args(["--serve", "--port", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let sqlite = dir.join(format!("accept-{run}.sqlite3"));
    let prefix = format!("inbox-load-{}-{run}", std::process::id());
    match &route.store {
        Store::None => {}
        Store::Sqlite => {
            command.arg("--sqlite").arg(&sqlite);
        }
        Store::Redis(url) => {
            command.args(["--redis", url, "--prefix", &prefix]);
        }
    }
    let server = Server(command.spawn().map_err(failed("cannot start the server"))?);
    let pid = server.0.id();
    let counter = Arc::new(AtomicU64::new(0));
    let result = client.block_on(async {
        ready(port, route.path, bodies, &counter).await?;
        let redis_before = match &route.store {
            Store::Redis(url) => redis_counters(url).await?,
            _ => RedisCounters::default(),
        };
        let server_before = process_cpu(pid);
        let machine_before = MachineCpu::now();
        let mut measured = run_load(port, load, bodies, &counter).await;
        measured.machine = MachineCpu::now().since(machine_before);
        measured.server_cpu = process_cpu(pid) - server_before;
        if let Store::Redis(url) = &route.store {
            let redis_after = redis_counters(url).await?;
            measured.redis_cpu = redis_after.cpu - redis_before.cpu;
            measured.script_calls = redis_after.script_calls - redis_before.script_calls;
        }
        Ok::<_, String>(measured)
    });
    drop(server);
    match &route.store {
        Store::None => {}
        Store::Sqlite => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = fs::remove_file(format!("{}{suffix}", sqlite.display()));
            }
        }
        Store::Redis(url) => client.block_on(redis_remove(url, &prefix))?,
    }
    result
}

/// The server process, killed when dropped.
#[derive(Debug)]
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(failed("no free port"))?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(failed("no free port"))
}

/// Sends signed events until one is answered 2xx.
async fn ready(port: u16, path: &str, bodies: &Bodies, counter: &AtomicU64) -> Result {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        if let Ok(mut connection) = Connection::open(port).await {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            match connection.send(bodies, n, path).await {
                Ok(200 | 202) => return Ok(()),
                Ok(status) => last = format!("status {status}"),
                Err(error) => last = error.to_string(),
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("the server did not answer 2xx on {path} ({last})"))
}

/// One keep-alive connection of the client.
struct Connection {
    stream: tokio::net::TcpStream,
    request: Vec<u8>,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(port: u16) -> io::Result<Self> {
        let stream = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            request: Vec::with_capacity(2048),
            buffer: Vec::with_capacity(4096),
        })
    }

    /// Sends event `n` to `path` and reads the answer: its status.
    async fn send(&mut self, bodies: &Bodies, n: u64, path: &str) -> io::Result<u16> {
        self.prepare(bodies, n, path);
        self.exchange().await
    }

    /// Signs event `n` and writes its request, ready to send.
    fn prepare(&mut self, bodies: &Bodies, n: u64, path: &str) {
        bodies.request(n, path, &mut self.request);
    }

    /// Sends the prepared request and reads the answer: its status.
    async fn exchange(&mut self) -> io::Result<u16> {
        self.stream.write_all(&self.request).await?;
        self.buffer.clear();
        let mut chunk = [0_u8; 4096];
        loop {
            if let Some((status, length)) = response_length(&self.buffer)
                && self.buffer.len() >= length
            {
                return Ok(status);
            }
            let read = self.stream.read(&mut chunk).await?;
            if read == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }
}

/// The status and the whole response's length, once its head is in
/// `buffer`. The server answers with `Content-Length` (no chunks).
fn response_length(buffer: &[u8]) -> Option<(u16, usize)> {
    let end = buffer.windows(4).position(|window| window == b"\r\n\r\n")? + 4;
    let head = core::str::from_utf8(&buffer[..end]).ok()?;
    let status = head.get(9..12)?.parse().ok()?;
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    Some((status, end + length))
}

/// The load's closed loops, one per connection, for its duration.
async fn run_load(
    port: u16,
    load: &Load<'_>,
    bodies: &Arc<Bodies>,
    counter: &Arc<AtomicU64>,
) -> Measured {
    let path = load.route.path;
    let expected = if path == routes::WEBHOOK { 200 } else { 202 };
    let started = Instant::now();
    let deadline = started + load.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..load.connections {
        let (bodies, counter) = (Arc::clone(bodies), Arc::clone(counter));
        tasks.spawn(async move {
            let mut measured = Measured::default();
            let Ok(mut connection) = Connection::open(port).await else {
                measured.socket_errors += 1;
                return measured;
            };
            while Instant::now() < deadline {
                connection.prepare(&bodies, counter.fetch_add(1, Ordering::Relaxed), path);
                let sent = Instant::now();
                match connection.exchange().await {
                    Ok(status) => {
                        measured.latencies.push(micros(sent.elapsed()));
                        measured.requests += 1;
                        if status == expected {
                            measured.expected += 1;
                        }
                    }
                    Err(_) => {
                        measured.socket_errors += 1;
                        break;
                    }
                }
            }
            measured
        });
    }
    let mut total = Measured::default();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(one) = joined {
            total.add(Measured {
                seconds: 0.0,
                ..one
            });
        }
    }
    total.seconds = started.elapsed().as_secs_f64();
    total
}

fn accepts_report(
    routes: &[Route],
    measured: &mut [Measured],
    connections: usize,
    options: &Options,
    body_len: usize,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Accepts over loopback: {connections} keep-alive connections from one client thread, {} s \
         per run, {} run(s) per route taking turns, a {body_len}-byte signed `message.created` \
         with a new event id per request; axum server with one worker thread on 127.0.0.1; a \
         fresh SQLite file or Redis prefix per run. Latency is per request, from writing it to \
         reading the whole answer; CPU is the server process's (its SQLite writer thread \
         included) and Redis's, per request; CPUs busy is the share of the machine's CPU time \
         not idle during the runs (client, server and Redis together).\n",
        options.duration.as_secs(),
        options.rounds
    );
    let _ = writeln!(
        out,
        "| route | req/s | vs `Webhook` | floor | p50 | p99 | CPUs busy | server CPU / req | Redis CPU / req | accepts / Redis script call | answers 200 / 202 stored | other answers | socket errors |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let baseline = measured.first().map_or(0.0, Measured::per_second);
    for (route, one) in routes.iter().zip(measured.iter_mut()) {
        one.latencies.sort_unstable();
        let ratio = one.per_second() / baseline;
        let floor = match route.store {
            Store::None => String::from("(baseline)"),
            Store::Sqlite => verdict(ratio, 0.25),
            Store::Redis(_) => verdict(ratio, 0.5),
        };
        let (redis_cpu, per_call) = match route.store {
            Store::Redis(_) => (
                format!("{:.1} µs", one.cpu_per_request(one.redis_cpu)),
                format!(
                    "{:.1}",
                    one.requests as f64 / one.script_calls.max(1) as f64
                ),
            ),
            _ => (String::from("–"), String::from("–")),
        };
        let _ = writeln!(
            out,
            "| {} | {:.0} | {ratio:.3} | {floor} | {} µs | {} µs | {:.0} % | {:.1} µs | {redis_cpu} | {per_call} | {} | {} | {} |",
            route.label,
            one.per_second(),
            percentile(&one.latencies, 50),
            percentile(&one.latencies, 99),
            one.machine.busy_percent(),
            one.cpu_per_request(one.server_cpu),
            one.expected,
            one.requests - one.expected,
            one.socket_errors,
        );
    }
    out.push('\n');
    out
}

fn verdict(ratio: f64, floor: f64) -> String {
    if ratio >= floor {
        format!("≥ {floor}: met")
    } else {
        format!("≥ {floor}: **missed**")
    }
}

// ---------------------------------------------------------------------------
// The worker

async fn worker_runs(dir: &Path, redis: &[(String, String)], options: &Options) -> Result<String> {
    let bodies = Bodies::new()?;
    let mut stores = vec![(String::from("SQLite"), Store::Sqlite)];
    for (url, settings) in redis {
        stores.push((format!("Redis, {settings}"), Store::Redis(url.clone())));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Worker: {} events accepted into a fresh inbox ({FILL_TASKS} concurrent accepts, in \
         process), then a worker whose handler does nothing runs until each is handled; \
         tokio runtime with 2 worker threads.\n",
        options.worker_events
    );
    let _ = writeln!(
        out,
        "| store | fill: accepts/s | worker concurrency | handled/s | done |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    let mut run = 0;
    for (label, store) in &stores {
        for &concurrency in &options.worker_concurrency {
            run += 1;
            progress(&format!("worker: {label}, concurrency {concurrency}"));
            let sqlite = dir.join(format!("worker-{run}.sqlite3"));
            let prefix = format!("inbox-load-worker-{}-{run}", std::process::id());
            let inbox = match store {
                Store::Sqlite => Inbox::new(
                    SqliteStore::open(&sqlite)
                        .map_err(failed(format!("cannot open {}", sqlite.display())))?,
                ),
                Store::Redis(url) => Inbox::new(
                    RedisStore::options()
                        .prefix(prefix.as_str())
                        .open(url)
                        .await
                        .map_err(failed(format!("cannot open Redis at {url}")))?,
                ),
                Store::None => continue,
            };
            let measured = worker_run(&inbox, &bodies, concurrency, options.worker_events).await;
            drop(inbox);
            match store {
                Store::Sqlite => {
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = fs::remove_file(format!("{}{suffix}", sqlite.display()));
                    }
                }
                Store::Redis(url) => redis_remove(url, &prefix).await?,
                Store::None => {}
            }
            let (fill, handled, done) = measured?;
            let _ = writeln!(
                out,
                "| {label} | {fill:.0} | {concurrency} | {handled:.0} | {done} / {} |",
                options.worker_events
            );
        }
    }
    out.push('\n');
    Ok(out)
}

/// Fills the inbox, then empties it with a worker: accepts per second,
/// events handled per second, entries done at the end.
async fn worker_run(
    inbox: &Inbox,
    bodies: &Bodies,
    concurrency: usize,
    events: usize,
) -> Result<(f64, f64, u64)> {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut fillers = tokio::task::JoinSet::<Result>::new();
    for _ in 0..FILL_TASKS {
        let (inbox, next) = (inbox.clone(), Arc::clone(&next));
        let template = bodies.clone();
        fillers.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= events {
                    return Ok(());
                }
                let body = template.body(n as u64);
                let _stored = inbox
                    .accept_bytes(&body)
                    .await
                    .map_err(failed("an accept failed"))?;
            }
        });
    }
    while let Some(joined) = fillers.join_next().await {
        joined.map_err(failed("a filling task"))??;
    }
    let fill = events as f64 / started.elapsed().as_secs_f64();

    let handled = Arc::new(AtomicUsize::new(0));
    let all_handled = Arc::new(Notify::new());
    let handler = {
        let (handled, all_handled) = (Arc::clone(&handled), Arc::clone(&all_handled));
        move |delivery: Delivery| {
            let (handled, all_handled) = (Arc::clone(&handled), Arc::clone(&all_handled));
            async move {
                black_box(delivery);
                if handled.fetch_add(1, Ordering::Relaxed) + 1 == events {
                    all_handled.notify_one();
                }
                Ok::<(), Infallible>(())
            }
        }
    };
    let started = Instant::now();
    let _stopped = inbox
        .worker(handler)
        .concurrency(concurrency)
        .run(async move { all_handled.notified().await })
        .await;
    let rate = events as f64 / started.elapsed().as_secs_f64();
    let stats = inbox
        .store()
        .stats()
        .await
        .map_err(failed("cannot read the inbox's counts"))?;
    Ok((fill, rate, stats.done))
}
