//! `protocol-webhooks inbox ...` on the example's file, as an operator runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The command line, on one inbox file.
#[derive(Debug, Clone)]
pub struct Cli {
    binary: PathBuf,
    store: PathBuf,
}

impl Cli {
    /// `binary inbox ... --store store`.
    #[must_use]
    pub fn new(binary: &Path, store: &Path) -> Self {
        Self {
            binary: binary.to_path_buf(),
            store: store.to_path_buf(),
        }
    }

    /// Runs `inbox ARGS... --store FILE`.
    ///
    /// # Panics
    /// When the command cannot run.
    #[must_use]
    pub fn inbox(&self, args: &[&str]) -> Output {
        Command::new(&self.binary)
            .arg("inbox")
            .args(args)
            .arg("--store")
            .arg(&self.store)
            .env_remove("PROTOCOL_WEBHOOKS_INBOX")
            .output()
            .expect("protocol-webhooks runs")
    }

    /// `inbox stats --json`: the count per state and `total`.
    ///
    /// # Panics
    /// When the command fails or prints something else.
    #[must_use]
    pub fn stats(&self) -> Value {
        json(&self.inbox(&["stats", "--json"]))
    }

    /// `inbox show ID --json`: every field of the entry.
    ///
    /// # Panics
    /// When the command fails (no such entry) or prints something else.
    #[must_use]
    pub fn show(&self, id: &str) -> Value {
        json(&self.inbox(&["show", id, "--json"]))
    }
}

/// The JSON a successful command printed.
///
/// # Panics
/// When it failed or printed no JSON.
#[must_use]
pub fn json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "protocol-webhooks failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not JSON ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}
