//! The command line: subcommands and their dispatch.

use clap::{Parser, Subcommand};

use crate::error::CliError;
use crate::{catalog, listen, send, sign, verify};

/// Sign, verify, send and receive Protocol webhooks.
///
/// Protocol signs each webhook with HMAC-SHA256 over the raw body bytes and
/// sends the lower-case hex digest in the `x-protocol-signature` header. The
/// secret comes from `--secret`, `--secret-file` or the
/// `PROTOCOL_WEBHOOK_SECRET` environment variable.
#[derive(Debug, Parser)]
#[command(
    name = "protocol-webhooks",
    version,
    propagate_version = true,
    arg_required_else_help = true,
    after_help = "Exit status: 0 success; 1 invalid signature, unexpected answer, unreachable \
                  receiver or a port that cannot be listened on; 2 usage error or unreadable \
                  input."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the signature of a body: lower-case hex HMAC-SHA256
    Sign(sign::Args),
    /// Check a signature against a body
    Verify(verify::Args),
    /// POST signed sample events, or a file, to a receiver and report each answer
    Send(send::Args),
    /// Receive webhooks on 127.0.0.1, print one line each, optionally forward them
    Listen(listen::Args),
    /// List the 15 documented event types
    Events,
    /// Print the sample payload of an event type
    Example(catalog::ExampleArgs),
}

impl Command {
    /// Runs the chosen subcommand.
    pub(crate) fn run(self) -> Result<(), CliError> {
        match self {
            Self::Sign(args) => sign::run(&args),
            Self::Verify(args) => verify::run(&args),
            Self::Send(args) => send::run(&args),
            Self::Listen(args) => listen::run(&args),
            Self::Events => catalog::events(),
            Self::Example(args) => catalog::example(&args),
        }
    }
}
