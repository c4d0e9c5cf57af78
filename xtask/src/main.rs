//! Repository automation, run as `cargo xtask <command>` (the alias is in
//! `.cargo/config.toml`).
//!
//! Each command lives in its own module with a
//! `run(args: &[String]) -> Result<(), E>` entry point; adding one means a
//! `mod` line, a `match` arm in [`main`] and a line in [`USAGE`]. Only `std`
//! is used, so that building the automation never waits on dependencies.

mod ci;
mod cmd;
mod demo;
mod fuzz;
mod loadtest;
mod nostd;
mod paths;
mod redis;
mod server;
mod soak;
mod timing;

use core::fmt;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  ci [-p <package>]...  run every check CI runs, in order, stopping at the
                        first failure: rustfmt, clippy, tests, docs, no_std;
                        with -p, format, lint, test and document only the
                        named packages instead of the whole workspace
  demo [--framework F]  start the example receiver for F (axum, actix-web,
                        warp, rocket or poem; default axum) on a free
                        127.0.0.1 port, send it all 15 signed sample events
                        plus a tampered and an unsigned one with the CLI, and
                        print what was accepted and refused
  fuzz [--seconds N] [--target NAME]...
                        run each cargo-fuzz target in turn (default 30 s
                        each; needs the nightly toolchain)
  loadtest [--framework F] [--duration S] [--connections N] [--rounds R]
           [--all-routes] [--check]
                        wrk against a plain-bytes route and a Webhook route
                        of the same server, per framework, over 127.0.0.1
  nostd                 build the no_std check crates under xtask/nostd
  soak [--requests N] [--framework NAME]...
                        load and fault tests of every adapter over
                        127.0.0.1, release build, full size (default 20000
                        requests per framework)
  timing [--samples N]  dudect-style test: does verification time depend on
                        where a wrong signature differs?
  help                  print this message
";

/// Why a command did not succeed.
#[derive(Debug)]
enum Error {
    /// The command line was wrong; exits with status 2 after the usage.
    Usage(String),
    /// The command ran and failed; exits with status 1.
    Failed(String),
}

impl Error {
    fn failed(error: impl fmt::Display) -> Self {
        Self::Failed(error.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) | Self::Failed(message) => f.write_str(message),
        }
    }
}

type Result<T = ()> = core::result::Result<T, Error>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let Some((command, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "ci" => ci::run(rest),
        "nostd" => nostd::run(rest),
        "demo" => demo::run(rest).map_err(Error::failed),
        "soak" => soak::run(rest).map_err(Error::failed),
        "fuzz" => fuzz::run(rest).map_err(Error::failed),
        "loadtest" => loadtest::run(rest).map_err(Error::failed),
        "timing" => timing::run(rest).map_err(Error::failed),
        "help" | "-h" | "--help" => {
            eprint!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(Error::Usage(format!("unknown command `{other}`"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Usage(message)) => {
            eprintln!("xtask: {message}\n");
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}
