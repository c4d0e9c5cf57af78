//! `cargo xtask soak [--requests N] [--framework NAME]...`: the load and
//! fault tests of `tests/soak` at full size, in release.
//!
//! Runs `cargo test -p protocol-webhooks-soak --release --tests` with
//! `SOAK_REQUESTS=N` (default 20,000 requests of mixed load per framework),
//! one test at a time so that throughput and memory figures are not shared
//! with another test, and with output shown so every report is printed:
//! requests/s, answers by status, handler counts against valid requests
//! sent, and resident-memory growth while a 100 MiB body streams. The same
//! tests run at 2,000 requests in debug under a plain `cargo test`.

use core::fmt;
use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::process::{Command, ExitStatus};

use crate::cmd::describe;

/// Requests of mixed load per framework in the full run.
const DEFAULT_REQUESTS: u64 = 20_000;

const PACKAGE: &str = "protocol-webhooks-soak";

/// The frameworks, as accepted by `--framework` and as the soak tests name
/// their test functions.
const FRAMEWORKS: [(&str, &str); 5] = [
    ("axum", "axum"),
    ("actix-web", "actix_web"),
    ("warp", "warp"),
    ("rocket", "rocket"),
    ("poem", "poem"),
];

const USAGE: &str = "usage: cargo xtask soak [--requests N] [--framework NAME]...
  --requests N      mixed-load requests per framework (default 20000)
  --framework NAME  only this framework: axum, actix-web, warp, rocket or
                    poem; repeatable (default all five)";

/// Why the soak run did not pass.
#[derive(Debug)]
pub(crate) enum SoakError {
    /// The command line was wrong.
    Usage(String),
    /// cargo could not be started.
    Spawn { command: String, error: io::Error },
    /// The tests failed (or did not build).
    Failed { command: String, status: ExitStatus },
}

impl fmt::Display for SoakError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) => write!(f, "{message}\n{USAGE}"),
            Self::Spawn { command, error } => write!(f, "cannot start `{command}`: {error}"),
            Self::Failed { command, status } => write!(
                f,
                "`{command}` failed ({status}); each failing test printed its report and problems above"
            ),
        }
    }
}

impl core::error::Error for SoakError {}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    requests: u64,
    /// Test names to run; empty for all.
    tests: Vec<&'static str>,
}

/// Runs the command. `args` are the arguments after `soak`.
pub(crate) fn run(args: &[String]) -> Result<(), SoakError> {
    let Some(options) = parse_args(args)? else {
        eprintln!("{USAGE}");
        return Ok(());
    };
    let mut command = command(&crate::paths::project_root(), &options);
    let shown = describe(&command);
    eprintln!("$ {shown}");
    let status = command.status().map_err(|error| SoakError::Spawn {
        command: shown.clone(),
        error,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(SoakError::Failed {
            command: shown,
            status,
        })
    }
}

/// The options, or `None` when help was asked for.
fn parse_args(args: &[String]) -> Result<Option<Options>, SoakError> {
    let mut options = Options {
        requests: DEFAULT_REQUESTS,
        tests: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .or_else(|| args.next().map(String::as_str))
                .ok_or_else(|| SoakError::Usage(format!("`{name}` needs a value")))
        };
        match name {
            "-h" | "--help" => return Ok(None),
            "--requests" => {
                let text = value()?;
                options.requests = text
                    .parse()
                    .ok()
                    .filter(|&requests| requests > 0 && u32::try_from(requests).is_ok())
                    .ok_or_else(|| SoakError::Usage(format!("invalid --requests `{text}`")))?;
            }
            "--framework" => {
                let text = value()?;
                let test = FRAMEWORKS
                    .iter()
                    .find(|(framework, _)| *framework == text)
                    .map(|&(_, test)| test)
                    .ok_or_else(|| SoakError::Usage(format!("unknown framework `{text}`")))?;
                if !options.tests.contains(&test) {
                    options.tests.push(test);
                }
            }
            other => return Err(SoakError::Usage(format!("unknown argument `{other}`"))),
        }
    }
    Ok(Some(options))
}

/// `cargo test` of the soak package in release, one test at a time, output
/// shown; with frameworks, only their tests (each scenario names its test
/// after the framework, hence `--exact`).
fn command(root: &Path, options: &Options) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .env("SOAK_REQUESTS", options.requests.to_string())
        .args(["test", "-p", PACKAGE, "--release", "--tests", "--"])
        .args(["--test-threads=1", "--nocapture"]);
    if !options.tests.is_empty() {
        command.arg("--exact").args(&options.tests);
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn defaults_to_all_frameworks_at_full_size() {
        let options = parse_args(&[]).expect("valid").expect("not help");
        assert_eq!(options.requests, 20_000);
        assert!(options.tests.is_empty());
        let shown = describe(&command(Path::new("/repo"), &options));
        assert!(
            shown.starts_with("SOAK_REQUESTS=20000 cargo test -p protocol-webhooks-soak --release --tests -- --test-threads=1 --nocapture"),
            "{shown}"
        );
        assert!(!shown.contains("--exact"), "{shown}");
    }

    #[test]
    fn selects_frameworks_and_size() {
        let options = parse_args(&args(
            "--requests=500 --framework actix-web --framework=poem --framework poem",
        ))
        .expect("valid")
        .expect("not help");
        assert_eq!(options.requests, 500);
        assert_eq!(options.tests, ["actix_web", "poem"]);
        let shown = describe(&command(Path::new("/repo"), &options));
        assert!(shown.starts_with("SOAK_REQUESTS=500 cargo test"), "{shown}");
        assert!(
            shown.ends_with("--nocapture --exact actix_web poem"),
            "{shown}"
        );
    }

    #[test]
    fn help_and_bad_arguments() {
        assert_eq!(parse_args(&args("--help")).expect("help"), None);
        for bad in [
            "--requests",
            "--requests 0",
            "--requests many",
            "--framework",
            "--framework django",
            "--release",
        ] {
            let error = parse_args(&args(bad)).expect_err(bad);
            assert!(matches!(error, SoakError::Usage(_)), "{bad}: {error}");
            assert!(
                error.to_string().contains("usage: cargo xtask soak"),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_tests_named_exist() {
        let tests = crate::paths::project_root()
            .join("tests")
            .join("soak")
            .join("tests");
        for file in ["mixed_load.rs", "truncated_body.rs", "huge_body.rs"] {
            let source = std::fs::read_to_string(tests.join(file)).expect("soak test file");
            for (_, test) in FRAMEWORKS {
                assert!(source.contains(&format!("fn {test}()")), "{file}: {test}");
            }
        }
    }
}
