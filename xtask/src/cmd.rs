//! Running an external command: echoed first, failing on a non-zero exit;
//! and installing a missing program.

use core::fmt;
use std::borrow::Cow;
use std::ffi::OsString;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};

use crate::{Context as _, Error, Result};

/// A command line, the directory it runs in and its environment changes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(String, String)>,
    removed: Vec<&'static str>,
    dir: PathBuf,
}

impl Cmd {
    pub(crate) fn new(program: impl Into<OsString>, dir: &Path) -> Self {
        let (program, dir) = (program.into(), dir.to_path_buf());
        Self {
            program,
            dir,
            ..Self::default()
        }
    }

    /// `cargo`, run in `dir`: the same cargo that runs this xtask when it is
    /// started through `cargo xtask`, so both use one toolchain.
    pub(crate) fn cargo(dir: &Path) -> Self {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        Self::new(cargo, dir)
    }

    pub(crate) fn arg(self, arg: impl Into<OsString>) -> Self {
        self.args([arg])
    }

    pub(crate) fn args<I: IntoIterator<Item: Into<OsString>>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub(crate) fn env(mut self, name: &str, value: &str) -> Self {
        self.envs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Unsets `name` for the command; the echo leaves it out.
    pub(crate) fn env_remove(mut self, name: &'static str) -> Self {
        self.removed.push(name);
        self
    }

    /// The program as the echo shows it: `cargo` rather than the full path
    /// of the cargo binary that started this xtask.
    fn shown(&self) -> Cow<'_, str> {
        match std::env::var_os("CARGO") {
            Some(cargo) if cargo == self.program => "cargo".into(),
            _ => self.program.to_string_lossy(),
        }
    }

    /// Starts it with no stdin and the given stdout and stderr.
    pub(crate) fn spawn(&self, stdout: Stdio, stderr: Stdio) -> Result<Child> {
        let mut command = Command::new(&self.program);
        command.args(&self.args).current_dir(&self.dir);
        for name in &self.removed {
            command.env_remove(name);
        }
        command.envs(self.envs.iter().map(|(name, value)| (name, value)));
        command.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
        let started = command.spawn();
        started.context(format!("cannot start `{}`", self.shown()))
    }

    /// Prints the command line, runs it with inherited output, and fails
    /// unless it exits with status 0.
    pub(crate) fn run(&self) -> Result {
        let status = self.run_reading_stderr(Stdio::inherit(), |_| ())?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::Failed(format!("`{self}` failed ({status})")))
        }
    }

    /// Runs it without a word, its output captured, whatever its status.
    pub(crate) fn output(&self) -> Result<Output> {
        let child = self.spawn(Stdio::piped(), Stdio::piped())?;
        child.wait_with_output().context(format!("`{self}`"))
    }

    /// Prints the command line and runs it with inherited stdout; with a
    /// piped `stderr`, hands each line of it to `each` as it comes. Returns
    /// the exit status, whatever it is.
    pub(crate) fn run_reading_stderr(
        &self,
        stderr: Stdio,
        mut each: impl FnMut(&str),
    ) -> Result<ExitStatus> {
        eprintln!("$ {self}");
        let mut child = self.spawn(Stdio::inherit(), stderr)?;
        if let Some(pipe) = child.stderr.take() {
            for line in BufReader::new(pipe).split(b'\n') {
                let line = line.context(format!("`{self}`"))?;
                each(&String::from_utf8_lossy(&line));
            }
        }
        child.wait().context(format!("`{self}`"))
    }
}

/// The command as it could be typed into a shell.
impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.envs {
            write!(f, "{name}={} ", quoted(value))?;
        }
        f.write_str(&quoted(&self.shown()))?;
        for arg in &self.args {
            write!(f, " {}", quoted(&arg.to_string_lossy()))?;
        }
        Ok(())
    }
}

fn quoted(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_=./:,+@%".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Installs `package` with apt-get when `program` cannot be started and
/// this runs as root; anyone else is told the command to run, rather than
/// given a sudo prompt in the middle of CI.
pub(crate) fn ensure_installed(program: &str, package: &str) -> Result {
    let root = Path::new("/");
    // Only whether it starts counts: wrk, for one, fails on `--version`.
    let starts = || Cmd::new(program, root).arg("--version").output().is_ok();
    if starts() {
        return Ok(());
    }
    let id = Cmd::new("id", root).arg("-u").output();
    if !id.is_ok_and(|id| id.status.success() && id.stdout.trim_ascii() == b"0") {
        return Err(Error::Failed(format!(
            "{program} is not installed: install it with \
             `sudo apt-get update && sudo apt-get install -y {package}`"
        )));
    }
    eprintln!("xtask: {program} is not installed; installing {package}");
    let apt = || Cmd::new("apt-get", root).env("DEBIAN_FRONTEND", "noninteractive");
    apt().arg("update").run()?;
    apt().args(["install", "-y", package]).run()?;
    let missing = format!("apt-get installed {package}, but {program} does not start");
    if starts() {
        Ok(())
    } else {
        Err(Error::Failed(missing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Cmd {
        Cmd::new("sh", Path::new("/")).args(["-c", script])
    }

    #[test]
    fn echo_is_shell_ready() {
        let cmd = Cmd::cargo(Path::new("/"))
            .env("RUSTDOCFLAGS", "-D warnings")
            .env_remove("RUSTUP_TOOLCHAIN")
            .args(["doc", "--workspace", "it's"]);
        assert_eq!(
            cmd.to_string(),
            r"RUSTDOCFLAGS='-D warnings' cargo doc --workspace 'it'\''s'"
        );
    }

    #[test]
    fn failure_names_the_command_and_its_status() {
        let error = sh("exit 3").run().expect_err("exit status 3");
        let expected = "`sh -c 'exit 3'` failed (exit status: 3)";
        assert!(matches!(error, Error::Failed(message) if message == expected));
        let missing = Cmd::new("xtask-no-such-program", Path::new("/")).run();
        let message = missing.expect_err("not found").to_string();
        let expected = "cannot start `xtask-no-such-program`: ";
        assert!(message.starts_with(expected), "{message}");
    }

    #[test]
    fn runs_in_its_directory_with_its_environment() {
        let dir = std::env::temp_dir();
        let checks = r#"test "$PROBE" = "a value" && test -z "$HOME" && test "$(pwd -P)" = "$1""#;
        let check = Cmd::new("sh", &dir)
            .env("PROBE", "a value")
            .env_remove("HOME")
            .args(["-c", checks, "sh"])
            .arg(dir.canonicalize().expect("temp dir"));
        assert!(check.run().is_ok());
    }

    #[test]
    fn output_and_stderr_lines_are_captured() {
        let output = sh("echo out; echo err >&2; exit 4").output().expect("ran");
        let output = (output.stdout, output.stderr, output.status.code());
        assert_eq!(output, (b"out\n".to_vec(), b"err\n".to_vec(), Some(4)));
        let mut lines = Vec::new();
        let each = |line: &str| lines.push(line.to_owned());
        let status =
            sh("echo one >&2; echo two >&2; exit 5").run_reading_stderr(Stdio::piped(), each);
        assert_eq!(status.expect("ran").code(), Some(5));
        assert_eq!(lines, ["one", "two"]);
        assert!(ensure_installed("sh", "dash").is_ok());
    }
}
