//! `sign`: prints the signature Protocol would send for a body.

use std::io::{self, Write as _};

use crate::error::CliError;
use crate::input::KeyedBody;

/// Arguments of `sign`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example: protocol-webhooks sign --secret whsec_test body.json")]
pub(crate) struct Args {
    #[command(flatten)]
    input: KeyedBody,
}

/// Prints the lower-case hex HMAC-SHA256 of the body and a newline.
pub(crate) fn run(args: &Args) -> Result<(), CliError> {
    let (key, body) = args.input.read()?;
    let signature = key.sign(&body).to_hex();
    writeln!(io::stdout().lock(), "{signature}").map_err(CliError::WriteOutput)
}
