//! `inbox`: the operator's commands, against a real SQLite inbox built
//! through the library.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use protocol_webhooks::events::EventType;
use protocol_webhooks::samples::{SignedRequest, sample_body};
use protocol_webhooks::{RequestHead, WebhookConfig};
use protocol_webhooks_inbox::{Delivery, Inbox, Stats, Worker};
use serde_json::Value;
use tempfile::TempDir;

use crate::support::{cli, code, run, stderr, stdout};

const SECRET: &str = "whsec_inbox_test";
const DEAD: &str = "evt_dead000000000001";
const DONE: &str = "evt_done000000000002";
const PENDING: [&str; 2] = ["evt_pend000000000003", "evt_pend000000000004"];
const FAILURE: &str = "handler failed: connection refused";

/// An inbox file with, in stored order, one dead entry (its only attempt
/// failed), one done, and two pending.
struct Fixture {
    dir: TempDir,
    path: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("inbox.sqlite3");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let inbox = Inbox::open_sqlite(&path).expect("open inbox");
            accept(&inbox, EventType::MessageCreated, DEAD).await;
            let failing = inbox
                .worker(|_: Delivery| async { Err::<(), _>(FAILURE) })
                .attempts(1);
            run_until(fast(failing), &inbox, |stats| stats.dead == 1).await;

            accept(&inbox, EventType::ContactCreated, DONE).await;
            let succeeding = inbox.worker(|_: Delivery| async { Ok::<(), String>(()) });
            run_until(fast(succeeding), &inbox, |stats| stats.done == 1).await;

            accept(&inbox, EventType::ConversationUpdated, PENDING[0]).await;
            accept(&inbox, EventType::MessageUpdated, PENDING[1]).await;
        });
        Self { dir, path }
    }

    fn store(&self) -> &str {
        self.path.to_str().expect("UTF-8 temp path")
    }

    /// `inbox ARGS --store PATH`.
    fn inbox(&self, args: &[&str]) -> Output {
        let mut command = cli(["inbox"]);
        command.args(args).args(["--store", self.store()]);
        run(&mut command, b"")
    }

    /// `inbox stats --json`, parsed.
    fn stats(&self) -> Value {
        let output = self.inbox(&["stats", "--json"]);
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        serde_json::from_str(&stdout(&output)).expect("stats JSON")
    }
}

/// The exact body of the sample event `id`.
fn body(event_type: &EventType, id: &str) -> Vec<u8> {
    sample_body(event_type, id)
}

/// Verifies a signed sample with the core, then stores it.
async fn accept(inbox: &Inbox, event_type: EventType, id: &str) {
    let request = SignedRequest::new(SECRET, body(&event_type, id)).expect("signed");
    let config = WebhookConfig::new(SECRET).expect("config");
    let head = RequestHead::new(
        [request.body().len().to_string()],
        [request.signature().as_bytes()],
    );
    let mut collector = config.collect_body(head).expect("collector");
    collector.push(request.body()).expect("push");
    let verified = collector.finish().expect("verified");
    let accepted = inbox.accept(&verified).await.expect("accept");
    assert_eq!(accepted.event_id(), id);
}

fn fast<H>(worker: Worker<H>) -> Worker<H> {
    worker
        .poll_interval(Duration::from_millis(5))
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
}

/// Runs `worker` until `done` holds for the inbox (at most 10 s).
async fn run_until<H, Fut, E>(worker: Worker<H>, inbox: &Inbox, done: impl Fn(&Stats) -> bool)
where
    H: Fn(Delivery) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = inbox.store().stats().await.expect("stats");
        if done(&stats) {
            break;
        }
        assert!(Instant::now() < deadline, "timed out; stats {stats:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = stop.send(());
    running.await.expect("worker");
}

fn counts(stats: &Value) -> [u64; 5] {
    ["pending", "in_flight", "done", "dead", "total"].map(|state| {
        stats[state]
            .as_u64()
            .unwrap_or_else(|| panic!("{state} in {stats}"))
    })
}

#[test]
fn stats_counts_each_state() {
    let inbox = Fixture::new();
    let output = inbox.inbox(&["stats"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let table: Vec<(String, u64)> = stdout(&output)
        .lines()
        .map(|line| {
            let (state, count) = line.split_once(' ').expect("two columns");
            (state.to_owned(), count.trim().parse().expect("a count"))
        })
        .collect();
    let expected = [
        ("pending", 2),
        ("in_flight", 0),
        ("done", 1),
        ("dead", 1),
        ("total", 4),
    ]
    .map(|(state, count)| (state.to_owned(), count));
    assert_eq!(table, expected);
    assert_eq!(counts(&inbox.stats()), [2, 0, 1, 1, 4]);
}

#[test]
fn list_shows_one_line_per_entry_oldest_first() {
    let inbox = Fixture::new();
    let output = inbox.inbox(&["list"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let columns: Vec<[&str; 4]> = lines.iter().map(|f| [f[0], f[1], f[2], f[3]]).collect();
    assert_eq!(
        columns,
        [
            [DEAD, "message.created", "dead", "1"],
            [DONE, "contact.created", "done", "1"],
            [PENDING[0], "conversation.updated", "pending", "0"],
            [PENDING[1], "message.updated", "pending", "0"],
        ],
        "{text}"
    );
    for fields in &lines {
        let time = fields[4];
        assert!(
            time.len() == 20 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
            "{time}"
        );
    }
    assert_eq!(
        lines[0][5..].join(" "),
        FAILURE,
        "the last error comes last"
    );
    assert_eq!(lines[2][5..], ["-"]);

    let dead = inbox.inbox(&["list", "--state", "dead"]);
    assert_eq!(code(&dead), 0);
    let dead = stdout(&dead);
    assert_eq!(dead.lines().count(), 1, "{dead}");
    assert!(dead.starts_with(DEAD), "{dead}");

    let limited = inbox.inbox(&["list", "--limit", "2"]);
    assert_eq!(code(&limited), 0);
    assert_eq!(stdout(&limited).lines().count(), 2);
    assert!(stderr(&limited).contains("--limit"), "{}", stderr(&limited));
    let exact = inbox.inbox(&["list", "--limit", "4"]);
    assert_eq!(stdout(&exact).lines().count(), 4);
    assert_eq!(stderr(&exact), "", "nothing was cut");

    for bad in [["--state", "failed"], ["--limit", "0"], ["--limit", "x"]] {
        let output = inbox.inbox(&[&["list"][..], &bad[..]].concat());
        assert_eq!(code(&output), 2, "{bad:?}");
        assert_eq!(stdout(&output), "");
    }
}

#[test]
fn list_json_has_one_object_per_entry() {
    let inbox = Fixture::new();
    let output = inbox.inbox(&["list", "--json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let entries: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let ids: Vec<&str> = entries
        .iter()
        .map(|e| e["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [DEAD, DONE, PENDING[0], PENDING[1]]);
    let dead = &entries[0];
    assert_eq!(dead["type"], "message.created");
    assert_eq!(dead["state"], "dead");
    assert_eq!(dead["attempts"], 1);
    assert_eq!(dead["last_error"], FAILURE);
    for field in ["received_at", "updated_at", "due_at"] {
        assert!(
            dead[field].as_str().is_some_and(|t| t.ends_with('Z')),
            "{field}"
        );
    }
    assert!(entries[2]["last_error"].is_null());

    let dead_only = inbox.inbox(&["list", "--json", "--state", "dead"]);
    let dead_only = stdout(&dead_only);
    assert_eq!(dead_only.lines().count(), 1);
    let only: Value = serde_json::from_str(dead_only.trim_end()).expect("json");
    assert_eq!(&only, dead);
}

#[test]
fn show_has_every_field_and_body_the_exact_bytes() {
    let inbox = Fixture::new();
    let output = inbox.inbox(&["show", DEAD]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    let expected_body = body(&EventType::MessageCreated, DEAD);
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name).filter(|rest| rest.starts_with(' ')))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .to_owned()
    };
    assert_eq!(field("id"), DEAD);
    assert_eq!(field("type"), "message.created");
    assert_eq!(field("state"), "dead");
    assert_eq!(field("attempts"), "1");
    assert_eq!(field("last_error"), FAILURE);
    assert!(field("received_at").ends_with('Z'));
    assert!(field("updated_at").ends_with('Z'));
    assert!(field("due_at").ends_with('Z'));
    assert!(
        field("body").starts_with(&format!("{} bytes", expected_body.len())),
        "{text}"
    );

    let raw = inbox.inbox(&["show", DEAD, "--body"]);
    assert_eq!(code(&raw), 0, "{}", stderr(&raw));
    assert_eq!(
        raw.stdout, expected_body,
        "exactly the stored bytes, nothing else"
    );
    assert_eq!(stderr(&raw), "");

    let json = inbox.inbox(&["show", DONE, "--json"]);
    assert_eq!(code(&json), 0);
    let json: Value = serde_json::from_str(&stdout(&json)).expect("json");
    let done_body = body(&EventType::ContactCreated, DONE);
    assert_eq!(json["state"], "done");
    assert_eq!(json["body_bytes"], done_body.len());
    assert_eq!(
        json["body"].as_str().map(str::as_bytes),
        Some(&done_body[..])
    );
    assert!(json["last_error"].is_null());

    let unknown = inbox.inbox(&["show", "evt_unknown"]);
    assert_eq!(code(&unknown), 1);
    assert_eq!(stdout(&unknown), "");
    assert!(
        stderr(&unknown).contains("no entry \"evt_unknown\""),
        "{}",
        stderr(&unknown)
    );

    let both = inbox.inbox(&["show", DEAD, "--body", "--json"]);
    assert_eq!(code(&both), 2);
    let no_id = inbox.inbox(&["show"]);
    assert_eq!(code(&no_id), 2);
}

#[test]
fn retry_makes_a_dead_entry_pending_and_refuses_any_other() {
    let inbox = Fixture::new();
    let pending = inbox.inbox(&["retry", PENDING[0]]);
    assert_eq!(code(&pending), 1);
    assert_eq!(stdout(&pending), "");
    assert!(
        stderr(&pending).contains("is pending, not dead"),
        "{}",
        stderr(&pending)
    );
    let unknown = inbox.inbox(&["retry", "evt_unknown"]);
    assert_eq!(code(&unknown), 1);
    assert!(
        stderr(&unknown).contains("no entry"),
        "{}",
        stderr(&unknown)
    );
    assert_eq!(counts(&inbox.stats()), [2, 0, 1, 1, 4], "nothing changed");

    let retried = inbox.inbox(&["retry", DEAD]);
    assert_eq!(code(&retried), 0, "{}", stderr(&retried));
    assert_eq!(stdout(&retried), "retried 1\n");
    assert_eq!(counts(&inbox.stats()), [3, 0, 1, 0, 4]);
    let shown = inbox.inbox(&["show", DEAD, "--json"]);
    let shown: Value = serde_json::from_str(&stdout(&shown)).expect("json");
    assert_eq!(shown["state"], "pending");
    assert_eq!(shown["attempts"], 0, "a fresh set of attempts");

    let again = inbox.inbox(&["retry", DEAD]);
    assert_eq!(code(&again), 1, "no longer dead");
}

#[test]
fn retry_all_dead_retries_each_dead_entry() {
    let inbox = Fixture::new();
    let output = inbox.inbox(&["retry", "--all-dead"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "retried 1\n");
    assert_eq!(counts(&inbox.stats()), [3, 0, 1, 0, 4]);
    let none_left = inbox.inbox(&["retry", "--all-dead"]);
    assert_eq!(code(&none_left), 0);
    assert_eq!(stdout(&none_left), "retried 0\n");

    for usage in [&["retry"][..], &["retry", DEAD, "--all-dead"][..]] {
        let output = inbox.inbox(usage);
        assert_eq!(code(&output), 2, "{usage:?}");
    }
    assert_eq!(counts(&inbox.stats()), [3, 0, 1, 0, 4]);
}

#[test]
fn purge_removes_old_enough_dead_or_done_entries() {
    let inbox = Fixture::new();
    let young = inbox.inbox(&["purge", "--dead", "--older-than", "7d"]);
    assert_eq!(code(&young), 0, "{}", stderr(&young));
    assert_eq!(stdout(&young), "purged 0 dead entries older than 7d\n");
    assert_eq!(counts(&inbox.stats()), [2, 0, 1, 1, 4]);

    let dead = inbox.inbox(&["purge", "--dead", "--older-than", "0s"]);
    assert_eq!(code(&dead), 0, "{}", stderr(&dead));
    assert_eq!(stdout(&dead), "purged 1 dead entry older than 0s\n");
    assert_eq!(counts(&inbox.stats()), [2, 0, 1, 0, 3]);
    let gone = inbox.inbox(&["show", DEAD]);
    assert_eq!(code(&gone), 1);

    let both = inbox.inbox(&["purge", "--dead", "--done", "--older-than", "0s"]);
    assert_eq!(code(&both), 0, "{}", stderr(&both));
    assert_eq!(
        stdout(&both),
        "purged 0 dead entries older than 0s\npurged 1 done entry older than 0s\n"
    );
    assert_eq!(
        counts(&inbox.stats()),
        [2, 0, 0, 0, 2],
        "pending entries stay"
    );
}

#[test]
fn a_bad_duration_or_missing_choice_is_a_usage_error() {
    let inbox = Fixture::new();
    for duration in [
        "7",
        "1w",
        "-1d",
        "1.5h",
        "1h30m",
        "",
        "d",
        "99999999999999999999s",
    ] {
        let output = inbox.inbox(&["purge", "--dead", "--older-than", duration]);
        assert_eq!(code(&output), 2, "{duration:?}");
        assert_eq!(stdout(&output), "");
        assert!(
            stderr(&output).contains("--older-than"),
            "{}",
            stderr(&output)
        );
    }
    for usage in [
        &["purge", "--dead"][..],
        &["purge", "--older-than", "0s"][..],
    ] {
        let output = inbox.inbox(usage);
        assert_eq!(code(&output), 2, "{usage:?}");
    }
    assert_eq!(
        counts(&inbox.stats()),
        [2, 0, 1, 1, 4],
        "nothing was purged"
    );
}

/// The files of a directory, by name.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn a_missing_inbox_is_an_error_and_is_not_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("typo.sqlite3");
    let target = path.to_str().expect("UTF-8 temp path");
    for command in [
        &["stats"][..],
        &["list"][..],
        &["show", DEAD][..],
        &["show", DEAD, "--body"][..],
        &["retry", DEAD][..],
        &["retry", "--all-dead"][..],
        &["purge", "--dead", "--older-than", "0s"][..],
    ] {
        let mut cli = cli(["inbox"]);
        cli.args(command).args(["--store", target]);
        let output = run(&mut cli, b"");
        assert_eq!(code(&output), 2, "{command:?}");
        assert_eq!(stdout(&output), "");
        assert_eq!(
            stderr(&output),
            format!("error: no inbox at {target}\n"),
            "{command:?}"
        );
        assert_eq!(files(dir.path()), Vec::<String>::new(), "{command:?}");
    }
}

#[test]
fn the_store_comes_from_the_environment_too() {
    let inbox = Fixture::new();
    let mut command = cli(["inbox", "stats", "--json"]);
    command.env("PROTOCOL_WEBHOOKS_INBOX", inbox.store());
    let output = run(&mut command, b"");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let stats: Value = serde_json::from_str(&stdout(&output)).expect("json");
    assert_eq!(counts(&stats), [2, 0, 1, 1, 4]);

    let missing = run(&mut cli(["inbox", "stats"]), b"");
    assert_eq!(code(&missing), 2, "no --store and no environment variable");
    assert!(stderr(&missing).contains("--store"), "{}", stderr(&missing));
}

#[test]
fn a_target_that_is_not_an_inbox_is_refused() {
    let inbox = Fixture::new();
    // Nothing listens on port 1: the command fails without the password.
    let redis = run(
        &mut cli(["inbox", "stats", "--store", "redis://:s3cret@127.0.0.1:1/0"]),
        b"",
    );
    assert_eq!(code(&redis), 1, "{}", stderr(&redis));
    let message = stderr(&redis);
    assert!(message.starts_with("error: "), "{message}");
    assert!(
        !message.contains("s3cret"),
        "the URL is not echoed: {message}"
    );

    let text = inbox.dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "not a database, just some text that is long enough\n".repeat(20),
    )
    .expect("write");
    let output = run(
        &mut cli(["inbox", "stats", "--store", text.to_str().expect("UTF-8")]),
        b"",
    );
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).starts_with("error: cannot open the inbox at "),
        "{}",
        stderr(&output)
    );

    let directory = run(
        &mut cli([
            "inbox",
            "stats",
            "--store",
            inbox.dir.path().to_str().expect("UTF-8"),
        ]),
        b"",
    );
    assert_eq!(code(&directory), 2, "{}", stderr(&directory));
}

/// The shared test server's URL, from `REDIS_URL`, on a database of its
/// own: the commands use the store's default key prefix.
fn redis_target() -> String {
    let url = match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "this test needs a real Redis: set REDIS_URL, e.g.\n  \
             redis-server --port 6390 --save '' --appendonly no &\n  \
             REDIS_URL=redis://127.0.0.1:6390 cargo test -p protocol-webhooks-cli\n\
             (`cargo xtask ci` starts one and sets REDIS_URL itself)"
        ),
    };
    let server = match url.rsplit_once('/') {
        Some((server, database)) if database.parse::<u8>().is_ok() => server.to_owned(),
        _ => url.trim_end_matches('/').to_owned(),
    };
    format!("{server}/11")
}

#[test]
fn a_redis_inbox_is_read_through_its_url() {
    use protocol_webhooks_inbox::RedisStore;

    let target = redis_target();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = protocol_webhooks_inbox::redis::Client::open(target.as_str()).expect("URL");
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("Redis is up");
        let () = protocol_webhooks_inbox::redis::cmd("FLUSHDB")
            .query_async(&mut connection)
            .await
            .expect("flush the test database");
        let store = RedisStore::open(&target).await.expect("open");
        let inbox = Inbox::new(store);
        accept(&inbox, EventType::ContactCreated, PENDING[0]).await;
        accept(&inbox, EventType::MessageCreated, PENDING[1]).await;
    });

    let output = run(
        &mut cli(["inbox", "stats", "--json", "--store", target.as_str()]),
        b"",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let stats: Value = serde_json::from_str(&stdout(&output)).expect("stats JSON");
    assert_eq!(counts(&stats), [2, 0, 0, 0, 2]);

    let output = run(
        &mut cli([
            "inbox",
            "show",
            PENDING[1],
            "--body",
            "--store",
            target.as_str(),
        ]),
        b"",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(output.stdout, body(&EventType::MessageCreated, PENDING[1]));
}

/// The test certificate (also its own root) and key of a TLS-only Redis.
const TLS_CERT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cert.pem");
const TLS_KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/key.pem");
/// Managed Redis services ask for one: the TLS tests use a password too,
/// and check it is never shown.
const TLS_PASSWORD: &str = "tls-s3cret";

/// A `redis-server` child that accepts TCP connections over TLS only, as
/// managed Redis services do, killed when dropped. Its Unix socket is for
/// filling the inbox: the store trusts the roots of the environment only
/// (`SSL_CERT_FILE`), which this test process must not change.
struct TlsRedis {
    port: u16,
    dir: TempDir,
    child: std::process::Child,
}

impl TlsRedis {
    fn start() -> Self {
        use std::process::{Command, Stdio};

        let dir = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("redis.log")).expect("log file");
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind a free port");
        let port = listener.local_addr().expect("local address").port();
        drop(listener);
        let child = Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string()])
            // 127.0.0.2 too: an address the certificate does not name.
            .args(["--bind", "127.0.0.1", "127.0.0.2"])
            .args(["--tls-cert-file", TLS_CERT, "--tls-key-file", TLS_KEY])
            .args(["--tls-ca-cert-file", TLS_CERT, "--tls-auth-clients", "no"])
            .arg("--unixsocket")
            .arg(dir.path().join("redis.sock"))
            .args(["--requirepass", TLS_PASSWORD])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start redis-server ({error}): this test runs its own, with \
                     TLS; install it, e.g. `apt-get install -y redis-server`"
                )
            });
        let mut server = Self { port, dir, child };
        server.wait_until_up();
        server
    }

    /// Waits until the server answers on its socket; by then it listens on
    /// its TLS port too.
    fn wait_until_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("redis-server status") {
                panic!(
                    "redis-server exited ({status}); a build without TLS refuses \
                     --tls-port. Its log:\n{}",
                    std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
                );
            }
            if self.answers_ping() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers_ping(&self) -> bool {
        use std::io::{Read as _, Write as _};

        let Ok(mut socket) = std::os::unix::net::UnixStream::connect(self.socket()) else {
            return false;
        };
        let _ = socket.set_read_timeout(Some(Duration::from_millis(500)));
        let hello = format!("AUTH {TLS_PASSWORD}\r\nPING\r\n");
        let mut reply = [0u8; 12];
        socket.write_all(hello.as_bytes()).is_ok()
            && socket.read_exact(&mut reply).is_ok()
            && &reply == b"+OK\r\n+PONG\r\n"
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    /// The inbox's URL over TLS, with the password.
    fn tls_url(&self) -> String {
        format!("rediss://:{TLS_PASSWORD}@127.0.0.1:{}", self.port)
    }

    /// The same server through its Unix socket.
    fn socket_url(&self) -> String {
        let path = self.socket();
        format!(
            "redis+unix://{}?pass={TLS_PASSWORD}",
            path.to_str().expect("UTF-8 temp path")
        )
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `inbox ARGS --store URL`, trusting the test certificate and nothing else.
fn inbox_over_tls(url: &str, args: &[&str]) -> Output {
    let mut command = cli(["inbox"]);
    command
        .args(args)
        .args(["--store", url])
        .env("SSL_CERT_FILE", TLS_CERT)
        .env_remove("SSL_CERT_DIR");
    run(&mut command, b"")
}

#[test]
fn a_redis_inbox_is_read_over_tls() {
    use protocol_webhooks_inbox::RedisStore;

    let server = TlsRedis::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = RedisStore::open(&server.socket_url())
            .await
            .expect("open through the socket");
        let inbox = Inbox::new(store);
        accept(&inbox, EventType::ContactCreated, PENDING[0]).await;
        accept(&inbox, EventType::MessageCreated, PENDING[1]).await;
    });
    let url = server.tls_url();

    let stats = inbox_over_tls(&url, &["stats"]);
    assert_eq!(code(&stats), 0, "{}", stderr(&stats));
    assert_eq!(
        stdout(&stats),
        "pending           2\nin_flight         0\ndone              0\ndead              0\n\
         total             2\n"
    );
    assert_eq!(stderr(&stats), "");

    let list = inbox_over_tls(&url, &["list"]);
    assert_eq!(code(&list), 0, "{}", stderr(&list));
    let text = stdout(&list);
    let columns: Vec<Vec<&str>> = text
        .lines()
        .map(|line| line.split_whitespace().take(4).collect())
        .collect();
    assert_eq!(
        columns,
        [
            [PENDING[0], "contact.created", "pending", "0"],
            [PENDING[1], "message.created", "pending", "0"],
        ],
        "{text}"
    );

    let shown = inbox_over_tls(&url, &["show", PENDING[1], "--body"]);
    assert_eq!(code(&shown), 0, "{}", stderr(&shown));
    assert_eq!(shown.stdout, body(&EventType::MessageCreated, PENDING[1]));
}

#[test]
fn an_untrusted_tls_certificate_is_an_error_without_the_password() {
    let server = TlsRedis::start();
    let url = server.tls_url();
    // The system's roots only, which do not hold the test certificate.
    let mut command = cli(["inbox", "stats", "--store", url.as_str()]);
    command
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    let output = run(&mut command, b"");
    let message = stderr(&output);
    assert_eq!(code(&output), 1, "a store error, not a panic: {message}");
    assert_eq!(stdout(&output), "");
    assert!(message.starts_with("error: "), "{message}");
    assert!(message.contains("certificate"), "{message}");
    assert_eq!(
        message.matches("invalid peer certificate").count(),
        1,
        "each cause once: {message}"
    );
    assert!(!message.contains("panicked"), "{message}");
    assert!(
        !message.contains(TLS_PASSWORD),
        "the URL is not echoed: {message}"
    );

    // Trusted, but not for this address: the certificate names 127.0.0.1
    // and localhost only.
    let other_host = url.replacen("@127.0.0.1:", "@127.0.0.2:", 1);
    let output = inbox_over_tls(&other_host, &["stats"]);
    let message = stderr(&output);
    assert_eq!(
        code(&output),
        1,
        "a certificate for another host: {message}"
    );
    assert!(
        message.contains("certificate not valid for name \"127.0.0.2\""),
        "{message}"
    );
    assert!(!message.contains(TLS_PASSWORD), "{message}");

    let plain = url.replacen("rediss://", "redis://", 1);
    let output = run(&mut cli(["inbox", "stats", "--store", plain.as_str()]), b"");
    assert_eq!(code(&output), 1, "TCP is TLS only: {}", stderr(&output));
    assert!(
        !stderr(&output).contains(TLS_PASSWORD),
        "{}",
        stderr(&output)
    );
}
