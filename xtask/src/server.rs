//! Processes that commands start and talk to over 127.0.0.1: a free port to
//! give them, a guard that stops them on every path out, and the wait until
//! they are ready; among them, a Redis for the tests that need one
//! (`protocol-webhooks-redis`).

use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::fs::{self, File};
use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::thread;
use std::time::Instant;

use crate::cmd::{Cmd, ensure_installed};
use crate::{Context as _, Error, Result};

/// Output lines kept to explain a failure.
const LOG_TAIL: usize = 20;

/// The variable the Redis tests read the server's URL from.
const URL_VAR: &str = "REDIS_URL";
/// How long a fresh Redis may take to answer `PING`.
const REDIS_READY_TIMEOUT: Duration = Duration::from_secs(10);
const PING_INTERVAL: Duration = Duration::from_millis(25);
/// A free port can be taken by someone else between finding it and the
/// server binding it; a few attempts with fresh ports make that harmless.
const START_ATTEMPTS: usize = 3;

/// A port on 127.0.0.1 that nothing listened on a moment ago. Another
/// process could take it before the server binds it; rare enough on a
/// developer or CI machine, and the server then fails to start, which its
/// caller reports or retries.
pub(crate) fn free_port() -> Result<u16> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .context("cannot reserve a loopback port")
}

/// A started child process, killed and reaped when dropped, so that no
/// error path can leave it running.
#[derive(Debug)]
pub(crate) struct Process {
    child: Child,
    cmd: String,
    /// Its stdout and stderr, in the order written. A file, unlike a pipe
    /// left unread, never fills up and blocks the child.
    log: PathBuf,
}

impl Process {
    /// Starts `cmd` with no stdin and its output logged.
    pub(crate) fn start(cmd: &Cmd) -> Result<Self> {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let number = STARTED.fetch_add(1, Ordering::Relaxed);
        let log = std::env::temp_dir().join(format!("xtask-{}-{number}.log", std::process::id()));
        let stdout = File::create(&log).context(log.display())?;
        let stderr = stdout.try_clone().context(log.display())?;
        let (child, cmd) = (cmd.spawn(stdout.into(), stderr.into())?, cmd.to_string());
        Ok(Self { child, cmd, log })
    }

    fn output(&self) -> String {
        let bytes = fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Runs `ready` every `interval` until it says yes; fails, with the last
    /// lines printed, when the process exits first or `timeout` passes.
    pub(crate) fn wait_until_ready(
        &mut self,
        timeout: Duration,
        interval: Duration,
        mut ready: impl FnMut(&Self) -> bool,
    ) -> Result {
        let deadline = Instant::now() + timeout;
        while !ready(self) {
            let problem = if let Ok(Some(status)) = self.child.try_wait() {
                format!("exited before it was ready ({status})")
            } else if Instant::now() >= deadline {
                format!("was not ready within {} s", timeout.as_secs_f32())
            } else {
                thread::sleep(interval);
                continue;
            };
            let mut message = format!("`{}` {problem}", self.cmd);
            let output = self.output();
            let lines: Vec<&str> = output.lines().collect();
            if !lines.is_empty() {
                let tail = &lines[lines.len().saturating_sub(LOG_TAIL)..];
                message += &format!("; its last output:\n{}", tail.join("\n"));
            }
            return Err(Error::Failed(message));
        }
        Ok(())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Each fails only when there is nothing left to do: the process
        // already reaped, the log already gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.log);
    }
}

/// A Redis for the tests: the URL to pass them as `REDIS_URL`, and the
/// server started for them, stopped when dropped, so kept until they
/// finish. A `REDIS_URL` already set names one not ours to start or stop.
pub(crate) fn ensure_redis() -> Result<(String, Option<Process>)> {
    if let Some(url) = std::env::var(URL_VAR).ok().filter(|url| !url.is_empty()) {
        eprintln!("redis: using {URL_VAR}={url}");
        return Ok((url, None));
    }
    let or = |error| Error::Failed(format!("{error}; or set {URL_VAR} to a running Redis"));
    ensure_installed("redis-server", "redis-server").map_err(or)?;
    start_redis()
}

/// Starts the server on a free port, without persistence, and waits until
/// it answers.
fn start_redis() -> Result<(String, Option<Process>)> {
    let mut ports = Vec::new();
    for _ in 0..START_ATTEMPTS {
        let port = free_port()?;
        ports.push(port);
        let settings = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
        let cmd = Cmd::new("redis-server", Path::new("/")).args(["--port", &port.to_string()]);
        // Guarded from here, so a server that is not ready is stopped at the
        // end of the attempt. An exit counts as not ready: the port was
        // likely taken meanwhile, and the next attempt gets a fresh one.
        let mut server = Process::start(&cmd.args(settings))?;
        let ready =
            server.wait_until_ready(REDIS_READY_TIMEOUT, PING_INTERVAL, |_| answers_ping(port));
        if ready.is_ok() {
            let url = format!("redis://127.0.0.1:{port}");
            eprintln!("redis: started redis-server at {url}");
            return Ok((url, Some(server)));
        }
    }
    let within = format!("within {REDIS_READY_TIMEOUT:?} (ports tried: {ports:?})");
    let failed = format!("redis-server did not answer PING {within}");
    Err(Error::Failed(failed))
}

/// Whether a Redis on `127.0.0.1:port` answers an inline `PING` with `+PONG`.
fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let mut reply = [0u8; 7];
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .is_ok()
        && stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

#[cfg(test)]
mod tests {
    use std::thread;

    use super::*;

    fn sh(script: &str) -> Cmd {
        Cmd::new("sh", Path::new("/")).args(["-c", script])
    }

    const POLL: Duration = Duration::from_millis(10);

    #[cfg(target_os = "linux")]
    #[test]
    fn ready_on_a_printed_line_then_killed_and_reaped() {
        let script = "echo starting >&2; echo 'listening on :1'; exec sleep 30";
        let mut process = Process::start(&sh(script)).expect("sh starts");
        let listening = |process: &Process| process.output().contains("listening on");
        let ready = process.wait_until_ready(Duration::from_secs(30), POLL, listening);
        assert!(ready.is_ok(), "{ready:?}");
        assert_eq!(process.output(), "starting\nlistening on :1\n");
        let (running, log) = (format!("/proc/{}", process.child.id()), process.log.clone());
        assert!(Path::new(&running).exists(), "still running");
        drop(process);
        assert!(!Path::new(&running).exists(), "killed and reaped");
        assert!(!log.exists(), "log removed");
    }

    #[test]
    fn an_early_exit_or_a_timeout_is_reported() {
        let script = "for i in $(seq 1 30); do echo line $i; done; exit 3";
        let mut process = Process::start(&sh(script)).expect("sh starts");
        let error = process.wait_until_ready(Duration::from_secs(30), POLL, |_| false);
        let tail: String = (11..=30).map(|i| format!("\nline {i}")).collect();
        let exited = "exited before it was ready (exit status: 3)";
        let expected = format!("`sh -c '{script}'` {exited}; its last output:{tail}");
        assert_eq!(error.expect_err("never ready").to_string(), expected);

        let mut process = Process::start(&sh("exec sleep 30")).expect("sh starts");
        let error = process.wait_until_ready(Duration::from_millis(50), POLL, |_| false);
        let expected = "`sh -c 'exec sleep 30'` was not ready within 0.05 s";
        assert_eq!(error.expect_err("never ready").to_string(), expected);
    }

    /// A one-connection server that answers a `PING` with `reply`.
    fn fake_server(reply: &'static [u8]) -> u16 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = listener.local_addr().expect("address").port();
        thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("a connection");
            let mut request = [0u8; 6];
            if stream.read_exact(&mut request).is_ok() && &request == b"PING\r\n" {
                let _ = stream.write_all(reply);
            }
        });
        port
    }

    #[test]
    fn ping_wants_pong() {
        assert!(answers_ping(fake_server(b"+PONG\r\n")));
        assert!(!answers_ping(fake_server(b"-LOADING Redis is loading\r\n")));
        let closed = free_port().expect("free port");
        assert!(!answers_ping(closed), "closed port");
    }

    #[test]
    fn starts_a_server_that_answers_and_stops_it_on_drop() {
        let (url, server) =
            start_redis().expect("redis-server starts (`cargo xtask ci` installs it)");
        assert!(url.starts_with("redis://127.0.0.1:"), "{url}");
        let port = url.rsplit(':').next().and_then(|port| port.parse().ok());
        let port = port.expect("a port");
        assert!(answers_ping(port));
        drop(server);
        assert!(!answers_ping(port), "the server is stopped on drop");
    }
}
