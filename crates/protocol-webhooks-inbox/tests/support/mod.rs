//! Finding the test Redis, and running a private one that can be stopped.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use protocol_webhooks::dedup::ClaimToken;
use protocol_webhooks_inbox::redis::{self, AsyncCommands};

/// The shared test server's URL, from `REDIS_URL`.
pub(crate) fn redis_url() -> String {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "these tests need a real Redis: set REDIS_URL, e.g.\n  \
             redis-server --port 6390 --save '' --appendonly no &\n  \
             REDIS_URL=redis://127.0.0.1:6390 cargo test -p protocol-webhooks-inbox --all-features\n\
             (`cargo xtask ci` starts one and sets REDIS_URL itself)"
        ),
    }
}

/// A key prefix no other test or run uses, so tests can share one server.
pub(crate) fn unique_prefix() -> String {
    let token = ClaimToken::random().expect("randomness");
    format!("protocol-webhooks-inbox-test:{}", token.to_hex())
}

/// A plain connection, to look at the keys.
pub(crate) async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect")
}

/// Deletes every key of the inbox under `prefix`, so the shared server does
/// not fill up with test data.
pub(crate) async fn forget(prefix: &str) {
    let mut connection = raw(&redis_url()).await;
    let keys: Vec<String> = {
        let mut iter = connection
            .scan_match::<_, String>(format!("{{{prefix}}}:*"))
            .await
            .expect("SCAN");
        let mut keys = Vec::new();
        while let Some(key) = futures_next(&mut iter).await {
            keys.push(key);
        }
        keys
    };
    if !keys.is_empty() {
        let _: i64 = connection.del(keys).await.expect("DEL");
    }
}

async fn futures_next<T>(iter: &mut redis::AsyncIter<'_, T>) -> Option<T>
where
    T: redis::FromRedisValue + Unpin + Send,
{
    iter.next_item().await.transpose().expect("SCAN item")
}

/// A `redis-server` child on its own port, killed (SIGKILL) when dropped.
pub(crate) struct PrivateRedis {
    port: u16,
    args: Vec<String>,
    child: Option<Child>,
    /// The working directory, holding the append-only file if any.
    dir: tempfile::TempDir,
}

impl PrivateRedis {
    /// Starts a server on a free port without persistence.
    pub(crate) fn start() -> Self {
        Self::start_with(&["--save", "", "--appendonly", "no"])
    }

    /// Starts a server on a free port that writes and fsyncs its
    /// append-only file before answering each write: what a durable inbox
    /// requires of Redis.
    pub(crate) fn start_durable() -> Self {
        Self::start_with(&[
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ])
    }

    /// Starts a server on a free port with extra arguments.
    pub(crate) fn start_with(args: &[&str]) -> Self {
        let mut server = Self {
            port: free_port(),
            args: args.iter().map(|arg| (*arg).to_owned()).collect(),
            child: None,
            dir: tempfile::tempdir().expect("temp dir"),
        };
        server.restart();
        server
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL, as a crash) and waits until it is gone.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory.
    pub(crate) fn restart(&mut self) {
        self.kill();
        let dir: PathBuf = self.dir.path().to_path_buf();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&dir)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start redis-server ({error}): these tests run their own \
                     server; install it, e.g. `apt-get install -y redis-server`"
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !answers_ping(self.port) {
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not answer PING within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port on 127.0.0.1 that nothing listened on a moment ago.
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}
