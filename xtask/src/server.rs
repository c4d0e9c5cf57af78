//! Processes that commands start and talk to over 127.0.0.1: a free port to
//! give them, a guard that stops them on every path out, and the wait until
//! they are ready.

use std::collections::VecDeque;
use std::io::{self, BufRead as _, BufReader, Read};
use std::net::{Ipv4Addr, TcpListener};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

/// Output lines kept to explain a failure.
const LOG_TAIL: usize = 20;
/// How long the output of an exited process may take to arrive: its pipes
/// close when it exits, unless a process it started still holds them.
const LAST_WORDS: Duration = Duration::from_millis(500);

/// A port on 127.0.0.1 that nothing listened on a moment ago. Another
/// process could take it before the server binds it; rare enough on a
/// developer or CI machine, and the server then fails to start, which its
/// caller reports or retries.
pub(crate) fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// A started child process, killed and reaped when dropped, so that no
/// error path can leave it running.
#[derive(Debug)]
pub(crate) struct Process {
    child: Child,
    /// Lines from stdout and stderr, for a child started with
    /// [`Process::spawn_logged`].
    log: Option<Receiver<String>>,
    tail: VecDeque<String>,
}

/// Why a process did not become ready.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NotReady<D> {
    /// It exited first.
    Exited(ExitStatus),
    /// It was still running at the deadline; what the last check found.
    TimedOut(D),
}

impl Process {
    /// Starts `command` with the standard streams it sets up. A piped stdin
    /// is left with the child, open until the guard is dropped.
    pub(crate) fn spawn(command: &mut Command) -> io::Result<Self> {
        Ok(Self {
            child: command.spawn()?,
            log: None,
            tail: VecDeque::new(),
        })
    }

    /// Starts `command` with its stdout and stderr read line by line, for
    /// [`Process::printed`] and [`Process::log_tail`]. Both pipes are
    /// drained for the child's whole life, so it never blocks on a full one.
    /// Stdin is as `command` sets it up, as for [`Process::spawn`].
    pub(crate) fn spawn_logged(command: &mut Command) -> io::Result<Self> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (sender, log) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            forward_lines(stdout, sender.clone());
        }
        if let Some(stderr) = child.stderr.take() {
            forward_lines(stderr, sender);
        }
        Ok(Self {
            child,
            log: Some(log),
            tail: VecDeque::new(),
        })
    }

    pub(crate) fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// How it exited, if it has. An error asking counts as still running:
    /// the next ask, or the guard, settles it.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Whether a line printed since the last look contains `needle`. The
    /// lines are kept for [`Process::log_tail`].
    pub(crate) fn printed(&mut self, needle: &str) -> bool {
        let Some(log) = &self.log else {
            return false;
        };
        let mut found = false;
        for line in log.try_iter() {
            found |= line.contains(needle);
            remember(&mut self.tail, line);
        }
        found
    }

    /// The last lines printed, up to now; empty for a child whose output
    /// was not logged.
    pub(crate) fn log_tail(&mut self) -> String {
        let exited = self.exited().is_some();
        if let Some(log) = &self.log {
            if exited {
                // Its last lines, the likeliest to say why it stopped, may
                // still be on their way from the reader threads.
                let deadline = Instant::now() + LAST_WORDS;
                while let Ok(line) =
                    log.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                {
                    remember(&mut self.tail, line);
                }
            } else {
                for line in log.try_iter() {
                    remember(&mut self.tail, line);
                }
            }
        }
        let lines: Vec<&str> = self.tail.iter().map(String::as_str).collect();
        lines.join("\n")
    }

    /// Runs `check` every `interval` until it succeeds, the process exits,
    /// or `timeout` has passed. `check` gets the process, to look at what it
    /// printed.
    pub(crate) fn wait_until_ready<D>(
        &mut self,
        timeout: Duration,
        interval: Duration,
        mut check: impl FnMut(&mut Self) -> Result<(), D>,
    ) -> Result<(), NotReady<D>> {
        let deadline = Instant::now() + timeout;
        loop {
            let finding = match check(self) {
                Ok(()) => return Ok(()),
                Err(finding) => finding,
            };
            if let Some(status) = self.exited() {
                return Err(NotReady::Exited(status));
            }
            if Instant::now() >= deadline {
                return Err(NotReady::TimedOut(finding));
            }
            thread::sleep(interval);
        }
    }

    #[cfg(test)]
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Either fails only when the process has already exited and been
        // reaped, which is the state wanted anyway.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn remember(tail: &mut VecDeque<String>, line: String) {
    if tail.len() == LOG_TAIL {
        tail.pop_front();
    }
    tail.push_back(line);
}

/// Sends each line read from `pipe` until it closes.
fn forward_lines(pipe: impl Read + Send + 'static, sender: Sender<String>) {
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(1..)) {
            let text = String::from_utf8_lossy(&line).trim_end().to_owned();
            if sender.send(text).is_err() {
                break;
            }
            line.clear();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]).stdin(Stdio::null());
        command
    }

    #[test]
    fn a_free_port_can_be_bound() {
        let port = free_port().expect("free port");
        assert_ne!(port, 0);
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_guard_kills_and_reaps() {
        let process = Process::spawn(Command::new("sleep").arg("30")).expect("sleep starts");
        let pid = process.id();
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
        drop(process);
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "killed and reaped"
        );
    }

    #[test]
    fn ready_on_a_printed_line() {
        let mut process = Process::spawn_logged(&mut sh(
            "echo starting >&2; echo 'listening on :1' >&2; exec sleep 30",
        ))
        .expect("sh starts");
        let ready = process.wait_until_ready(
            Duration::from_secs(30),
            Duration::from_millis(10),
            |process| {
                if process.printed("listening on") {
                    Ok(())
                } else {
                    Err(())
                }
            },
        );
        assert_eq!(ready, Ok(()));
        assert_eq!(process.log_tail(), "starting\nlistening on :1");
    }

    #[test]
    fn an_early_exit_is_reported_with_the_last_lines() {
        let script = "for i in $(seq 1 30); do echo line $i; done; exit 3";
        let mut process = Process::spawn_logged(&mut sh(script)).expect("sh starts");
        let started = Instant::now();
        let outcome =
            process.wait_until_ready(Duration::from_secs(30), Duration::from_millis(10), |_| {
                Err("never ready")
            });
        assert!(started.elapsed() < Duration::from_secs(30));
        match outcome {
            Err(NotReady::Exited(status)) => assert_eq!(status.code(), Some(3)),
            other => panic!("expected an exit, got {other:?}"),
        }
        let tail = process.log_tail();
        assert_eq!(tail.lines().count(), LOG_TAIL, "{tail}");
        assert!(
            tail.starts_with("line 11\n") && tail.ends_with("\nline 30"),
            "{tail}"
        );
    }

    #[test]
    fn a_timeout_carries_the_last_finding() {
        let mut process = Process::spawn(sh("exec sleep 30").stdout(Stdio::null())).expect("sh");
        let mut attempts = 0;
        let outcome =
            process.wait_until_ready(Duration::from_millis(50), Duration::from_millis(10), |_| {
                attempts += 1;
                Err(attempts)
            });
        assert_eq!(outcome, Err(NotReady::TimedOut(attempts)));
        assert!(attempts > 1);
        assert_eq!(process.log_tail(), "", "output not logged");
        assert_eq!(process.exited(), None);
    }
}
