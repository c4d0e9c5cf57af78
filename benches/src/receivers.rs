//! The five example receivers of the main workspace (`examples/`), built in
//! release and started as separate processes, for the tools that probe
//! them over raw sockets (`framing`, `slowloris`).

use core::net::SocketAddr;
use core::time::Duration;
use std::io::{self, BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use protocol_webhooks::Key;

/// The secret the receivers are started with and the tools sign with.
pub const RECEIVER_SECRET: &str = "whsec_receiver_probe";

/// How long a receiver may take to log that it listens.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The main workspace: the parent of this one.
fn main_workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds the example receivers of `frameworks` in release, in the main
/// workspace, and returns their paths in the same order.
///
/// # Errors
/// When cargo cannot run or the build fails.
pub fn build(frameworks: &[&str]) -> Result<Vec<PathBuf>, String> {
    let root = main_workspace();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args(["build", "--release"])
        .stdin(Stdio::null());
    let mut shown = String::from("cargo build --release");
    for framework in frameworks {
        command.args(["-p", &format!("example-{framework}")]);
        shown.push_str(&format!(" -p example-{framework}"));
    }
    let _ = writeln!(io::stderr().lock(), "$ {shown}");
    let status = command
        .status()
        .map_err(|error| format!("cannot start `{shown}`: {error}"))?;
    if !status.success() {
        return Err(format!("`{shown}` failed: {status}"));
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    Ok(frameworks
        .iter()
        .map(|framework| {
            target.join("release").join(format!(
                "example-{framework}{}",
                std::env::consts::EXE_SUFFIX
            ))
        })
        .collect())
}

/// A running example receiver on a free 127.0.0.1 port, killed when
/// dropped. Its log lines are kept.
#[derive(Debug)]
pub struct Receiver {
    /// The framework's name.
    pub framework: &'static str,
    /// Where it listens.
    pub address: SocketAddr,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    /// Starts `binary` with [`RECEIVER_SECRET`], `PORT=0`, `RUST_LOG=info`
    /// and `env`, and waits for its `listening on http://ADDRESS` line.
    ///
    /// # Errors
    /// When it cannot start or does not log the line in time.
    pub fn start(
        framework: &'static str,
        binary: &Path,
        env: &[(&str, String)],
    ) -> Result<Self, String> {
        let mut command = Command::new(binary);
        command
            .env("PROTOCOL_WEBHOOK_SECRET", RECEIVER_SECRET)
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (ready, listening) = mpsc::channel();
        let kept = Arc::clone(&lines);
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some((_, address)) = line.split_once("listening on http://") {
                    let _ = ready.send(address.trim().to_owned());
                }
                kept.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line);
            }
        });
        let mut receiver = Self {
            framework,
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            child,
            lines,
        };
        let address = listening
            .recv_timeout(READY_TIMEOUT)
            .map_err(|_| format!("{framework} did not log `listening on`"))?;
        receiver.address = address
            .parse()
            .map_err(|_| format!("{framework} logged a strange address: {address}"))?;
        Ok(receiver)
    }

    /// Its process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident memory in KiB (`VmRSS` in `/proc/PID/status`), where
    /// there is such a file.
    #[must_use]
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// The lines it logged at WARN or ERROR that come from the framework,
    /// not from the webhook library or the example's own code.
    #[must_use]
    pub fn framework_warnings(&self) -> Vec<String> {
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        lines
            .iter()
            .filter(|line| {
                let mut words = line.split_whitespace().skip(1);
                let level = words.next().unwrap_or_default();
                let target = words.next().unwrap_or_default();
                matches!(level, "WARN" | "ERROR")
                    && !target.starts_with("protocol_webhooks")
                    && !target.starts_with("example_shared")
            })
            .cloned()
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A signed `POST path` of `body`, closing the connection after the
/// answer unless `keep_alive`.
#[must_use]
pub fn signed_request(path: &str, body: &[u8], keep_alive: bool) -> Vec<u8> {
    let signature = Key::new(RECEIVER_SECRET)
        .map(|key| key.sign(body).to_hex().as_str().to_owned())
        .unwrap_or_default();
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         x-protocol-signature: {signature}\r\nContent-Length: {}\r\n\
         Connection: {connection}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// The soft limit on open files (`Max open files` in `/proc/self/limits`),
/// where there is such a file.
#[must_use]
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}
