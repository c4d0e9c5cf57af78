//! Reads a body, as raw bytes, from a file or standard input.

use std::fs;
use std::io::{self, IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use protocol_webhooks::Key;

use crate::error::CliError;
use crate::secret::SecretArgs;

/// A secret and a body, as `sign` and `verify` take them.
#[derive(Debug, clap::Args)]
pub(crate) struct KeyedBody {
    #[command(flatten)]
    secret: SecretArgs,

    /// The body: a file's exact bytes, or standard input when absent or `-`
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

impl KeyedBody {
    /// The key, then the body: the secret is checked before reading a body
    /// that might never end.
    pub(crate) fn read(&self) -> Result<(Key, Vec<u8>), CliError> {
        let key = self.secret.key()?;
        let body = Source::from_arg(self.file.as_deref()).read()?;
        Ok((key, body))
    }
}

/// Where a body comes from: a `FILE` argument, or standard input when it is
/// absent or `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// Standard input.
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Source {
    /// The source named by an optional `FILE` argument.
    pub(crate) fn from_arg(path: Option<&Path>) -> Self {
        match path {
            Some(path) if path != Path::new("-") => Self::File(path.to_path_buf()),
            _ => Self::Stdin,
        }
    }

    /// Reads every byte, exactly: nothing is decoded, trimmed or normalised,
    /// since a single changed byte changes the signature.
    pub(crate) fn read(&self) -> Result<Vec<u8>, CliError> {
        match self {
            Self::File(path) => fs::read(path).map_err(|error| self.read_error(error)),
            Self::Stdin => {
                let stdin = io::stdin();
                if stdin.is_terminal() {
                    // Without a pipe the command would seem to hang.
                    let _ = writeln!(
                        io::stderr().lock(),
                        "reading the body from standard input; end it with Ctrl-D"
                    );
                }
                let mut body = Vec::new();
                stdin
                    .lock()
                    .read_to_end(&mut body)
                    .map_err(|error| self.read_error(error))?;
                Ok(body)
            }
        }
    }

    fn read_error(&self, error: io::Error) -> CliError {
        let from = match self {
            Self::Stdin => String::from("standard input"),
            Self::File(path) => path.display().to_string(),
        };
        CliError::ReadBody { from, error }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_and_absence_mean_stdin() {
        assert_eq!(Source::from_arg(None), Source::Stdin);
        assert_eq!(Source::from_arg(Some(Path::new("-"))), Source::Stdin);
        assert_eq!(
            Source::from_arg(Some(Path::new("body.json"))),
            Source::File(PathBuf::from("body.json"))
        );
    }

    #[test]
    fn a_missing_file_is_a_read_error_naming_it() {
        let source = Source::File(PathBuf::from("/nonexistent/dir/body.json"));
        match source.read() {
            Err(CliError::ReadBody { from, error }) => {
                assert_eq!(from, "/nonexistent/dir/body.json");
                assert_eq!(error.kind(), io::ErrorKind::NotFound);
            }
            other => panic!("expected a read error, got {other:?}"),
        }
    }
}
