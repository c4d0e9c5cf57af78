//! What the scenarios' reports share: how a check lists its problems, and
//! how the server's panics and stop are judged and shown.

use core::fmt;

use crate::Framework;

/// The outcome of a scenario for one framework. Its `Display` is printed
/// whether or not the framework passed, so a failure comes with the
/// figures around it.
pub trait Report: fmt::Display {
    /// Whether the framework passed.
    ///
    /// # Errors
    /// Every violation, one per line.
    fn check(&self) -> Result<(), String>;
}

/// The violations a check finds, in the order it finds them.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<String>);

impl Problems {
    pub(crate) fn push(&mut self, problem: String) {
        self.0.push(problem);
    }

    /// Every scenario fails on a panic on the server's threads and on a
    /// server that did not stop cleanly.
    pub(crate) fn server_end(&mut self, panics: &[String], stopped: &Result<(), String>) {
        if !panics.is_empty() {
            self.push(format!(
                "panics on server threads:\n    {}",
                panics.join("\n    ")
            ));
        }
        if let Err(error) = stopped {
            self.push(error.clone());
        }
    }

    /// `Ok` without problems, otherwise all of them under a line naming the
    /// framework and what it failed.
    pub(crate) fn verdict(self, framework: Framework, failed: &str) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{framework} failed {failed}:\n  {}",
                self.0.join("\n  ")
            ))
        }
    }
}

/// The report lines of the server's panics and of a stop that went wrong.
pub(crate) fn write_server_end(
    f: &mut fmt::Formatter<'_>,
    panics: &[String],
    stopped: &Result<(), String>,
) -> fmt::Result {
    for panic in panics {
        writeln!(f, "  panic: {panic}")?;
    }
    if let Err(error) = stopped {
        writeln!(f, "  stop: {error}")?;
    }
    Ok(())
}
