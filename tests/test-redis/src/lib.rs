//! A `redis-server` of a test's own, for the tests that stop, freeze or
//! restart Redis, or need settings the shared test server (`REDIS_URL`)
//! does not have. Shared by the Redis stores' test suites and the inbox
//! soaks.

#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a started server has to answer `PING`, loading its
/// append-only file included.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A `redis-server` child on a free port of 127.0.0.1, in a directory of
/// its own (where its append-only file and its log go), killed (SIGKILL)
/// when dropped.
#[derive(Debug)]
pub struct PrivateRedis {
    port: u16,
    args: Vec<String>,
    child: Option<Child>,
    dir: tempfile::TempDir,
    starts: usize,
}

impl PrivateRedis {
    /// Starts a server without persistence.
    ///
    /// # Panics
    /// When `redis-server` is not on `PATH` or does not answer in time.
    #[must_use]
    pub fn start() -> Self {
        Self::start_with(&["--save", "", "--appendonly", "no"])
    }

    /// Starts a server that writes and fsyncs its append-only file before
    /// answering each write: what a durable inbox requires of Redis.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    #[must_use]
    pub fn start_durable() -> Self {
        Self::start_with(&[
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ])
    }

    /// Starts a server with these arguments after its port, address and
    /// directory.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    #[must_use]
    pub fn start_with(args: &[&str]) -> Self {
        let mut server = Self {
            port: free_port(),
            args: args.iter().map(|arg| (*arg).to_owned()).collect(),
            child: None,
            dir: tempfile::tempdir().expect("a temporary directory for redis-server"),
            starts: 0,
        };
        server.restart();
        server
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// How many times the server was started.
    #[must_use]
    pub fn starts(&self) -> usize {
        self.starts
    }

    /// The last lines of the server's log, for a failure message.
    #[must_use]
    pub fn tail(&self) -> String {
        let log = std::fs::read_to_string(self.log()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn log(&self) -> std::path::PathBuf {
        self.dir.path().join("redis.log")
    }

    /// Kills the server (SIGKILL, as a crash) and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing answers.
    ///
    /// # Panics
    /// When it is not running.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused server (SIGCONT).
    ///
    /// # Panics
    /// When it is not running.
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("the server is running");
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} failed: {status}");
    }

    /// Starts the server again on the same port, directory and arguments:
    /// without persistence it starts empty, with an append-only file it
    /// loads it.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub fn restart(&mut self) {
        self.kill();
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(self.log())
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start redis-server ({error}): these tests run their own \
                     server; install it, e.g. `apt-get install -y redis-server`"
                )
            });
        self.starts += 1;
        let deadline = Instant::now() + START_TIMEOUT;
        while !answers_ping(self.port) {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("redis-server exited at start ({status}):\n{}", self.tail());
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "redis-server on port {} did not answer PING within {START_TIMEOUT:?}:\n{}",
                    self.port,
                    self.tail()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child = Some(child);
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port on 127.0.0.1 that nothing listened on a moment ago.
///
/// # Panics
/// When no port can be bound.
#[must_use]
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Whether it answers `PING` with `PONG`: not yet while it loads its
/// append-only file (`-LOADING`).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_server_stops_answering_and_a_restarted_one_answers_again() {
        let mut server = PrivateRedis::start();
        assert!(answers_ping(server.port()));
        server.kill();
        assert!(!answers_ping(server.port()));
        server.restart();
        assert!(answers_ping(server.port()));
        assert_eq!(server.starts(), 2);
        assert!(
            server.tail().contains("Ready to accept connections"),
            "{}",
            server.tail()
        );
    }
}
