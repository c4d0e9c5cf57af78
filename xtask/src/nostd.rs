//! `cargo xtask nostd`: builds the crates under `xtask/nostd/`.
//!
//! Each is a `#![no_std]` staticlib with its own `#[panic_handler]`, built
//! in its own workspace with `panic = "abort"`. If anything in its
//! dependency graph links `std`, std's `panic_impl` collides with that
//! handler (error E0152) and the build fails, so a successful build proves
//! the feature set it uses is `no_std`:
//!
//! - `verify`: `default-features = false` (no `std`, no `alloc`);
//! - `events`: `alloc` and `events`, with a C-library global allocator.

use std::path::Path;

use crate::cmd::Cmd;
use crate::{Error, Result, paths};

/// The check crates, by directory under `xtask/nostd/`.
const CRATES: [&str; 2] = ["verify", "events"];

/// Runs the command. `args` are the arguments after `nostd`.
pub(crate) fn run(args: &[String]) -> Result {
    if let Some(arg) = args.first() {
        return Err(Error::Usage(format!(
            "nostd takes no arguments, got `{arg}`"
        )));
    }
    build(&paths::project_root())
}

/// Builds every check crate in release, into `nostd/` under the main target
/// directory: they share it with each other but not with the workspace,
/// whose feature-unified artifacts would not prove anything.
pub(crate) fn build(root: &Path) -> Result {
    let target_dir = paths::target_dir(root)?.join("nostd");
    for name in CRATES {
        let manifest = Path::new("xtask")
            .join("nostd")
            .join(name)
            .join("Cargo.toml");
        Cmd::cargo(root)
            .args(["build", "--release", "--manifest-path"])
            .arg(manifest)
            .arg("--target-dir")
            .arg(&target_dir)
            .run()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_crate_is_a_no_std_staticlib_outside_the_workspace() {
        let root = paths::project_root();
        let workspace = std::fs::read_to_string(root.join("Cargo.toml")).expect("root manifest");
        for name in CRATES {
            let dir = root.join("xtask").join("nostd").join(name);
            let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("manifest");
            let source = std::fs::read_to_string(dir.join("src").join("lib.rs")).expect("lib.rs");
            assert!(manifest.contains("crate-type = [\"staticlib\"]"), "{name}");
            assert!(manifest.contains("\n[workspace]"), "{name}: own workspace");
            assert_eq!(manifest.matches("panic = \"abort\"").count(), 2, "{name}");
            assert!(manifest.contains("default-features = false"), "{name}");
            assert!(source.contains("#![no_std]"), "{name}");
            assert!(source.contains("#[panic_handler]"), "{name}");
            assert!(
                workspace.contains(&format!("\"xtask/nostd/{name}\"")),
                "{name} is excluded from the main workspace"
            );
        }
    }
}
