//! The example and the command line, built once per test run: a test's own
//! build does not include other packages' binaries.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Where the two binaries are.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// `example-inbox`, with its `redis` feature: the same binary runs on
    /// SQLite (`INBOX_PATH`) or Redis (`INBOX_URL`).
    pub example: PathBuf,
    /// `protocol-webhooks`, the command line.
    pub cli: PathBuf,
}

/// Builds the binaries on the first call, in the profile this test was
/// built in (release under `cargo test --release`), and gives their paths.
///
/// # Panics
/// When the build fails.
pub fn binaries() -> &'static Binaries {
    static BUILT: OnceLock<Binaries> = OnceLock::new();
    BUILT.get_or_init(build)
}

fn build() -> Binaries {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let release = !cfg!(debug_assertions);
    let mut cargo = Command::new(env!("CARGO"));
    cargo.current_dir(&root).args([
        "build",
        "--quiet",
        "-p",
        "example-inbox",
        "-p",
        "protocol-webhooks-cli",
        "--features",
        "example-inbox/redis",
    ]);
    if release {
        cargo.arg("--release");
    }
    let status = cargo.status().expect("cargo runs");
    assert!(status.success(), "building the binaries failed: {status}");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let profile = target.join(if release { "release" } else { "debug" });
    Binaries {
        example: profile.join("example-inbox"),
        cli: profile.join("protocol-webhooks"),
    }
}
