//! Running an external command: echoed first, failing on a non-zero exit.

use core::fmt;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, Result};

/// A command line, the directory it runs in and extra environment variables.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    program: OsString,
    /// What the echo shows instead of `program`: `cargo` rather than the
    /// full path of the cargo binary that started this xtask.
    shown_as: String,
    args: Vec<OsString>,
    envs: Vec<(String, String)>,
    dir: PathBuf,
}

impl Cmd {
    /// `program`, run in `dir`.
    pub(crate) fn new(program: impl Into<OsString>, dir: &Path) -> Self {
        let program = program.into();
        Self {
            shown_as: program.to_string_lossy().into_owned(),
            program,
            args: Vec::new(),
            envs: Vec::new(),
            dir: dir.to_path_buf(),
        }
    }

    /// `cargo`, run in `dir`: the same cargo that runs this xtask when it is
    /// started through `cargo xtask`, so both use one toolchain.
    pub(crate) fn cargo(dir: &Path) -> Self {
        let program = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        Self {
            shown_as: String::from("cargo"),
            ..Self::new(program, dir)
        }
    }

    pub(crate) fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub(crate) fn args<I>(mut self, args: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub(crate) fn env(mut self, name: &str, value: &str) -> Self {
        self.envs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Prints the command line, runs it with inherited output, and fails
    /// unless it exits with status 0.
    pub(crate) fn run(&self) -> Result {
        eprintln!("$ {self}");
        let status = Command::new(&self.program)
            .args(&self.args)
            .envs(self.envs.iter().map(|(name, value)| (name, value)))
            .current_dir(&self.dir)
            .status()
            .map_err(|error| Error::failed(format!("cannot start `{}`: {error}", self.shown_as)))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::failed(format!("`{self}` failed ({status})")))
        }
    }
}

/// The command as it could be typed into a shell.
impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.envs {
            write!(f, "{name}={} ", quoted(value))?;
        }
        f.write_str(&self.shown_as)?;
        for arg in &self.args {
            write!(f, " {}", quoted(&arg.to_string_lossy()))?;
        }
        Ok(())
    }
}

/// A [`Command`] as it could be typed into a shell: the variables it sets,
/// its program (`cargo` for the cargo that runs this xtask, whose full path
/// says nothing to a reader) and its arguments.
pub(crate) fn describe(command: &Command) -> String {
    let mut words: Vec<String> = command
        .get_envs()
        .filter_map(|(name, value)| {
            Some(format!(
                "{}={}",
                name.to_string_lossy(),
                quoted(&value?.to_string_lossy())
            ))
        })
        .collect();
    let program = command.get_program();
    let is_this_cargo = std::env::var_os("CARGO").is_some_and(|cargo| cargo == program);
    words.push(if is_this_cargo {
        String::from("cargo")
    } else {
        quoted(&program.to_string_lossy())
    });
    words.extend(command.get_args().map(|arg| quoted(&arg.to_string_lossy())));
    words.join(" ")
}

fn quoted(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=./:,+@%".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_command_is_described_like_a_cmd() {
        let mut command = Command::new("cargo");
        command
            .env("SOAK_REQUESTS", "500")
            .env_remove("RUSTUP_TOOLCHAIN")
            .args(["+nightly", "fuzz", "run", "verify", "it's"]);
        assert_eq!(
            describe(&command),
            r"SOAK_REQUESTS=500 cargo +nightly fuzz run verify 'it'\''s'"
        );
    }

    #[test]
    fn echo_is_shell_ready() {
        let cmd = Cmd::cargo(Path::new("/"))
            .env("RUSTDOCFLAGS", "-D warnings")
            .args(["doc", "--workspace"])
            .arg("it's");
        assert_eq!(
            cmd.to_string(),
            r"RUSTDOCFLAGS='-D warnings' cargo doc --workspace 'it'\''s'"
        );
    }

    #[test]
    fn failure_names_the_command_and_its_status() {
        let failing = Cmd::new("sh", Path::new("/")).args(["-c", "exit 3"]);
        let error = failing.run().expect_err("exit status 3");
        assert!(matches!(error, Error::Failed(_)));
        assert_eq!(
            error.to_string(),
            "`sh -c 'exit 3'` failed (exit status: 3)"
        );
    }

    #[test]
    fn runs_in_its_directory_with_its_environment() {
        let dir = std::env::temp_dir();
        let check = Cmd::new("sh", &dir)
            .env("XTASK_PROBE", "expected value")
            .args([
                "-c",
                r#"test "$XTASK_PROBE" = "expected value" && test "$(pwd -P)" = "$1""#,
            ])
            .arg("sh")
            .arg(dir.canonicalize().expect("temp dir"));
        assert!(check.run().is_ok());
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let missing = Cmd::new("xtask-no-such-program", Path::new("/"));
        let error = missing.run().expect_err("not found");
        assert!(
            error
                .to_string()
                .starts_with("cannot start `xtask-no-such-program`"),
            "{error}"
        );
    }
}
