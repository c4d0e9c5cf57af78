//! The command line: subcommands and their dispatch.

use clap::{Parser, Subcommand};

use crate::error::CliError;
use crate::{catalog, inbox, listen, send, sign, verify};

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
                  receiver, a port that cannot be listened on, an inbox store that failed or an \
                  inbox entry that is absent or not dead; 2 usage error, unreadable input or no \
                  inbox at --store."
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
    /// Inspect a durable inbox: counts, entries; retry dead entries, purge old ones
    Inbox(inbox::Args),
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
            Self::Inbox(args) => inbox::run(args),
            Self::Events => catalog::events(),
            Self::Example(args) => catalog::example(&args),
        }
    }
}
