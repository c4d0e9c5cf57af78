//! A Redis for the tests that need one (`protocol-webhooks-redis`):
//! `REDIS_URL` when it is set, otherwise a private `redis-server` on a free
//! local port, installed first when it is missing and this runs as root.

use core::fmt;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cmd::Cmd;
use crate::server::{Process, free_port};

/// The variable the tests read the server's URL from.
const URL_VAR: &str = "REDIS_URL";
/// What to run by hand when `redis-server` is missing and this is not root.
const INSTALL_HINT: &str = "sudo apt-get update && sudo apt-get install -y redis-server";
/// How long a fresh server may take to answer `PING`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
const PING_INTERVAL: Duration = Duration::from_millis(25);
/// A free port can be taken by someone else between finding it and the
/// server binding it; a few attempts with fresh ports make that harmless.
const START_ATTEMPTS: usize = 3;

/// A Redis the tests can use; a server started here is killed on drop.
#[derive(Debug)]
pub(crate) struct RedisServer {
    url: String,
    /// Held only to be dropped, which stops the server; `None` when the
    /// server came from `REDIS_URL` and is not ours to stop.
    _server: Option<Process>,
}

impl RedisServer {
    /// The URL to pass to the tests as `REDIS_URL`, e.g.
    /// `redis://127.0.0.1:40123`.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

/// Why no Redis could be provided.
#[derive(Debug)]
pub(crate) enum RedisError {
    /// `redis-server` is not on `PATH` and cannot be installed from here.
    NotInstalled,
    /// Installing it ran but failed, or did not put it on `PATH`.
    Install(String),
    /// No free local port could be found.
    NoPort(io::Error),
    /// `redis-server` could not be started.
    Start(io::Error),
    /// It started but never answered `PING`.
    NotReady {
        /// The ports tried, one per attempt.
        ports: Vec<u16>,
    },
}

impl fmt::Display for RedisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInstalled => write!(
                f,
                "redis-server is not on PATH: install it with `{INSTALL_HINT}`, \
                 or set {URL_VAR} to a running Redis"
            ),
            Self::Install(reason) => write!(
                f,
                "installing redis-server failed ({reason}); install it with `{INSTALL_HINT}`, \
                 or set {URL_VAR} to a running Redis"
            ),
            Self::NoPort(error) => write!(f, "no free local port for redis-server: {error}"),
            Self::Start(error) => write!(f, "cannot start redis-server: {error}"),
            Self::NotReady { ports } => write!(
                f,
                "redis-server did not answer PING within {READY_TIMEOUT:?} (ports tried: {ports:?})"
            ),
        }
    }
}

impl core::error::Error for RedisError {}

impl From<RedisError> for crate::Error {
    fn from(error: RedisError) -> Self {
        Self::failed(error)
    }
}

/// A Redis for the tests: the one at `REDIS_URL` if that is set, otherwise
/// a new `redis-server` on a free `127.0.0.1` port, without persistence,
/// stopped when the returned value is dropped. A missing `redis-server` is
/// installed with apt-get when running as root.
///
/// Pass [`RedisServer::url`] to the tests as `REDIS_URL` and keep the value
/// alive until they finish.
pub(crate) fn ensure_redis() -> Result<RedisServer, RedisError> {
    let configured = std::env::var(URL_VAR).ok().filter(|url| !url.is_empty());
    ensure_redis_from(configured)
}

fn ensure_redis_from(configured: Option<String>) -> Result<RedisServer, RedisError> {
    if let Some(url) = configured {
        eprintln!("redis: using {URL_VAR}={url}");
        return Ok(RedisServer { url, _server: None });
    }
    let program = match find_on_path("redis-server") {
        Some(program) => program,
        None => install()?,
    };
    start(&program)
}

/// The first executable file called `name` in a `PATH` directory.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Installs redis-server with apt-get, only as root: anyone else gets the
/// command to run, rather than a sudo prompt in the middle of CI.
fn install() -> Result<PathBuf, RedisError> {
    if !is_root() {
        return Err(RedisError::NotInstalled);
    }
    eprintln!("redis: redis-server is not on PATH; installing it");
    let root = Path::new("/");
    let apt = || Cmd::new("apt-get", root).env("DEBIAN_FRONTEND", "noninteractive");
    apt()
        .arg("update")
        .run()
        .map_err(|error| RedisError::Install(error.to_string()))?;
    apt()
        .args(["install", "-y", "redis-server"])
        .run()
        .map_err(|error| RedisError::Install(error.to_string()))?;
    find_on_path("redis-server").ok_or_else(|| {
        RedisError::Install(String::from(
            "apt-get succeeded but redis-server is not on PATH",
        ))
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.status.success() && output.stdout.trim_ascii() == b"0")
}

/// Starts the server on a free port and waits until it answers.
fn start(program: &Path) -> Result<RedisServer, RedisError> {
    let mut ports = Vec::new();
    for _ in 0..START_ATTEMPTS {
        let port = free_port().map_err(RedisError::NoPort)?;
        ports.push(port);
        // Guarded from here, so a server that is not ready is stopped at the
        // end of the attempt.
        let mut process = Process::spawn(
            Command::new(program)
                .args(["--port", &port.to_string()])
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .map_err(RedisError::Start)?;
        // An exit counts as not ready: the port was likely taken meanwhile,
        // and the next attempt gets a fresh one.
        let ready = process.wait_until_ready(READY_TIMEOUT, PING_INTERVAL, |_| {
            if answers_ping(port) { Ok(()) } else { Err(()) }
        });
        if ready.is_ok() {
            let url = format!("redis://127.0.0.1:{port}");
            eprintln!("redis: started redis-server at {url}");
            return Ok(RedisServer {
                url,
                _server: Some(process),
            });
        }
    }
    Err(RedisError::NotReady { ports })
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

    /// A one-connection server that answers whatever it is sent with `reply`.
    fn fake_server(reply: &'static [u8]) -> (u16, thread::JoinHandle<()>) {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = listener.local_addr().expect("address").port();
        let server = thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut request = [0u8; 6];
                if stream.read_exact(&mut request).is_ok() && &request == b"PING\r\n" {
                    let _ = stream.write_all(reply);
                }
            }
        });
        (port, server)
    }

    #[test]
    fn ping_wants_pong() {
        let (port, server) = fake_server(b"+PONG\r\n");
        assert!(answers_ping(port));
        server.join().expect("server");

        let (port, server) = fake_server(b"-LOADING Redis is loading\r\n");
        assert!(!answers_ping(port));
        server.join().expect("server");
    }

    #[test]
    fn ping_on_a_closed_port_fails() {
        let port = free_port().expect("free port");
        assert!(!answers_ping(port));
    }

    #[test]
    fn starts_a_server_that_answers_and_stops_it_on_drop() {
        let Some(program) = find_on_path("redis-server") else {
            panic!("redis-server is not on PATH: install it with `{INSTALL_HINT}`");
        };
        let server = start(&program).expect("redis-server starts");
        let port: u16 = server
            .url()
            .strip_prefix("redis://127.0.0.1:")
            .and_then(|port| port.parse().ok())
            .expect("a local URL with a port");
        assert!(answers_ping(port));
        drop(server);
        assert!(!answers_ping(port), "the server is stopped on drop");
    }

    #[test]
    fn a_configured_url_is_used_as_is() {
        let server = ensure_redis_from(Some(String::from("redis://10.0.0.7:6380"))).expect("url");
        assert_eq!(server.url(), "redis://10.0.0.7:6380");
        assert!(server._server.is_none());
    }

    #[test]
    fn programs_are_found_on_path() {
        assert!(find_on_path("sh").is_some());
        assert!(find_on_path("xtask-no-such-program").is_none());
    }

    #[test]
    fn missing_redis_names_the_install_command() {
        let message = RedisError::NotInstalled.to_string();
        assert!(
            message.contains("apt-get install -y redis-server"),
            "{message}"
        );
        assert!(message.contains("REDIS_URL"), "{message}");
    }
}
