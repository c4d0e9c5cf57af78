//! `cargo xtask soak [--requests N] [--framework F]...`: the load and
//! fault tests of `tests/soak` at full size, in release.
//!
//! Runs `cargo test -p protocol-webhooks-soak --release --tests` with
//! `SOAK_REQUESTS=N` (default 20,000 requests of mixed load per framework),
//! one test at a time so that throughput and memory figures are not shared
//! with another test, and with output shown so every report is printed:
//! requests/s, answers by status, handler counts against valid requests
//! sent, and resident-memory growth while a 100 MiB body streams. The same
//! tests run at 2,000 requests in debug under a plain `cargo test`.
//!
//! `cargo xtask soak --inbox [--events N]`: instead, the kill/restart tests
//! of `tests/inbox-soak` in release, with `INBOX_SOAK_EVENTS=N` (default
//! 10,000): the inbox example SIGKILLed and restarted while signed events
//! are delivered, then every acknowledged event checked against the
//! handler's effects, written with each event's done: rows in the SQLite
//! transaction, ids pushed in the Redis script (see `docs/INBOX.md`).

use std::path::Path;

use pico_args::Arguments;

use crate::cmd::Cmd;
use crate::{Context as _, Result, framework};

/// Requests of mixed load per framework in the full run.
const DEFAULT_REQUESTS: u32 = 20_000;

const PACKAGE: &str = "protocol-webhooks-soak";

/// Events of the inbox's kill/restart run at full size.
const DEFAULT_INBOX_EVENTS: u32 = 10_000;

const INBOX_PACKAGE: &str = "protocol-webhooks-inbox-soak";

pub(crate) fn run(mut args: Arguments) -> Result {
    if args.contains("--inbox") {
        let events = args.opt_value_from_fn("--events", crate::positive::<u32>)?;
        crate::finish(args)?;
        let cmd = inbox_command(
            &crate::project_root(),
            events.unwrap_or(DEFAULT_INBOX_EVENTS),
        );
        return cmd
            .run()
            .context("the inbox soak printed its counts and problems above");
    }
    // The soak tests count requests in `u32`.
    let requests = args.opt_value_from_fn("--requests", crate::positive::<u32>)?;
    let frameworks: Vec<&str> = args.values_from_fn("--framework", framework)?;
    crate::finish(args)?;
    let root = crate::project_root();
    let cmd = command(&root, requests.unwrap_or(DEFAULT_REQUESTS), &frameworks);
    let reports = "each failing soak test printed its report and problems above";
    cmd.run().context(reports)
}

/// `cargo test` of the soak package in release, one test at a time, output
/// shown; with frameworks, only their tests, which each scenario names
/// after the framework (hence `--exact`, and `_` for `-`).
fn command(root: &Path, requests: u32, frameworks: &[&str]) -> Cmd {
    let named = crate::FRAMEWORKS
        .into_iter()
        .filter(|name| frameworks.contains(name));
    let tests: Vec<String> = named.map(|name| name.replace('-', "_")).collect();
    let cmd = Cmd::cargo(root)
        .env("SOAK_REQUESTS", &requests.to_string())
        .args(["test", "-p", PACKAGE, "--release", "--tests", "--"])
        .args(["--test-threads=1", "--nocapture"]);
    if tests.is_empty() {
        cmd
    } else {
        cmd.arg("--exact").args(tests)
    }
}

/// The inbox's kill/restart tests in release, output shown.
fn inbox_command(root: &Path, events: u32) -> Cmd {
    Cmd::cargo(root)
        .env("INBOX_SOAK_EVENTS", &events.to_string())
        .args(["test", "-p", INBOX_PACKAGE, "--release", "--tests", "--"])
        .args(["--test-threads=1", "--nocapture"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_framework_at_full_size_by_default_or_those_selected() {
        let all = command(Path::new("/repo"), DEFAULT_REQUESTS, &[]).to_string();
        let expected = "SOAK_REQUESTS=20000 cargo test -p protocol-webhooks-soak --release \
                        --tests -- --test-threads=1 --nocapture";
        assert_eq!(all, expected);
        let some = command(Path::new("/repo"), 500, &["poem", "actix-web", "poem"]).to_string();
        let expected = expected.replace("20000", "500") + " --exact actix_web poem";
        assert_eq!(some, expected);
    }

    #[test]
    fn the_inbox_run_is_its_own_package_at_full_size() {
        let cmd = inbox_command(Path::new("/repo"), DEFAULT_INBOX_EVENTS).to_string();
        let expected = "INBOX_SOAK_EVENTS=10000 cargo test -p protocol-webhooks-inbox-soak \
                        --release --tests -- --test-threads=1 --nocapture";
        assert_eq!(cmd, expected);
        let manifest = crate::project_root().join("tests/inbox-soak/Cargo.toml");
        let manifest = std::fs::read_to_string(manifest).expect("the inbox soak's manifest");
        assert!(manifest.contains(&format!("name = \"{INBOX_PACKAGE}\"")));
    }

    #[test]
    fn the_tests_named_exist() {
        let soak = crate::project_root().join("tests/soak");
        let read = |path: &str| std::fs::read_to_string(soak.join(path)).expect(path);
        for file in ["mixed_load.rs", "truncated_body.rs", "huge_body.rs"] {
            let mut source = read(&format!("tests/{file}"));
            // The crate's macro may write the tests out, naming them there.
            if source.contains("test_every_framework!") {
                source += &read("src/lib.rs");
            }
            let words = source.split(|c: char| !c.is_alphanumeric() && c != '_');
            for test in crate::FRAMEWORKS.map(|name| name.replace('-', "_")) {
                assert!(words.clone().any(|word| word == test), "{file}: {test}");
            }
        }
    }
}
