//! The example as a process that can be killed and started again on the
//! same file and port.

use std::fs::{File, OpenOptions};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::SECRET;

/// How long a start may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a SIGTERM may take to stop the example.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// The example binary with its environment, running or not. Its output,
/// over every start, goes to one log file. A running process is killed
/// when this is dropped, so a failing test leaves none behind.
#[derive(Debug)]
pub struct Example {
    binary: PathBuf,
    env: Vec<(String, String)>,
    port: u16,
    log: PathBuf,
    child: Option<Child>,
    starts: usize,
    /// Whether a start waits for the port (a receiver) or for the
    /// worker's `worker started` line (a worker alone serves no HTTP).
    listens: bool,
}

impl Example {
    /// The example on a free port, with `SECRET`, logging at `info` to
    /// `log` (appended to), and `env` besides; not started yet.
    ///
    /// # Panics
    /// When no free port can be found.
    pub fn new<K: AsRef<str>, V: AsRef<str>>(binary: &Path, log: &Path, env: &[(K, V)]) -> Self {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut all = vec![
            ("PROTOCOL_WEBHOOK_SECRET".to_owned(), SECRET.to_owned()),
            ("PORT".to_owned(), port.to_string()),
            ("RUST_LOG".to_owned(), "info".to_owned()),
        ];
        all.extend(
            env.iter()
                .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())),
        );
        Self {
            binary: binary.to_path_buf(),
            env: all,
            port,
            log: log.to_path_buf(),
            child: None,
            starts: 0,
            listens: true,
        }
    }

    /// Like [`new`](Self::new), for a process that serves no HTTP (`ROLE=worker`
    /// in `env`): a start waits for its `worker started` line instead of
    /// the port.
    ///
    /// # Panics
    /// When no free port can be found.
    pub fn worker<K: AsRef<str>, V: AsRef<str>>(binary: &Path, log: &Path, env: &[(K, V)]) -> Self {
        let mut example = Self::new(binary, log, env);
        example.listens = false;
        example
    }

    /// `http://127.0.0.1:PORT/webhooks`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/webhooks", self.port)
    }

    /// Changes one variable for the next starts (`None` removes it).
    pub fn set_env(&mut self, name: &str, value: Option<&str>) {
        self.env.retain(|(key, _)| key != name);
        if let Some(value) = value {
            self.env.push((name.to_owned(), value.to_owned()));
        }
    }

    /// How many times the process was started.
    #[must_use]
    pub fn starts(&self) -> usize {
        self.starts
    }

    /// Whether the process is running (started and not killed or stopped).
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the process and waits until its port accepts connections
    /// (a worker alone: until it logged `worker started`).
    ///
    /// # Panics
    /// When it is running already, cannot start, exits, or does not
    /// listen within a minute.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "the example is running already");
        let workers_started = self.count_lines("worker started");
        let output = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the example's log file");
        let errors = output.try_clone().expect("the log file again");
        let mut child = Command::new(&self.binary)
            .env_clear()
            .envs(std::env::var_os("PATH").map(|path| ("PATH", path)))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(output))
            .stderr(Stdio::from(errors))
            .spawn()
            .expect("the example starts");
        self.starts += 1;
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("the example's status") {
                panic!("the example exited at start ({status}):\n{}", self.tail());
            }
            let ready = if self.listens {
                TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok()
            } else {
                self.count_lines("worker started") > workers_started
            };
            if ready {
                break;
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "the example did not start (port {}) within {START_TIMEOUT:?}:\n{}",
                self.port,
                self.tail()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown, no flush; then reaps the process.
    ///
    /// # Panics
    /// When it is not running or cannot be killed.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("a running example to kill");
        child.kill().expect("SIGKILL");
        child.wait().expect("the killed example is reaped");
    }

    /// SIGTERM, the graceful stop, and its exit status.
    ///
    /// # Panics
    /// When it is not running, or does not exit within a minute (it is
    /// then killed).
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("a running example to stop");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill -TERM runs");
        assert!(status.success(), "kill -TERM failed: {status}");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("the example's status") {
                return status;
            }
            if started.elapsed() > STOP_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the example did not stop within {STOP_TIMEOUT:?} of SIGTERM:\n{}",
                    self.tail()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every line the example wrote so far, over all its starts.
    #[must_use]
    pub fn log_lines(&self) -> Vec<String> {
        read_lines(&self.log)
    }

    /// How many lines of the log contain `text`.
    #[must_use]
    pub fn count_lines(&self, text: &str) -> usize {
        self.log_lines()
            .iter()
            .filter(|line| line.contains(text))
            .count()
    }

    /// The last lines of the log, for a failure message.
    #[must_use]
    pub fn tail(&self) -> String {
        let lines = self.log_lines();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The lines of a text file; none when it does not exist.
///
/// # Panics
/// When it exists but cannot be read.
#[must_use]
pub(crate) fn read_lines(path: &Path) -> Vec<String> {
    match File::open(path) {
        Ok(_) => std::fs::read_to_string(path)
            .expect("a readable text file")
            .lines()
            .map(str::to_owned)
            .collect(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => panic!("{}: {error}", path.display()),
    }
}
