//! `cargo xtask ci`: every check CI runs, in order, stopping at the first
//! failure.

use crate::cmd::Cmd;
use crate::{Error, Result, nostd, paths, redis};

/// Runs the command. `args` are the arguments after `ci`.
pub(crate) fn run(args: &[String]) -> Result {
    let packages = parse_packages(args)?;
    let root = paths::project_root();
    // The Redis store's tests need a real server; it lives until the steps end.
    let redis = redis::ensure_redis()?;
    let steps = steps(&root, &packages, redis.url());
    let total = steps.len() + 1;
    for (number, (name, cmd)) in steps.iter().enumerate() {
        announce(number + 1, total, name);
        cmd.run()
            .map_err(|error| Error::Failed(format!("ci step `{name}` failed: {error}")))?;
    }
    announce(total, total, "no_std");
    nostd::build(&root)
        .map_err(|error| Error::Failed(format!("ci step `no_std` failed: {error}")))?;
    eprintln!("\nci: all {total} steps passed");
    Ok(())
}

fn announce(number: usize, total: usize, name: &str) {
    eprintln!("\n==> [{number}/{total}] {name}");
}

/// The `-p NAME` / `--package NAME` / `--package=NAME` options.
fn parse_packages(args: &[String]) -> Result<Vec<String>> {
    let mut packages = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let package = match arg.as_str() {
            "-p" | "--package" => args
                .next()
                .ok_or_else(|| Error::Usage(format!("`{arg}` needs a package name")))?
                .clone(),
            other => match other.strip_prefix("--package=") {
                Some(name) => name.to_owned(),
                None => return Err(Error::Usage(format!("ci: unknown option `{other}`"))),
            },
        };
        packages.push(package);
    }
    Ok(packages)
}

/// The cargo steps, before the no_std build. Without packages they cover
/// the whole workspace; with packages, only those.
fn steps(root: &std::path::Path, packages: &[String], redis_url: &str) -> Vec<(&'static str, Cmd)> {
    let selected: Vec<String> = packages
        .iter()
        .flat_map(|package| [String::from("-p"), package.clone()])
        .collect();
    let (fmt_scope, scope) = if packages.is_empty() {
        (
            vec![String::from("--all")],
            vec![String::from("--workspace")],
        )
    } else {
        (selected.clone(), selected)
    };
    let cargo = || Cmd::cargo(root);
    vec![
        (
            "rustfmt",
            cargo().arg("fmt").args(fmt_scope).args(["--", "--check"]),
        ),
        (
            "clippy",
            cargo().arg("clippy").args(scope.clone()).args([
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ]),
        ),
        (
            "tests",
            cargo()
                .env("REDIS_URL", redis_url)
                .arg("test")
                .args(scope.clone())
                .arg("--all-features"),
        ),
        (
            "docs",
            cargo()
                .env("RUSTDOCFLAGS", "-D warnings")
                .arg("doc")
                .args(scope)
                .args(["--no-deps", "--all-features"]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|arg| (*arg).to_owned()).collect()
    }

    fn command_lines(packages: &[&str]) -> Vec<String> {
        steps(
            Path::new("/repo"),
            &strings(packages),
            "redis://127.0.0.1:6390",
        )
        .iter()
        .map(|(_, cmd)| cmd.to_string())
        .collect()
    }

    #[test]
    fn whole_workspace_by_default() {
        assert_eq!(
            command_lines(&[]),
            [
                "cargo fmt --all -- --check",
                "cargo clippy --workspace --all-targets --all-features -- -D warnings",
                "REDIS_URL=redis://127.0.0.1:6390 cargo test --workspace --all-features",
                "RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps --all-features",
            ]
        );
    }

    #[test]
    fn selected_packages_replace_the_workspace() {
        assert_eq!(
            command_lines(&["protocol-webhooks", "xtask"]),
            [
                "cargo fmt -p protocol-webhooks -p xtask -- --check",
                "cargo clippy -p protocol-webhooks -p xtask --all-targets --all-features -- -D warnings",
                "REDIS_URL=redis://127.0.0.1:6390 cargo test -p protocol-webhooks -p xtask --all-features",
                "RUSTDOCFLAGS='-D warnings' cargo doc -p protocol-webhooks -p xtask --no-deps --all-features",
            ]
        );
    }

    #[test]
    fn package_options() {
        assert_eq!(
            parse_packages(&strings(&["-p", "a", "--package", "b", "--package=c"])).expect("valid"),
            ["a", "b", "c"]
        );
        assert!(parse_packages(&[]).expect("valid").is_empty());
        assert!(matches!(
            parse_packages(&strings(&["-p"])),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            parse_packages(&strings(&["--release"])),
            Err(Error::Usage(_))
        ));
    }
}
