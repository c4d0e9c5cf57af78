//! Where the repository and cargo's output are.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The repository root: the xtask package is one level below it.
pub(crate) fn project_root() -> Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| Error::failed("the xtask package has no parent directory"))
}

/// The main workspace's target directory, as cargo picks it from the
/// environment, or `target/` under the root.
pub(crate) fn target_dir(root: &Path) -> Result<PathBuf> {
    let configured = ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
        .into_iter()
        .find_map(|name| std::env::var_os(name).filter(|value| !value.is_empty()));
    resolve(root, configured)
}

fn resolve(root: &Path, configured: Option<OsString>) -> Result<PathBuf> {
    let Some(dir) = configured.map(PathBuf::from) else {
        return Ok(root.join("target"));
    };
    if dir.is_absolute() {
        return Ok(dir);
    }
    // Cargo reads a relative directory from where it was started, which is
    // where `cargo xtask` was started too.
    let cwd = std::env::current_dir()
        .map_err(|error| Error::failed(format!("cannot read the current directory: {error}")))?;
    Ok(cwd.join(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_holds_the_workspace_manifest() {
        let root = project_root().expect("root");
        assert!(root.join("Cargo.toml").is_file());
        assert!(root.join("xtask").join("Cargo.toml").is_file());
    }

    #[test]
    fn target_dir_follows_the_environment() {
        let root = Path::new("/repo");
        assert_eq!(resolve(root, None).expect("default"), root.join("target"));
        assert_eq!(
            resolve(root, Some(OsString::from("/elsewhere/target"))).expect("absolute"),
            Path::new("/elsewhere/target")
        );
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(
            resolve(root, Some(OsString::from("out"))).expect("relative"),
            cwd.join("out")
        );
    }
}
