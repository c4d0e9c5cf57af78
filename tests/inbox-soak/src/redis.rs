//! A Redis server of the test's own, that can be killed and started again
//! on the same port and data, and the inbox's counts and the example's
//! handled ids in it.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use protocol_webhooks_inbox::redis::{self, AsyncCommands as _, RedisError};
use protocol_webhooks_inbox::{InboxStore as _, RedisStore};

/// How long a start may take, the append-only file's loading included.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The example's list of handled ids, under the inbox's prefix
/// (`{prefix}:handled`): its handler pushes an event's id in the script
/// that marks the event done.
pub const HANDLED_LIST: &str = "handled";

/// `redis-server` on a free port of 127.0.0.1, keeping its data in a
/// folder: the append-only file, synced before each write is answered
/// (`appendfsync always`), so a SIGKILL loses nothing it acknowledged and a
/// start on the same folder has it all. Killed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    starts: usize,
}

impl RedisServer {
    /// Starts `redis-server` with its data and log in `dir`.
    ///
    /// # Panics
    /// When `redis-server` is not on `PATH`, or does not start.
    pub fn start(dir: &Path) -> Self {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut server = Self {
            port,
            dir: dir.to_path_buf(),
            log: dir.join("redis.log"),
            child: None,
            starts: 0,
        };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// How many times the server was started.
    #[must_use]
    pub fn starts(&self) -> usize {
        self.starts
    }

    /// Starts the server (again) on the same port and folder, and waits
    /// until it answers `PING` with `PONG` (its data loaded).
    ///
    /// # Panics
    /// When it is running already, `redis-server` is not on `PATH`, or it
    /// does not answer within 30 s.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "redis-server is running already");
        let port = self.port.to_string();
        let dir = self.dir.to_str().expect("a UTF-8 temporary path");
        let log = self.log.to_str().expect("a UTF-8 temporary path");
        let spawned = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--dir", dir])
            .args(["--logfile", log, "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .args(["--maxmemory-policy", "noeviction"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
                "redis-server is not on PATH: the Redis inbox tests need it \
                 (e.g. `apt-get install redis-server`)"
            ),
            Err(error) => panic!("redis-server does not start: {error}"),
        };
        self.starts += 1;
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("redis-server's status") {
                panic!("redis-server exited at start ({status}):\n{}", self.tail());
            }
            if ping(self.port) {
                break;
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "redis-server did not answer PING within {START_TIMEOUT:?}:\n{}",
                    self.tail()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child = Some(child);
    }

    /// SIGKILL, then reaps the process.
    ///
    /// # Panics
    /// When it is not running.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("a running redis-server to kill");
        child.kill().expect("SIGKILL");
        child.wait().expect("the killed redis-server is reaped");
    }

    /// The last lines of the server's log, for a failure message.
    #[must_use]
    pub fn tail(&self) -> String {
        let lines = crate::example::read_lines(&self.log);
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether Redis answers `PING` with `PONG` (not `-LOADING`).
fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut reply = [0; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

/// The example's settings for the Redis tests: `role` (`receiver` or
/// `worker`) on the inbox at `url` under `prefix`, a fifth of the attempts
/// failing, and a 3 s lease after which a killed worker's events are taken
/// by another worker (or by itself, restarted). Each success is the
/// event's id in [`RedisInbox::handled`].
#[must_use]
pub fn redis_example_env(
    role: &'static str,
    url: &str,
    prefix: &str,
    concurrency: usize,
) -> Vec<(&'static str, String)> {
    [
        ("ROLE", role),
        ("INBOX_URL", url),
        ("INBOX_REDIS_PREFIX", prefix),
        ("INBOX_FAIL_RATE", "0.2"),
        ("INBOX_ATTEMPTS", "50"),
        ("INBOX_BACKOFF_MS", "20"),
        ("INBOX_BACKOFF_MAX_MS", "500"),
        ("INBOX_LEASE_MS", "3000"),
        ("INBOX_POLL_MS", "100"),
    ]
    .into_iter()
    .map(|(name, value)| (name, value.to_owned()))
    .chain([("INBOX_CONCURRENCY", concurrency.to_string())])
    .collect()
}

/// The inbox in a Redis server under one key prefix, read by the test as
/// an operator reads it, and the example's handled ids beside it.
#[derive(Debug)]
pub struct RedisInbox {
    runtime: tokio::runtime::Runtime,
    store: RedisStore,
    /// For the handled ids: the store has no command of its own to list a
    /// key it does not keep.
    client: redis::Client,
}

impl RedisInbox {
    /// The inbox at `url` under `prefix`, connected on first use.
    ///
    /// # Panics
    /// When the URL or prefix is invalid.
    #[must_use]
    pub fn new(url: &str, prefix: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let store = runtime
            .block_on(async { RedisStore::options().prefix(prefix).open_lazy(url) })
            .expect("the Redis inbox");
        let client = redis::Client::open(url).expect("the Redis URL");
        Self {
            runtime,
            store,
            client,
        }
    }

    /// The example's handled ids (`LRANGE {prefix}:handled 0 -1`), in the
    /// order they were pushed; an id handled twice is there twice.
    ///
    /// # Errors
    /// When Redis cannot be read.
    pub fn handled(&self) -> Result<Vec<String>, RedisError> {
        let key = self.store.key(HANDLED_LIST);
        self.runtime.block_on(async {
            let mut connection = self.client.get_multiplexed_async_connection().await?;
            connection.lrange(key, 0, -1).await
        })
    }

    /// The count per state and `total`, as `protocol-webhooks inbox stats
    /// --json` prints them.
    ///
    /// # Errors
    /// When Redis cannot be read.
    pub fn stats(&self) -> Result<serde_json::Value, String> {
        let stats = self
            .runtime
            .block_on(self.store.stats())
            .map_err(|error| error.to_string())?;
        Ok(serde_json::json!({
            "pending": stats.pending,
            "in_flight": stats.in_flight,
            "done": stats.done,
            "dead": stats.dead,
            "total": stats.pending + stats.in_flight + stats.done + stats.dead,
        }))
    }

    /// Entries pending or in flight; `u64::MAX` when Redis cannot be read.
    #[must_use]
    pub fn busy(&self) -> u64 {
        self.stats().map_or(u64::MAX, |stats| {
            ["pending", "in_flight"]
                .iter()
                .map(|state| stats[state].as_u64().unwrap_or(u64::MAX))
                .fold(0, u64::saturating_add)
        })
    }
}
