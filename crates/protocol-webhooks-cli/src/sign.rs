//! `sign`: prints the signature Protocol would send for a body.

use std::io::{self, Write as _};
use std::path::PathBuf;

use crate::error::CliError;
use crate::input::Source;
use crate::secret::SecretArgs;

/// Arguments of `sign`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example: protocol-webhooks sign --secret whsec_test body.json")]
pub(crate) struct Args {
    #[command(flatten)]
    secret: SecretArgs,

    /// The body: a file's exact bytes, or standard input when absent or `-`
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

/// Prints the lower-case hex HMAC-SHA256 of the body and a newline.
pub(crate) fn run(args: &Args) -> Result<(), CliError> {
    // Check the secret before reading a body that might never end.
    let key = args.secret.key()?;
    let body = Source::from_arg(args.file.as_deref()).read()?;
    let signature = key.sign(&body).to_hex();
    writeln!(io::stdout().lock(), "{signature}").map_err(CliError::WriteOutput)
}
