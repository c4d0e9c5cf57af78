//! Every way a command can fail, and the exit status each one maps to.

use core::fmt;
use core::net::SocketAddr;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use protocol_webhooks::{KeyError, SignatureError};
use protocol_webhooks_inbox::{State, StoreError};

use crate::send::{Expectation, TransportError};

/// Exit status for a negative answer: the signature or the receiver failed.
const EXIT_FAILURE: u8 = 1;
/// Exit status for a usage error or trouble with input or output, the same
/// as clap's own usage errors.
const EXIT_USAGE: u8 = 2;

/// Why a command did not succeed.
#[derive(Debug)]
pub(crate) enum CliError {
    /// No secret was given where one is needed.
    MissingSecret,
    /// The secret was refused (an empty `--secret-file`).
    Key(KeyError),
    /// The secret file could not be read.
    ReadSecret { path: PathBuf, error: io::Error },
    /// The body could not be read from a file or standard input.
    ReadBody { from: String, error: io::Error },
    /// Standard output could not be written.
    WriteOutput(io::Error),
    /// `verify`: the signature does not authenticate the body.
    Signature(SignatureError),
    /// `send`: some answers had another status than expected.
    UnexpectedAnswers {
        unexpected: usize,
        total: usize,
        expected: Expectation,
    },
    /// `send`: a request got no answer; the rest were not sent.
    Unreachable {
        url: String,
        error: TransportError,
        unsent: usize,
    },
    /// `listen`: the address cannot be listened on (the port is taken).
    Listen {
        address: SocketAddr,
        error: io::Error,
    },
    /// `listen`, `inbox`: the async runtime could not start.
    Runtime(io::Error),
    /// `listen`: Ctrl-C could not be caught, so the server could not stop
    /// gracefully.
    Signals(io::Error),
    /// `inbox`: there is no file at the `--store` path (none is created).
    NoInbox { path: PathBuf },
    /// `inbox`: whether the `--store` path exists cannot be checked.
    InboxPath { path: PathBuf, error: io::Error },
    /// `inbox`: the store at `--store` does not open (e.g. not an inbox).
    OpenInbox { target: String, error: StoreError },
    /// `inbox`: a store operation failed.
    Store(StoreError),
    /// `inbox show`, `inbox retry`: the inbox has no entry with this id.
    NoEntry { id: String },
    /// `inbox retry`: the entry is not dead, so it is not retried.
    NotDead { id: String, state: State },
}

impl CliError {
    /// The process exit status.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Self::Signature(_)
            | Self::UnexpectedAnswers { .. }
            | Self::Unreachable { .. }
            | Self::Listen { .. }
            | Self::Runtime(_)
            | Self::Signals(_)
            | Self::Store(_)
            | Self::NoEntry { .. }
            | Self::NotDead { .. } => EXIT_FAILURE,
            Self::NoInbox { .. }
            | Self::InboxPath { .. }
            | Self::OpenInbox { .. }
            | Self::MissingSecret
            | Self::Key(_)
            | Self::ReadSecret { .. }
            | Self::ReadBody { .. }
            | Self::WriteOutput(_) => EXIT_USAGE,
        })
    }

    /// What to print on stderr, if anything.
    pub(crate) fn message(&self) -> Option<String> {
        match self {
            // The reader of a pipe went away (`... | head`): saying so would
            // only add noise to the pipeline's output.
            Self::WriteOutput(error) if error.kind() == io::ErrorKind::BrokenPipe => None,
            _ => Some(self.to_string()),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingSecret => f.write_str(
                "no webhook secret: pass --secret, --secret-file or set PROTOCOL_WEBHOOK_SECRET",
            ),
            Self::Key(error) => write!(f, "{error}"),
            Self::ReadSecret { path, error } => {
                write!(f, "cannot read the secret from {}: {error}", path.display())
            }
            Self::ReadBody { from, error } => {
                write!(f, "cannot read the body from {from}: {error}")
            }
            Self::WriteOutput(error) => write!(f, "cannot write to standard output: {error}"),
            Self::Signature(error) => write!(f, "signature {}: {error}", error.as_str()),
            Self::UnexpectedAnswers {
                unexpected,
                total,
                expected,
            } => write!(
                f,
                "{unexpected} of {total} answers did not have the expected status {expected}"
            ),
            Self::Unreachable { url, error, unsent } => {
                write!(f, "no answer from {url}: {error}")?;
                if *unsent > 0 {
                    write!(f, " ({unsent} more not sent)")?;
                }
                Ok(())
            }
            Self::Listen { address, error } => {
                write!(f, "cannot listen on {address}: {error}")?;
                if error.kind() == io::ErrorKind::AddrInUse {
                    f.write_str("; pick another --port, or 0 for a free one")?;
                }
                Ok(())
            }
            Self::Runtime(error) => write!(f, "cannot start the async runtime: {error}"),
            Self::Signals(error) => write!(f, "cannot catch Ctrl-C: {error}"),
            Self::NoInbox { path } => write!(f, "no inbox at {}", path.display()),
            Self::InboxPath { path, error } => {
                write!(f, "cannot look for an inbox at {}: {error}", path.display())
            }
            Self::OpenInbox { target, error } => {
                write!(f, "cannot open the inbox at {target}: ")?;
                with_causes(f, error)
            }
            Self::Store(error) => {
                f.write_str("the inbox store failed: ")?;
                with_causes(f, error)
            }
            Self::NoEntry { id } => write!(f, "no entry {id:?} in the inbox"),
            Self::NotDead { id, state } => write!(
                f,
                "entry {id:?} is {state}, not dead: only dead entries are retried"
            ),
        }
    }
}

/// `error: cause: its cause...`, since a store error's own text is only
/// "event store unavailable". A cause whose text the error before it already
/// showed is left out: some errors (Redis's TLS ones) repeat their source.
fn with_causes(f: &mut fmt::Formatter<'_>, error: &dyn core::error::Error) -> fmt::Result {
    let mut shown = error.to_string();
    f.write_str(&shown)?;
    let mut cause = error.source();
    while let Some(error) = cause {
        let text = error.to_string();
        if !shown.contains(&text) {
            write!(f, ": {text}")?;
        }
        shown = text;
        cause = error.source();
    }
    Ok(())
}

impl From<StoreError> for CliError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<KeyError> for CliError {
    fn from(error: KeyError) -> Self {
        Self::Key(error)
    }
}

impl From<SignatureError> for CliError {
    fn from(error: SignatureError) -> Self {
        Self::Signature(error)
    }
}
