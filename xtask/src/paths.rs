//! Where the repository and cargo's output are.

use core::fmt;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

/// Why a path could not be worked out.
#[derive(Debug)]
pub(crate) enum PathsError {
    /// A relative target directory cannot be resolved.
    CurrentDir(io::Error),
}

impl fmt::Display for PathsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CurrentDir(error) => write!(f, "cannot read the current directory: {error}"),
        }
    }
}

impl core::error::Error for PathsError {}

impl From<PathsError> for crate::Error {
    fn from(error: PathsError) -> Self {
        Self::failed(error)
    }
}

/// The repository root: the xtask package is one level below it. (A
/// manifest directory without a parent would be the filesystem root, where
/// no repository can be; the fallback only keeps this infallible.)
pub(crate) fn project_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The target directory of the workspace in `workspace` (the main one, or
/// a separate one such as `benches/`), as cargo picks it from the
/// environment, or `target/` in it. Callers also pass it to cargo as
/// `--target-dir`, so that a `build.target-dir` in a cargo config file
/// cannot put the build anywhere but where they look for it.
pub(crate) fn target_dir(workspace: &Path) -> Result<PathBuf, PathsError> {
    let configured = ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
        .into_iter()
        .find_map(|name| std::env::var_os(name).filter(|value| !value.is_empty()));
    resolve(workspace, configured)
}

fn resolve(workspace: &Path, configured: Option<OsString>) -> Result<PathBuf, PathsError> {
    let Some(dir) = configured.map(PathBuf::from) else {
        return Ok(workspace.join("target"));
    };
    if dir.is_absolute() {
        return Ok(dir);
    }
    // Cargo reads a relative directory from where it was started, which is
    // where `cargo xtask` was started too.
    let cwd = std::env::current_dir().map_err(PathsError::CurrentDir)?;
    Ok(cwd.join(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_holds_the_workspace_manifest() {
        let root = project_root();
        assert!(root.join("Cargo.toml").is_file());
        assert!(root.join("xtask").join("Cargo.toml").is_file());
    }

    #[test]
    fn target_dir_follows_the_environment() {
        let root = Path::new("/repo");
        assert_eq!(resolve(root, None).expect("default"), root.join("target"));
        let benches = root.join("benches");
        assert_eq!(
            resolve(&benches, None).expect("own workspace"),
            benches.join("target")
        );
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
