//! `cargo xtask fuzz [--seconds N] [--target NAME]...`: runs the libFuzzer
//! targets under `fuzz/` one after another.
//!
//! For each target: the committed seeds in `fuzz/seeds/<target>/` are copied
//! into the working corpus `fuzz/corpus/<target>/` (gitignored, so it keeps
//! growing from one run to the next), then
//! `cargo +nightly fuzz run <target> fuzz/corpus/<target> -- -max_total_time=N`
//! runs it. A table of executions, executions per second and corpus size per
//! target follows. Every target runs even after one has crashed, so that one
//! crash does not hide another; the command then fails, naming the inputs
//! libFuzzer saved under `fuzz/artifacts/`.
//!
//! cargo-fuzz is installed with `cargo install cargo-fuzz --locked` when
//! missing. The nightly toolchain must already be installed.

use core::fmt;
use std::fs;
use std::io::{self, BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

use crate::cmd::describe;

/// The targets, in the order they run.
const TARGETS: [&str; 4] = [
    "signature_header",
    "verify",
    "event_parse",
    "verify_then_parse",
];

const DEFAULT_SECONDS: u64 = 30;

/// libFuzzer's default of 2048 MB, stated so that a leak shows up the same
/// way on every machine.
const RSS_LIMIT_MB: u32 = 2048;

const USAGE: &str = "usage: cargo xtask fuzz [--seconds N] [--target NAME]...
  --seconds N    fuzz each target for N seconds (default 30)
  --target NAME  run only NAME (repeatable); targets: signature_header,
                 verify, event_parse, verify_then_parse";

/// Why fuzzing did not pass.
#[derive(Debug)]
pub(crate) enum FuzzError {
    /// The command line was wrong.
    Usage(String),
    /// A file or directory could not be read or written.
    Io { path: PathBuf, error: io::Error },
    /// A program could not be started.
    Spawn { command: String, error: io::Error },
    /// A program other than a fuzz run failed.
    CommandFailed { command: String, status: ExitStatus },
    /// Some targets crashed or could not run.
    Failed(Vec<Failure>),
}

/// A target whose run exited unsuccessfully.
#[derive(Debug)]
pub(crate) struct Failure {
    target: &'static str,
    status: ExitStatus,
    /// The input libFuzzer saved, when it got that far.
    artifact: Option<String>,
}

impl fmt::Display for FuzzError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) => write!(f, "{message}\n{USAGE}"),
            Self::Io { path, error } => write!(f, "{}: {error}", path.display()),
            Self::Spawn { command, error } => write!(f, "cannot start `{command}`: {error}"),
            Self::CommandFailed { command, status } => write!(f, "`{command}` failed ({status})"),
            Self::Failed(failures) => {
                write!(f, "{} fuzz target(s) failed:", failures.len())?;
                for failure in failures {
                    write!(f, "\n  {} ({})", failure.target, failure.status)?;
                    match &failure.artifact {
                        Some(path) => write!(
                            f,
                            ": crashing input in {path}; reproduce with \
                             `cargo +nightly fuzz run {} {path}`",
                            failure.target
                        )?,
                        None => f.write_str(": no input was saved; see the output above")?,
                    }
                }
                Ok(())
            }
        }
    }
}

impl core::error::Error for FuzzError {}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
struct Options {
    seconds: u64,
    targets: Vec<&'static str>,
}

/// Runs the command. `args` are the arguments after `fuzz`.
pub(crate) fn run(args: &[String]) -> Result<(), FuzzError> {
    let Some(options) = parse_args(args)? else {
        let _ = writeln!(io::stdout().lock(), "{USAGE}");
        return Ok(());
    };
    let root = crate::paths::project_root();
    ensure_cargo_fuzz(&root)?;

    let mut reports = Vec::new();
    let mut failures = Vec::new();
    for target in options.targets {
        let corpus = root.join("fuzz").join("corpus").join(target);
        let seeded = copy_seeds(&root.join("fuzz").join("seeds").join(target), &corpus)?;
        progress(&format!(
            "{target}: {seeded} new seed(s) copied into {}, fuzzing for {} s",
            corpus.display(),
            options.seconds
        ));
        let outcome = fuzz_one(&root, target, options.seconds)?;
        let (files, bytes) = corpus_size(&corpus)?;
        if !outcome.status.success() {
            failures.push(Failure {
                target,
                status: outcome.status,
                artifact: outcome.stats.artifact.clone(),
            });
        }
        reports.push(Report {
            target,
            passed: outcome.status.success(),
            stats: outcome.stats,
            seconds: outcome.seconds,
            files,
            bytes,
        });
    }

    print_table(&reports).map_err(|error| FuzzError::Io {
        path: PathBuf::from("<stdout>"),
        error,
    })?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(FuzzError::Failed(failures))
    }
}

/// `None` when help was asked for.
fn parse_args(args: &[String]) -> Result<Option<Options>, FuzzError> {
    let mut seconds = DEFAULT_SECONDS;
    let mut targets = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| FuzzError::Usage(format!("{name} needs a value")))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--seconds" => {
                let text = value("--seconds")?;
                seconds = text
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| FuzzError::Usage(format!("invalid --seconds `{text}`")))?;
            }
            "--target" => {
                let name = value("--target")?;
                let target = TARGETS
                    .into_iter()
                    .find(|target| *target == name)
                    .ok_or_else(|| FuzzError::Usage(format!("unknown target `{name}`")))?;
                if !targets.contains(&target) {
                    targets.push(target);
                }
            }
            _ => return Err(FuzzError::Usage(format!("unknown argument `{arg}`"))),
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    Ok(Some(Options { seconds, targets }))
}

/// The `cargo` that understands `+toolchain`: rustup's proxy on `PATH`, not
/// the toolchain binary in `$CARGO` that runs this xtask.
fn rustup_cargo(root: &Path) -> Command {
    let mut command = Command::new("cargo");
    command.current_dir(root);
    // A toolchain pinned for this xtask's own build must not override the
    // `+nightly` the fuzz build needs.
    command.env_remove("RUSTUP_TOOLCHAIN");
    command
}

fn ensure_cargo_fuzz(root: &Path) -> Result<(), FuzzError> {
    let installed = rustup_cargo(root)
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if installed {
        return Ok(());
    }
    progress("cargo-fuzz is missing: installing it");
    let mut install = rustup_cargo(root);
    install.args(["install", "cargo-fuzz", "--locked"]);
    let command = describe(&install);
    let status = install.status().map_err(|error| FuzzError::Spawn {
        command: command.clone(),
        error,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(FuzzError::CommandFailed { command, status })
    }
}

/// Copies every seed that the corpus lacks or holds with other contents;
/// returns how many were copied. A missing seed directory copies nothing.
fn copy_seeds(seeds: &Path, corpus: &Path) -> Result<usize, FuzzError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |error| FuzzError::Io { path, error }
    };
    fs::create_dir_all(corpus).map_err(io_error(corpus))?;
    let entries = match fs::read_dir(seeds) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(io_error(seeds)(error)),
    };
    let mut copied = 0;
    for entry in entries {
        let source = entry.map_err(io_error(seeds))?.path();
        if !source.is_file() {
            continue;
        }
        let Some(name) = source.file_name() else {
            continue;
        };
        let destination = corpus.join(name);
        let contents = fs::read(&source).map_err(io_error(&source))?;
        if fs::read(&destination).ok().as_deref() != Some(contents.as_slice()) {
            fs::write(&destination, contents).map_err(io_error(&destination))?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// What one run left behind.
struct Outcome {
    status: ExitStatus,
    stats: Stats,
    seconds: u64,
}

fn fuzz_one(root: &Path, target: &'static str, seconds: u64) -> Result<Outcome, FuzzError> {
    let corpus = Path::new("fuzz").join("corpus").join(target);
    let mut command = rustup_cargo(root);
    command
        .args(["+nightly", "fuzz", "run", target])
        .arg(&corpus)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
        .arg("-print_final_stats=1")
        // cargo-fuzz builds with sanitizer flags into `fuzz/target`; a target
        // directory set for stable builds must not receive those artifacts.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped());
    let shown = describe(&command);
    eprintln!("$ {shown}");
    let started = Instant::now();
    let mut child = command.spawn().map_err(|error| FuzzError::Spawn {
        command: shown.clone(),
        error,
    })?;
    // libFuzzer reports on stderr: pass every line through as it comes and
    // keep the statistics.
    let mut stats = Stats::default();
    if let Some(stderr) = child.stderr.take() {
        let mut echo = io::stderr();
        for line in BufReader::new(stderr).split(b'\n') {
            let line = line.map_err(|error| FuzzError::Spawn {
                command: shown.clone(),
                error,
            })?;
            let line = String::from_utf8_lossy(&line);
            // A closed stderr must not stop the run; the statistics are
            // still collected.
            let _ = writeln!(echo, "{line}");
            stats.observe(&line);
        }
    }
    let status = child.wait().map_err(|error| FuzzError::Spawn {
        command: shown,
        error,
    })?;
    Ok(Outcome {
        status,
        stats,
        seconds: started.elapsed().as_secs(),
    })
}

/// The figures read from libFuzzer's output.
#[derive(Debug, Default, PartialEq)]
struct Stats {
    executions: Option<u64>,
    execs_per_second: Option<u64>,
    new_units: Option<u64>,
    /// libFuzzer's own count of the inputs it keeps, `N/size`: fewer than
    /// the corpus directory's files, since it drops inputs that add no
    /// coverage over the others.
    active_corpus: Option<String>,
    artifact: Option<String>,
}

impl Stats {
    /// Takes what a line says. The final statistics (`-print_final_stats`)
    /// are preferred; `#N DONE ... exec/s: R` is the fallback for a run that
    /// did not print them.
    fn observe(&mut self, line: &str) {
        let line = line.trim();
        if let Some(value) = stat(line, "stat::number_of_executed_units:") {
            self.executions = Some(value);
        } else if let Some(value) = stat(line, "stat::average_exec_per_sec:") {
            self.execs_per_second = Some(value);
        } else if let Some(value) = stat(line, "stat::new_units_added:") {
            self.new_units = Some(value);
        } else if let Some(rest) = line.strip_prefix('#') {
            let mut words = rest.split_whitespace();
            let count = words.next().and_then(|count| count.parse().ok());
            if words.next() == Some("DONE") {
                self.executions = self.executions.or(count);
                let rate = rest
                    .split_once("exec/s:")
                    .and_then(|(_, after)| after.split_whitespace().next())
                    .and_then(|rate| rate.parse().ok());
                self.execs_per_second = self.execs_per_second.or(rate);
                self.active_corpus = rest
                    .split_once("corp:")
                    .and_then(|(_, after)| after.split_whitespace().next())
                    .map(str::to_owned);
            }
        } else if let Some((_, path)) = line.split_once("Test unit written to ") {
            self.artifact = Some(path.trim().to_owned());
        }
    }
}

fn stat(line: &str, name: &str) -> Option<u64> {
    line.strip_prefix(name)?.trim().parse().ok()
}

/// Files in the corpus and their total size in bytes.
fn corpus_size(corpus: &Path) -> Result<(usize, u64), FuzzError> {
    let io_error = |error| FuzzError::Io {
        path: corpus.to_path_buf(),
        error,
    };
    let mut files = 0;
    let mut bytes = 0;
    for entry in fs::read_dir(corpus).map_err(io_error)? {
        let metadata = entry.and_then(|entry| entry.metadata()).map_err(io_error)?;
        if metadata.is_file() {
            files += 1;
            bytes += metadata.len();
        }
    }
    Ok((files, bytes))
}

/// One target's line in the summary.
struct Report {
    target: &'static str,
    passed: bool,
    stats: Stats,
    seconds: u64,
    files: usize,
    bytes: u64,
}

fn print_table(reports: &[Report]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "\n{:<18} {:>6} {:>8} {:>14} {:>9} {:>6} {:>8} {:>11} {:>12}",
        "target",
        "result",
        "seconds",
        "executions",
        "exec/s",
        "new",
        "corpus",
        "corpus size",
        "active"
    )?;
    for report in reports {
        let number = |value: Option<u64>| value.map_or_else(|| "?".to_owned(), |n| n.to_string());
        writeln!(
            out,
            "{:<18} {:>6} {:>8} {:>14} {:>9} {:>6} {:>8} {:>11} {:>12}",
            report.target,
            if report.passed { "ok" } else { "FAILED" },
            report.seconds,
            number(report.stats.executions),
            number(report.stats.execs_per_second),
            number(report.stats.new_units),
            report.files,
            format!("{} KiB", report.bytes.div_ceil(1024)),
            report.stats.active_corpus.as_deref().unwrap_or("?"),
        )?;
    }
    Ok(())
}

/// A step of the run on stderr, next to cargo's and libFuzzer's output.
/// Losing such a line is harmless, so a write error is ignored.
fn progress(message: &str) {
    let _ = writeln!(io::stderr().lock(), "fuzz: {message}");
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
        assert_eq!(
            parsed(&[]).expect("ok"),
            Some(Options {
                seconds: DEFAULT_SECONDS,
                targets: TARGETS.to_vec()
            })
        );
        assert_eq!(
            parsed(&["--seconds", "600", "--target=verify", "--target", "verify"]).expect("ok"),
            Some(Options {
                seconds: 600,
                targets: vec!["verify"]
            })
        );
        assert_eq!(parsed(&["--help"]).expect("ok"), None);
        for wrong in [
            &["--seconds"][..],
            &["--seconds", "0"],
            &["--seconds", "ten"],
            &["--target", "nope"],
            &["--jobs", "2"],
        ] {
            assert!(
                matches!(parsed(wrong), Err(FuzzError::Usage(_))),
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn every_target_has_a_source_and_seeds() {
        let fuzz = crate::paths::project_root().join("fuzz");
        let manifest = fs::read_to_string(fuzz.join("Cargo.toml")).expect("fuzz manifest");
        assert!(manifest.contains("\n[workspace]"), "own workspace");
        for target in TARGETS {
            assert!(
                fuzz.join("fuzz_targets")
                    .join(format!("{target}.rs"))
                    .is_file(),
                "{target}"
            );
            assert!(
                manifest.contains(&format!("name = \"{target}\"")),
                "{target}"
            );
            let seeds = fs::read_dir(fuzz.join("seeds").join(target)).expect("seed directory");
            assert!(seeds.count() > 0, "{target} has seeds");
        }
    }

    #[test]
    fn final_statistics_win_over_the_done_line() {
        let mut stats = Stats::default();
        for line in [
            "#2\tINITED cov: 100 ft: 120 corp: 40/3Kb exec/s: 0 rss: 40Mb",
            "#123456\tDONE   cov: 812 ft: 2345 corp: 245/12Kb lim: 4096 exec/s: 4115 rss: 512Mb",
            "Done 123456 runs in 30 second(s)",
            "stat::number_of_executed_units: 123457",
            "stat::average_exec_per_sec:     4116",
            "stat::new_units_added:          205",
            "stat::slowest_unit_time_sec:    0",
            "stat::peak_rss_mb:              512",
        ] {
            stats.observe(line);
        }
        assert_eq!(
            stats,
            Stats {
                executions: Some(123_457),
                execs_per_second: Some(4116),
                new_units: Some(205),
                active_corpus: Some("245/12Kb".to_owned()),
                artifact: None,
            }
        );

        let mut done_only = Stats::default();
        done_only
            .observe("#98765\tDONE   cov: 812 ft: 2345 corp: 245/12Kb exec/s: 3292 rss: 512Mb");
        assert_eq!(done_only.executions, Some(98_765));
        assert_eq!(done_only.execs_per_second, Some(3292));
    }

    #[test]
    fn a_crash_names_its_input() {
        let mut stats = Stats::default();
        stats.observe(
            "artifact_prefix='/repo/fuzz/artifacts/verify/'; Test unit written to \
             /repo/fuzz/artifacts/verify/crash-da39a3ee5e6b4b0d3255bfef95601890afd80709",
        );
        assert_eq!(
            stats.artifact.as_deref(),
            Some("/repo/fuzz/artifacts/verify/crash-da39a3ee5e6b4b0d3255bfef95601890afd80709")
        );
        let error = FuzzError::Failed(vec![Failure {
            target: "verify",
            status: failed_status(),
            artifact: stats.artifact,
        }]);
        assert!(
            error
                .to_string()
                .contains("cargo +nightly fuzz run verify /repo/fuzz/artifacts/verify/crash-"),
            "{error}"
        );
    }

    fn failed_status() -> ExitStatus {
        Command::new("sh")
            .args(["-c", "exit 1"])
            .status()
            .expect("sh runs")
    }

    #[test]
    fn seeds_are_merged_into_the_corpus() {
        let dir = std::env::temp_dir().join(format!("xtask-fuzz-seeds-{}", std::process::id()));
        let seeds = dir.join("seeds");
        let corpus = dir.join("corpus");
        fs::create_dir_all(&seeds).expect("seeds");
        fs::create_dir_all(&corpus).expect("corpus");
        fs::write(seeds.join("a"), b"new").expect("seed a");
        fs::write(seeds.join("b"), b"same").expect("seed b");
        fs::write(corpus.join("b"), b"same").expect("corpus b");
        fs::write(corpus.join("found"), b"kept").expect("corpus entry");

        assert_eq!(copy_seeds(&seeds, &corpus).expect("copy"), 1);
        assert_eq!(fs::read(corpus.join("a")).expect("a"), b"new");
        assert_eq!(fs::read(corpus.join("found")).expect("kept"), b"kept");
        assert_eq!(copy_seeds(&seeds, &corpus).expect("again"), 0);
        assert_eq!(corpus_size(&corpus).expect("size"), (3, 11));
        assert_eq!(copy_seeds(&dir.join("none"), &corpus).expect("no seeds"), 0);

        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn command_echo() {
        let mut command = Command::new("cargo");
        command.args(["+nightly", "fuzz", "run", "verify"]);
        assert_eq!(describe(&command), "cargo +nightly fuzz run verify");
    }
}
