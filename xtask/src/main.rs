//! Repository automation, run as `cargo xtask <command>` (the alias is in
//! `.cargo/config.toml`).
//!
//! Each command is a function that takes the command's arguments, most in
//! a module of their own; adding one means a `match` arm in [`main`] and its
//! lines in [`USAGE`]. The load and timing harnesses are binaries of
//! `benches/`, with the dependencies only they need; `loadtest` and
//! `timing` run them.

#![forbid(unsafe_code)]

mod ci;
mod cmd;
mod demo;
mod fuzz;
mod server;
mod soak;

// `pub` there, for the crates of the benches workspace; here it need not be.
#[allow(unreachable_pub)]
#[path = "../../benches/src/frameworks.rs"]
mod frameworks;

use core::fmt;
use core::str::FromStr;
use std::ffi::OsString;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pico_args::Arguments;

use crate::cmd::Cmd;
use crate::frameworks::FRAMEWORKS;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  ci [-p <package>]...  every check CI runs, in order, stopping at the first
                        failure: rustfmt, clippy, tests, docs, package,
                        no_std; with -p, only for the named packages
  demo [--framework F]  start the example receiver for F (default axum),
                        send it all 15 signed sample events plus a tampered
                        and an unsigned one with the CLI, and print the answers
  fuzz [--seconds N] [--target NAME]...
                        each cargo-fuzz target in turn (default 30 s each;
                        nightly toolchain), or each NAME: signature_header,
                        verify, event_parse, verify_then_parse
  loadtest [--framework F] [--duration S] [--connections N] [--rounds R]
           [--all-routes] [--check]
                        wrk against a plain and a verified route of each
                        framework's server (or F's), installing wrk if
                        missing; --help for more
  loadtest --inbox [...]
                        the durable inbox's accepts (SQLite, Redis) over
                        loopback and its worker: benches/src/bin/inbox-load.rs
  nostd                 build the no_std check crates under xtask/nostd
  soak [--requests N] [--framework F]...
                        release-build load and fault tests of every adapter
                        (or each F's), 20000 requests each unless N
  soak --inbox [--events N]
                        the inbox example killed and restarted at random
                        while N signed events (default 10000) arrive
  timing [--samples N] [--early-exit-control]
                        dudect-style test: does verification time depend on
                        where a wrong signature differs? --help for more
  help                  print this message

F is one of: ";

fn usage() -> String {
    format!("{USAGE}{}\n", FRAMEWORKS.join(", "))
}

/// Why a command did not succeed.
#[derive(Debug)]
enum Error {
    /// The command line was wrong; exits with status 2 after the usage.
    Usage(String),
    /// The command ran and failed; exits with status 1.
    Failed(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Self::Usage(message) | Self::Failed(message)) = self;
        f.write_str(message)
    }
}

impl From<pico_args::Error> for Error {
    fn from(error: pico_args::Error) -> Self {
        Self::Usage(error.to_string())
    }
}

type Result<T = ()> = core::result::Result<T, Error>;

/// Says what was being done when an error happened, as every message of
/// this crate does.
trait Context<T> {
    fn context(self, doing: impl fmt::Display) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for core::result::Result<T, E> {
    fn context(self, doing: impl fmt::Display) -> Result<T> {
        self.map_err(|error| Error::Failed(format!("{doing}: {error}")))
    }
}

fn main() -> ExitCode {
    let mut args: Vec<_> = std::env::args_os().skip(1).collect();
    if args.is_empty() {
        eprint!("{}", usage());
        return ExitCode::from(2);
    }
    let command = args.remove(0).to_string_lossy().into_owned();
    let mut args = Arguments::from_vec(args);
    // The harnesses answer `--help` themselves.
    let passes_through = matches!(command.as_str(), "loadtest" | "timing");
    if matches!(command.as_str(), "help" | "-h" | "--help")
        || (!passes_through && args.contains(["-h", "--help"]))
    {
        eprint!("{}", usage());
        return ExitCode::SUCCESS;
    }
    let result = match command.as_str() {
        "ci" => ci::run(args),
        "demo" => demo::run(args),
        "fuzz" => fuzz::run(args),
        "nostd" => ci::nostd(args),
        "soak" => soak::run(args),
        "loadtest" => loadtest(args),
        "timing" => harness("timing", args.finish()).run(),
        other => Err(Error::Usage(format!("unknown command `{other}`"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Usage(message)) => {
            eprint!("xtask {command}: {message}\n\n{}", usage());
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

/// wrk against each framework's plain and verified routes; installs wrk
/// first when it is missing, unless only help was asked for. With
/// `--inbox`, the inbox's load test instead.
fn loadtest(mut args: Arguments) -> Result {
    if args.contains("--inbox") {
        // Its own client sends the requests: no wrk.
        return harness("inbox-load", args.finish()).run();
    }
    let args = args.finish();
    if !args.iter().any(|arg| arg == "-h" || arg == "--help") {
        cmd::ensure_installed("wrk", "wrk")?;
    }
    harness("loadtest", args).run()
}

/// A harness of `benches/` (`src/bin/<binary>.rs`) run in release: there it
/// sits next to the servers and code it measures, with the dependencies
/// only it needs. The arguments pass through.
fn harness(binary: &str, args: Vec<OsString>) -> Cmd {
    Cmd::cargo(&project_root())
        .args(["run", "--release", "--manifest-path", "benches/Cargo.toml"])
        .args(["--bin", binary, "--"])
        .args(args)
}

/// The repository root: the xtask package is one level below it. (A
/// manifest directory without a parent would be the filesystem root, where
/// no repository can be; the fallback only keeps this infallible.)
fn project_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The main workspace's target directory, as cargo picks it from the
/// environment. Callers also pass it to cargo as `--target-dir`, so that a
/// `build.target-dir` in a cargo config file cannot put the build anywhere
/// but where they look for it.
fn target_dir() -> Result<PathBuf> {
    let configured = ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
        .into_iter()
        .find_map(|name| std::env::var_os(name).filter(|value| !value.is_empty()));
    resolve_target_dir(configured)
}

fn resolve_target_dir(configured: Option<OsString>) -> Result<PathBuf> {
    match configured {
        None => Ok(project_root().join("target")),
        // Cargo reads a relative directory from where it was started, which
        // is where `cargo xtask` was started too.
        Some(dir) => std::path::absolute(dir).context("cannot read the current directory"),
    }
}

/// Fails on any argument that no option took.
fn finish(args: Arguments) -> Result {
    match args.finish().first() {
        None => Ok(()),
        Some(arg) => Err(Error::Usage(format!(
            "unknown argument `{}`",
            arg.display()
        ))),
    }
}

/// The one of `known` named `name`, for an option's value.
fn one_of(known: &[&'static str], name: &str) -> core::result::Result<&'static str, String> {
    let found = known.iter().find(|known| **known == name).copied();
    found.ok_or_else(|| format!("expected one of {}", known.join(", ")))
}

fn framework(name: &str) -> core::result::Result<&'static str, String> {
    one_of(&FRAMEWORKS, name)
}

/// A count of at least one, that fits in `T`.
fn positive<T: FromStr + Default + PartialOrd>(
    text: &str,
) -> core::result::Result<T, &'static str> {
    let number = text.parse().ok().filter(|number| *number > T::default());
    number.ok_or("expected a positive whole number, not too large")
}

/// Prints a command's report on stdout, the one thing it prints there.
fn print(report: &str) -> Result {
    let written = io::stdout().lock().write_all(report.as_bytes());
    written.context("cannot print the results")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Arguments {
        Arguments::from_vec(line.split_whitespace().map(Into::into).collect())
    }

    #[test]
    fn options_and_their_values() {
        let mut parsed = args("--framework rocket --seconds=30");
        let rocket = parsed.opt_value_from_fn("--framework", framework);
        let seconds = parsed.opt_value_from_fn("--seconds", positive::<u64>);
        assert_eq!(rocket.ok().flatten(), Some("rocket"));
        assert_eq!(seconds.ok().flatten(), Some(30));
        assert!(finish(parsed).is_ok());

        let tide = args("--framework tide").opt_value_from_fn("--framework", framework);
        let message = Error::from(tide.expect_err("unknown framework")).to_string();
        assert!(message.ends_with("expected one of axum, actix-web, warp, rocket, poem"));
        assert_eq!(positive::<u32>("4294967295"), Ok(u32::MAX));
        for wrong in ["0", "many", "-3", "4294967296"] {
            assert!(positive::<u32>(wrong).is_err(), "{wrong}");
        }
        let unknown = finish(args("--release")).expect_err("unknown");
        assert!(matches!(&unknown, Error::Usage(m) if m == "unknown argument `--release`"));
    }

    #[test]
    fn the_harnesses_get_the_arguments() {
        let args = ["--framework", "axum", "--duration=2"].map(OsString::from);
        let expected = "cargo run --release --manifest-path benches/Cargo.toml --bin loadtest \
                        -- --framework axum --duration=2";
        assert_eq!(harness("loadtest", args.to_vec()).to_string(), expected);
        for binary in ["loadtest", "timing", "loadtest-server"] {
            let source = project_root().join(format!("benches/src/bin/{binary}.rs"));
            assert!(source.is_file(), "{}", source.display());
        }
    }

    #[test]
    fn the_root_and_the_target_directory() {
        let root = project_root();
        assert!(root.join("Cargo.toml").is_file() && root.join("xtask/Cargo.toml").is_file());
        let resolved = |configured: Option<&str>| resolve_target_dir(configured.map(Into::into));
        assert_eq!(resolved(None).ok(), Some(root.join("target")));
        assert_eq!(resolved(Some("/elsewhere")).ok(), Some("/elsewhere".into()));
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(resolved(Some("out")).ok(), Some(cwd.join("out")));
    }
}
