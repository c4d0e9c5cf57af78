//! `cargo xtask timing [--samples N]`: runs the dudect test in
//! `tools/timing` and judges its result.
//!
//! The test times `Key::verify` rejecting signatures wrong in their first
//! byte against signatures wrong in their last byte (see
//! `tools/timing/src/main.rs`). dudect's verdict is the largest Welch t
//! statistic over its tests: |t| below 4.5 is no evidence of a timing leak,
//! and this command fails at 4.5 or more. A loaded machine adds noise to
//! both classes alike, which widens the spread rather than the t statistic,
//! but a failure is worth a rerun on a quiet machine before it is believed.

use core::fmt;
use std::ffi::OsString;
use std::io::{self, BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

use crate::cmd::describe;

/// dudect's threshold: above it the two classes' timings differ.
const T_THRESHOLD: f64 = 4.5;

/// Enough for the t statistic to settle; about 15 s in release on a shared
/// two-core machine.
const DEFAULT_SAMPLES: u64 = 2_000_000;

const USAGE: &str = "usage: cargo xtask timing [--samples N]
  --samples N  timed calls of Key::verify (default 2000000, at least 100)";

/// Why the timing test did not pass.
#[derive(Debug)]
pub(crate) enum TimingError {
    /// The command line was wrong.
    Usage(String),
    /// The test could not be started.
    Spawn { command: String, error: io::Error },
    /// The test failed to build or run.
    CommandFailed { command: String, status: ExitStatus },
    /// The test's output has no dudect result line.
    NoResult,
    /// The classes' timings differ.
    Leak(Verdict),
}

impl fmt::Display for TimingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) => write!(f, "{message}\n{USAGE}"),
            Self::Spawn { command, error } => write!(f, "cannot start `{command}`: {error}"),
            Self::CommandFailed { command, status } => write!(f, "`{command}` failed ({status})"),
            Self::NoResult => f.write_str("the timing test printed no `max t` result"),
            Self::Leak(verdict) => write!(
                f,
                "{verdict}: |t| >= {T_THRESHOLD}, the time to reject depends on where the \
                 signature is wrong; rerun on a quiet machine to rule out noise"
            ),
        }
    }
}

impl core::error::Error for TimingError {}

/// The result of one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Verdict {
    /// The largest |t| over dudect's tests, with its sign.
    max_t: f64,
    /// Samples in the test that gave `max_t` (dudect crops outliers).
    samples_in_test: u64,
    /// All timed samples.
    timed_samples: Option<u64>,
}

impl Verdict {
    fn passes(&self) -> bool {
        self.max_t.abs() < T_THRESHOLD
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "max t = {:+.3}", self.max_t)?;
        match self.timed_samples {
            Some(total) => write!(
                f,
                " over {total} timed samples ({} in the test with the largest |t|)",
                self.samples_in_test
            ),
            None => write!(f, " over {} samples", self.samples_in_test),
        }
    }
}

/// Runs the command. `args` are the arguments after `timing`.
pub(crate) fn run(args: &[String]) -> Result<(), TimingError> {
    let Some(samples) = parse_args(args)? else {
        let _ = writeln!(io::stdout().lock(), "{USAGE}");
        return Ok(());
    };
    let root = crate::paths::project_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args(["run", "--release", "--manifest-path"])
        .arg(Path::new("tools").join("timing").join("Cargo.toml"))
        .args(["--", "--samples", &samples.to_string()])
        .stdout(Stdio::piped());
    let shown = describe(&command);
    eprintln!("$ {shown}");
    let mut child = command.spawn().map_err(|error| TimingError::Spawn {
        command: shown.clone(),
        error,
    })?;

    let mut lines = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        let mut echo = io::stdout();
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|error| TimingError::Spawn {
                command: shown.clone(),
                error,
            })?;
            // The test's own report stays visible; losing it is harmless.
            let _ = writeln!(echo, "{line}");
            lines.push(line);
        }
    }
    let status = child.wait().map_err(|error| TimingError::Spawn {
        command: shown.clone(),
        error,
    })?;
    if !status.success() {
        return Err(TimingError::CommandFailed {
            command: shown,
            status,
        });
    }

    let verdict = parse_output(&lines).ok_or(TimingError::NoResult)?;
    if verdict.passes() {
        let _ = writeln!(
            io::stdout().lock(),
            "timing: {verdict}: |t| < {T_THRESHOLD}, no evidence of a timing leak"
        );
        Ok(())
    } else {
        Err(TimingError::Leak(verdict))
    }
}

/// The sample count, or `None` when help was asked for.
fn parse_args(args: &[String]) -> Result<Option<u64>, TimingError> {
    let mut samples = DEFAULT_SAMPLES;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let text = match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--samples" => args
                .next()
                .ok_or_else(|| TimingError::Usage("--samples needs a value".to_owned()))?,
            other => match other.strip_prefix("--samples=") {
                Some(value) => value,
                None => return Err(TimingError::Usage(format!("unknown argument `{other}`"))),
            },
        };
        samples = text
            .parse()
            .ok()
            .filter(|&n| n >= 100)
            .ok_or_else(|| TimingError::Usage(format!("invalid --samples `{text}`")))?;
    }
    Ok(Some(samples))
}

/// Reads dudect's result line,
/// `bench NAME ... : n == +0.998M, max t = +1.23456, max tau = ...`,
/// and the test's `timed samples: N` line.
fn parse_output(lines: &[String]) -> Option<Verdict> {
    let mut verdict = None;
    let mut timed_samples = None;
    for line in lines {
        if let Some(count) = line.strip_prefix("timed samples:") {
            timed_samples = count.trim().parse().ok();
        }
        let Some((_, result)) = line.split_once(": n == ") else {
            continue;
        };
        let mut fields = result.split(", ");
        let millions: f64 = fields.next()?.trim().trim_end_matches('M').parse().ok()?;
        let max_t: f64 = fields
            .next()?
            .strip_prefix("max t = ")?
            .trim()
            .parse()
            .ok()?;
        verdict = Some(Verdict {
            max_t,
            // dudect prints the count in millions with three decimals.
            samples_in_test: (millions * 1e6).round() as u64,
            timed_samples: None,
        });
    }
    verdict.map(|verdict| Verdict {
        timed_samples,
        ..verdict
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn arguments() {
        let parsed = |args: &[&str]| parse_args(&strings(args));
        assert_eq!(parsed(&[]).expect("ok"), Some(DEFAULT_SAMPLES));
        assert_eq!(parsed(&["--samples", "5000"]).expect("ok"), Some(5000));
        assert_eq!(parsed(&["--samples=200"]).expect("ok"), Some(200));
        assert_eq!(parsed(&["-h"]).expect("ok"), None);
        for wrong in [
            &["--samples"][..],
            &["--samples", "10"],
            &["--samples", "many"],
            &["--seconds", "5"],
        ] {
            assert!(
                matches!(parsed(wrong), Err(TimingError::Usage(_))),
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn reads_dudects_result_line() {
        let output = strings(&[
            "",
            "running 1 bench",
            "bench verify_wrong_first_byte_vs_wrong_last_byte seeded with 0x9a3c5e7f00112233",
            "bench verify_wrong_first_byte_vs_wrong_last_byte ... : n == +0.998M, \
             max t = -1.23456, max tau = -0.00124, (5/tau)^2 = 16410000",
            "",
            "dudect benches complete",
            "",
            "timed samples: 1000000",
        ]);
        let verdict = parse_output(&output).expect("result");
        assert_eq!(
            verdict,
            Verdict {
                max_t: -1.23456,
                samples_in_test: 998_000,
                timed_samples: Some(1_000_000),
            }
        );
        assert!(verdict.passes());
        assert_eq!(
            verdict.to_string(),
            "max t = -1.235 over 1000000 timed samples (998000 in the test with the largest |t|)"
        );
        assert_eq!(parse_output(&output[..3]), None);
    }

    #[test]
    fn a_large_t_is_a_leak() {
        let verdict = Verdict {
            max_t: 12.0,
            samples_in_test: 100_000,
            timed_samples: None,
        };
        assert!(!verdict.passes());
        assert!(
            TimingError::Leak(verdict)
                .to_string()
                .starts_with("max t = +12.000 over 100000 samples: |t| >= 4.5")
        );
    }

    #[test]
    fn the_test_crate_is_outside_the_workspace() {
        let root = crate::paths::project_root();
        let workspace = std::fs::read_to_string(root.join("Cargo.toml")).expect("root manifest");
        let manifest =
            std::fs::read_to_string(root.join("tools").join("timing").join("Cargo.toml"))
                .expect("timing manifest");
        assert!(manifest.contains("\n[workspace]"), "own workspace");
        let members = workspace
            .lines()
            .find(|line| line.trim_start().starts_with("members"))
            .expect("a members list");
        assert!(!members.contains("tools"), "not a member: {members}");
    }
}
