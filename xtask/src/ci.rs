//! `cargo xtask ci`: every check CI runs, in order, stopping at the first
//! failure; and `cargo xtask nostd`, the last of them: it builds the crates
//! under `xtask/nostd/`.
//!
//! Each of those is a `#![no_std]` staticlib with its own `#[panic_handler]`,
//! built in its own workspace with `panic = "abort"`. If anything in its
//! dependency graph links `std`, std's `panic_impl` collides with that
//! handler (error E0152) and the build fails, so a successful build proves
//! the feature set it uses is `no_std`:
//!
//! - `verify`: `default-features = false` (no `std`, no `alloc`);
//! - `events`: `alloc` and `events`, with a C-library global allocator.

use std::path::Path;

use pico_args::Arguments;

use crate::cmd::Cmd;
use crate::{Context as _, Result, server};

/// The no_std check crates, by directory under `xtask/nostd/`.
const NO_STD_CRATES: [&str; 2] = ["verify", "events"];

/// `cargo xtask ci`: `-p NAME` / `--package NAME`, repeated, selects
/// packages.
pub(crate) fn run(mut args: Arguments) -> Result {
    let packages: Vec<String> = args.values_from_str(["-p", "--package"])?;
    crate::finish(args)?;
    let root = crate::project_root();
    // The Redis store's tests need a real server; it lives until the steps end.
    let (redis_url, _redis) = server::ensure_redis()?;
    let steps = steps(&root, &packages, &publishable(&root)?, &redis_url);
    let total = steps.len() + 1;
    for (number, (name, cmd)) in steps.iter().enumerate() {
        eprintln!("\n==> [{}/{total}] {name}", number + 1);
        if *name == "package" {
            forget_unpacked(&publishable(&root)?)?;
        }
        cmd.run().context(format!("ci step `{name}` failed"))?;
    }
    eprintln!("\n==> [{total}/{total}] no_std");
    no_std(&root).context("ci step `no_std` failed")?;
    eprintln!("\nci: all {total} steps passed");
    Ok(())
}

/// The crates meant for users: every directory under `crates/`. Examples,
/// tests and xtask say `publish = false`.
fn publishable(root: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(root.join("crates")).context("cannot list crates/")?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.context("cannot list crates/")?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// `cargo package` verifies each crate against the others of the same run
/// through a local registry, unpacked into the cargo home's `registry/src`
/// under a folder named by the crate and its version only. A copy left by
/// an earlier run is reused even when the crate changed since, and the
/// verification then builds stale sources; removing our crates' copies
/// makes cargo unpack the current ones (it unpacks whatever is missing
/// there again).
fn forget_unpacked(publishable: &[String]) -> Result {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::home_dir().map(|home| home.join(".cargo")));
    let Some(sources) = home.map(|home| home.join("registry").join("src")) else {
        return Ok(());
    };
    let Ok(registries) = std::fs::read_dir(&sources) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        let Ok(unpacked) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for folder in unpacked.flatten() {
            let file_name = folder.file_name();
            let folder_name = file_name.to_string_lossy();
            if is_unpacked_copy(&folder_name, publishable) {
                let path = folder.path();
                std::fs::remove_dir_all(&path)
                    .context(format!("cannot remove {}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// Whether `folder` is `NAME-VERSION` for one of `names`.
fn is_unpacked_copy(folder: &str, names: &[String]) -> bool {
    names.iter().any(|name| {
        folder
            .strip_prefix(name.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// The cargo steps, before the no_std build. Without packages they cover
/// the whole workspace; with packages, only those. `cargo package` builds
/// each publishable crate from its packaged sources alone, so a file left
/// out of a package or a path dependency without a version fails here.
fn steps(
    root: &Path,
    packages: &[String],
    publishable: &[String],
    redis_url: &str,
) -> Vec<(&'static str, Cmd)> {
    let to_package: Vec<&str> = publishable
        .iter()
        .filter(|name| packages.is_empty() || packages.contains(name))
        .flat_map(|name| ["-p", name.as_str()])
        .collect();
    let selected = packages.iter().flat_map(|package| ["-p", package.as_str()]);
    let (fmt_scope, scope): (Vec<&str>, Vec<&str>) = if packages.is_empty() {
        (vec!["--all"], vec!["--workspace"])
    } else {
        (selected.clone().collect(), selected.collect())
    };
    let cargo = |command: &str, scope: &[&str]| Cmd::cargo(root).arg(command).args(scope);
    let (all, deny) = ("--all-features", ["--", "-D", "warnings"]);
    let fmt = cargo("fmt", &fmt_scope).args(["--", "--check"]);
    let clippy = cargo("clippy", &scope)
        .args(["--all-targets", all])
        .args(deny);
    let tests = cargo("test", &scope).arg(all).env("REDIS_URL", redis_url);
    let docs = cargo("doc", &scope).args(["--no-deps", all]);
    let docs = docs.env("RUSTDOCFLAGS", "-D warnings");
    let mut steps = vec![
        ("rustfmt", fmt),
        ("clippy", clippy),
        ("tests", tests),
        ("docs", docs),
    ];
    if !to_package.is_empty() {
        // Uncommitted work is packaged as it stands: the check is about
        // what a package holds, not about the state of the checkout.
        let package = cargo("package", &to_package).arg("--allow-dirty");
        steps.push(("package", package));
    }
    steps
}

/// `cargo xtask nostd`, which takes no arguments.
pub(crate) fn nostd(args: Arguments) -> Result {
    crate::finish(args)?;
    no_std(&crate::project_root())
}

/// Builds every check crate in release, into `nostd/` under the main target
/// directory: they share it with each other but not with the workspace,
/// whose feature-unified artifacts would not prove anything.
fn no_std(root: &Path) -> Result {
    let target_dir = crate::target_dir()?.join("nostd");
    for name in NO_STD_CRATES {
        let manifest = format!("xtask/nostd/{name}/Cargo.toml");
        let build = [
            "build",
            "--release",
            "--manifest-path",
            &manifest,
            "--target-dir",
        ];
        Cmd::cargo(root).args(build).arg(&target_dir).run()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command_lines(packages: &[&str]) -> Vec<String> {
        let owned = |names: &[&str]| {
            names
                .iter()
                .map(|&name| name.to_owned())
                .collect::<Vec<_>>()
        };
        let publishable = owned(&["protocol-webhooks", "protocol-webhooks-cli"]);
        let steps = steps(
            Path::new("/repo"),
            &owned(packages),
            &publishable,
            "redis://127.0.0.1:6390",
        );
        steps.iter().map(|(_, cmd)| cmd.to_string()).collect()
    }

    #[test]
    fn whole_workspace_by_default_or_the_packages_selected() {
        assert_eq!(
            command_lines(&[]),
            [
                "cargo fmt --all -- --check",
                "cargo clippy --workspace --all-targets --all-features -- -D warnings",
                "REDIS_URL=redis://127.0.0.1:6390 cargo test --workspace --all-features",
                "RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps --all-features",
                "cargo package -p protocol-webhooks -p protocol-webhooks-cli --allow-dirty",
            ]
        );
        assert_eq!(
            command_lines(&["protocol-webhooks", "xtask"]),
            [
                "cargo fmt -p protocol-webhooks -p xtask -- --check",
                "cargo clippy -p protocol-webhooks -p xtask --all-targets --all-features -- -D warnings",
                "REDIS_URL=redis://127.0.0.1:6390 cargo test -p protocol-webhooks -p xtask --all-features",
                "RUSTDOCFLAGS='-D warnings' cargo doc -p protocol-webhooks -p xtask --no-deps --all-features",
                "cargo package -p protocol-webhooks --allow-dirty",
            ]
        );
    }

    #[test]
    fn only_our_crates_unpacked_copies_are_forgotten() {
        let names = [
            "protocol-webhooks".to_owned(),
            "protocol-webhooks-cli".to_owned(),
        ];
        assert!(is_unpacked_copy("protocol-webhooks-0.1.0", &names));
        assert!(is_unpacked_copy("protocol-webhooks-cli-0.2.0-rc.1", &names));
        for other in [
            "protocol-webhooks-axum-0.1.0",
            "protocol-webhooks",
            "serde-1.0.219",
        ] {
            assert!(!is_unpacked_copy(other, &names), "{other}");
        }
    }

    #[test]
    fn only_the_crates_under_crates_are_published() {
        let root = crate::project_root();
        let publishable = publishable(&root).expect("crates/");
        assert!(publishable.contains(&"protocol-webhooks".to_owned()));
        for folder in ["crates", "examples", "tests", "."] {
            let members = std::fs::read_dir(root.join(folder)).expect(folder);
            for manifest in members.map(|entry| entry.expect(folder).path().join("Cargo.toml")) {
                let Ok(text) = std::fs::read_to_string(&manifest) else {
                    continue;
                };
                let published = !text.contains("publish = false");
                let path = manifest.display();
                assert_eq!(published, folder == "crates", "{path}");
            }
        }
    }

    #[test]
    fn every_check_crate_is_a_no_std_staticlib_outside_the_workspace() {
        let root = crate::project_root();
        let read = |path: &str| std::fs::read_to_string(root.join(path)).expect(path);
        let workspace = read("Cargo.toml");
        for name in NO_STD_CRATES {
            let manifest = read(&format!("xtask/nostd/{name}/Cargo.toml"));
            let source = read(&format!("xtask/nostd/{name}/src/lib.rs"));
            for needle in [
                "crate-type = [\"staticlib\"]",
                "\n[workspace]",
                "default-features = false",
            ] {
                assert!(manifest.contains(needle), "{name}: {needle}");
            }
            assert_eq!(manifest.matches("panic = \"abort\"").count(), 2, "{name}");
            assert!(
                source.contains("#![no_std]") && source.contains("#[panic_handler]"),
                "{name}"
            );
            let excluded = format!("\"xtask/nostd/{name}\"");
            assert!(
                workspace.contains(&excluded),
                "{name} is excluded from the main workspace"
            );
        }
    }
}
