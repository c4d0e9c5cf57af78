//! `verify`: checks a signature against a body.

use std::ffi::OsString;
use std::io::{self, Write as _};

use protocol_webhooks::SignatureError;

use crate::error::CliError;
use crate::input::KeyedBody;

/// Arguments of `verify`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Prints `valid` and exits 0, or gives the reason (missing, malformed, \
                        mismatch) on stderr and exits 1. The expected signature is never shown."
)]
pub(crate) struct Args {
    /// The received `x-protocol-signature` value: 64 hex digits, either case.
    /// An empty value counts as a missing header
    #[arg(long, value_name = "HEX")]
    signature: OsString,

    #[command(flatten)]
    input: KeyedBody,
}

/// Verifies in constant time, as a receiver does, and prints `valid`.
pub(crate) fn run(args: &Args) -> Result<(), CliError> {
    let (key, body) = args.input.read()?;
    // A shell passes an absent header as an empty string, e.g.
    // `--signature "$HEADER"`.
    if args.signature.is_empty() {
        return Err(SignatureError::Missing.into());
    }
    key.verify(&body, args.signature.as_encoded_bytes())?;
    writeln!(io::stdout().lock(), "valid").map_err(CliError::WriteOutput)
}
