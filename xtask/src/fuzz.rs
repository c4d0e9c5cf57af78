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
use std::io;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use pico_args::Arguments;

use crate::cmd::Cmd;
use crate::{Context as _, Error, Result};

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

pub(crate) fn run(mut args: Arguments) -> Result {
    let seconds = args.opt_value_from_fn("--seconds", crate::positive::<u64>)?;
    let seconds = seconds.unwrap_or(DEFAULT_SECONDS);
    let named: Vec<&str> = args.values_from_fn("--target", |name| crate::one_of(&TARGETS, name))?;
    crate::finish(args)?;
    let chosen = |target: &&str| named.is_empty() || named.contains(target);
    let root = crate::project_root();
    let installed = rustup_cargo(&root).args(["fuzz", "--version"]).output();
    if !installed.is_ok_and(|output| output.status.success()) {
        eprintln!("fuzz: cargo-fuzz is missing: installing it");
        let install = ["install", "cargo-fuzz", "--locked"];
        rustup_cargo(&root).args(install).run()?;
    }

    let mut table = String::from(HEADING);
    let mut failures = String::new();
    for target in TARGETS.into_iter().filter(chosen) {
        let corpus = root.join("fuzz").join("corpus").join(target);
        let seeded = copy_seeds(&root.join("fuzz").join("seeds").join(target), &corpus)?;
        let seeded = format!("{seeded} new seed(s) copied into {}", corpus.display());
        eprintln!("fuzz: {target}: {seeded}, fuzzing for {seconds} s");
        let started = Instant::now();
        let mut stats = Stats::default();
        // libFuzzer reports on stderr: each line is passed on as it comes,
        // and the statistics kept.
        let status =
            fuzz_one(&root, target, seconds).run_reading_stderr(Stdio::piped(), |line| {
                eprintln!("{line}");
                stats.observe(line);
            })?;
        if !status.success() {
            failures += &failure(target, status, stats.artifact.as_deref());
        }
        let seconds = started.elapsed().as_secs();
        table += &stats.row(target, status.success(), seconds, corpus_size(&corpus)?);
    }
    crate::print(&table)?;
    let failed = failures.matches("\n  ").count();
    let message = format!("{failed} fuzz target(s) failed:{failures}");
    (failed == 0).then_some(()).ok_or(Error::Failed(message))
}

/// The `cargo` that understands `+toolchain`: rustup's proxy on `PATH`, not
/// the toolchain binary in `$CARGO` that runs this xtask; and without the
/// toolchain pinned for this xtask's own build, which would override the
/// `+nightly` the fuzz build needs.
fn rustup_cargo(root: &Path) -> Cmd {
    Cmd::new("cargo", root).env_remove("RUSTUP_TOOLCHAIN")
}

fn fuzz_one(root: &Path, target: &str, seconds: u64) -> Cmd {
    rustup_cargo(root)
        .args(["+nightly", "fuzz", "run", target])
        .arg(Path::new("fuzz").join("corpus").join(target))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
        .arg("-print_final_stats=1")
        // cargo-fuzz builds with sanitizer flags into `fuzz/target`; a target
        // directory set for stable builds must not receive those artifacts.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
}

/// A line of the failure message: every target runs even after one has
/// crashed, so that one crash does not hide another, and each is named with
/// the input it left.
fn failure(target: &str, status: impl fmt::Display, artifact: Option<&str>) -> String {
    let outcome = match artifact {
        Some(path) => format!(
            "crashing input in {path}; reproduce with `cargo +nightly fuzz run {target} {path}`"
        ),
        None => String::from("no input was saved; see the output above"),
    };
    format!("\n  {target} ({status}): {outcome}")
}

/// Copies every seed that the corpus lacks or holds with other contents;
/// returns how many were copied. A missing seed directory copies nothing.
fn copy_seeds(seeds: &Path, corpus: &Path) -> Result<usize> {
    fs::create_dir_all(corpus).context(corpus.display())?;
    let entries = match fs::read_dir(seeds) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
        entries => entries.context(seeds.display())?,
    };
    let mut copied = 0;
    for entry in entries {
        let source = entry.context(seeds.display())?.path();
        let Some(name) = source.file_name().filter(|_| source.is_file()) else {
            continue;
        };
        let destination = corpus.join(name);
        let contents = fs::read(&source).context(source.display())?;
        if fs::read(&destination).ok() != Some(contents.clone()) {
            fs::write(&destination, contents).context(destination.display())?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// Files in the corpus and their total size in bytes.
fn corpus_size(corpus: &Path) -> Result<(usize, u64)> {
    let entries = fs::read_dir(corpus).context(corpus.display())?;
    let metadata = entries.map(|entry| entry.and_then(|entry| entry.metadata()));
    let files = metadata
        .collect::<io::Result<Vec<_>>>()
        .context(corpus.display())?;
    let sizes: Vec<u64> = files
        .iter()
        .filter(|file| file.is_file())
        .map(fs::Metadata::len)
        .collect();
    Ok((sizes.len(), sizes.iter().sum()))
}

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

/// The summary table's heading, which [`Stats::row`] lines up with.
const HEADING: &str = "\ntarget             result  seconds     executions    exec/s    new   \
                       corpus corpus size       active\n";

impl Stats {
    /// Takes what a line says. The final statistics (`-print_final_stats`)
    /// are preferred; `#N DONE ... exec/s: R` is the fallback for a run that
    /// did not print them.
    fn observe(&mut self, line: &str) {
        let line = line.trim();
        let stat = |name: &str| line.strip_prefix(name)?.trim().parse().ok();
        let after = |label: &str| line.split_once(label)?.1.split_whitespace().next();
        let mut words = line.split_whitespace();
        let done = (
            words.next().and_then(|word| word.strip_prefix('#')),
            words.next(),
        );
        if let Some(value) = stat("stat::number_of_executed_units:") {
            self.executions = Some(value);
        } else if let Some(value) = stat("stat::average_exec_per_sec:") {
            self.execs_per_second = Some(value);
        } else if let Some(value) = stat("stat::new_units_added:") {
            self.new_units = Some(value);
        } else if let (Some(count), Some("DONE")) = done {
            self.executions = self.executions.or(count.parse().ok());
            let rate = after("exec/s:").and_then(|rate| rate.parse().ok());
            self.execs_per_second = self.execs_per_second.or(rate);
            self.active_corpus = after("corp:").map(str::to_owned);
        } else if let Some((_, path)) = line.split_once("Test unit written to ") {
            self.artifact = Some(path.trim().to_owned());
        }
    }

    fn row(&self, target: &str, passed: bool, seconds: u64, size: (usize, u64)) -> String {
        let number = |value: Option<u64>| value.map_or_else(|| "?".to_owned(), |n| n.to_string());
        let (executions, rate) = (number(self.executions), number(self.execs_per_second));
        let (new, result) = (number(self.new_units), if passed { "ok" } else { "FAILED" });
        let (files, kib) = (size.0, format!("{} KiB", size.1.div_ceil(1024)));
        let active = self.active_corpus.as_deref().unwrap_or("?");
        format!(
            "{target:<18} {result:>6} {seconds:>8} {executions:>14} {rate:>9} {new:>6} \
             {files:>8} {kib:>11} {active:>12}\n"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_a_source_and_seeds() {
        let fuzz = crate::project_root().join("fuzz");
        let manifest = fs::read_to_string(fuzz.join("Cargo.toml")).expect("fuzz manifest");
        assert!(manifest.contains("\n[workspace]"), "own workspace");
        for target in TARGETS {
            let source = fuzz.join("fuzz_targets").join(format!("{target}.rs"));
            let named = manifest.contains(&format!("name = \"{target}\""));
            assert!(source.is_file() && named, "{target}");
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
            "stat::peak_rss_mb:              512",
        ] {
            stats.observe(line);
        }
        // Every figure but the artifact shows in the row.
        assert_eq!(
            stats.row("verify", true, 30, (3, 2049)),
            "verify                 ok       30         123457      4116    205        3       3 KiB     245/12Kb\n"
        );
        let mut done_only = Stats::default();
        done_only.observe("#98765\tDONE   cov: 812 corp: 245/12Kb exec/s: 3292 rss: 512Mb");
        assert_eq!(
            done_only.row("verify", false, 30, (3, 0)),
            "verify             FAILED       30          98765      3292      ?        3       0 KiB     245/12Kb\n"
        );
    }

    #[test]
    fn a_crash_names_its_input() {
        let path = "/repo/fuzz/artifacts/verify/crash-da39a3ee";
        let mut stats = Stats::default();
        stats.observe(&format!(
            "artifact_prefix='/repo/'; Test unit written to {path}"
        ));
        assert_eq!(stats.artifact.as_deref(), Some(path));
        let reproduce = format!("reproduce with `cargo +nightly fuzz run verify {path}`");
        let saved = format!("\n  verify (exit status: 1): crashing input in {path}; {reproduce}");
        assert_eq!(failure("verify", "exit status: 1", Some(path)), saved);
        let unsaved = "\n  verify (signal: 9): no input was saved; see the output above";
        assert_eq!(failure("verify", "signal: 9", None), unsaved);
    }

    #[test]
    fn seeds_are_merged_into_the_corpus() {
        let dir = std::env::temp_dir().join(format!("xtask-fuzz-seeds-{}", std::process::id()));
        let (seeds, corpus) = (dir.join("seeds"), dir.join("corpus"));
        fs::create_dir_all(&seeds).expect("seeds");
        fs::create_dir_all(&corpus).expect("corpus");
        for (file, contents) in [(seeds.join("a"), "new"), (seeds.join("b"), "same")] {
            fs::write(file, contents).expect("seed");
        }
        for (file, contents) in [(corpus.join("b"), "same"), (corpus.join("found"), "kept")] {
            fs::write(file, contents).expect("corpus entry");
        }
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
        assert_eq!(
            fuzz_one(Path::new("/repo"), "verify", 30).to_string(),
            "cargo +nightly fuzz run verify fuzz/corpus/verify -- -max_total_time=30 \
             -rss_limit_mb=2048 -print_final_stats=1"
        );
    }
}
