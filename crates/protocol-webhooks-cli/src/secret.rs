//! The webhook secret: from `--secret`, `PROTOCOL_WEBHOOK_SECRET` or
//! `--secret-file`, used as raw bytes.

use core::fmt;
use std::ffi::OsString;
use std::fs;
use std::path::PathBuf;

use clap::builder::{OsStringValueParser, TypedValueParser as _};
use protocol_webhooks::{Key, KeyError};

use crate::error::CliError;

/// The secret options shared by `sign`, `verify`, `send` and `listen`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SecretArgs {
    /// The endpoint's webhook secret, used byte for byte (nothing trimmed)
    #[arg(
        long,
        value_name = "SECRET",
        env = "PROTOCOL_WEBHOOK_SECRET",
        // Help would otherwise print the secret found in the environment.
        hide_env_values = true,
        value_parser = OsStringValueParser::new().try_map(Secret::new),
    )]
    secret: Option<Secret>,

    /// Read the secret from FILE instead; takes precedence over --secret and
    /// the environment. All its bytes count, a trailing newline included
    /// (write it with `printf %s`, not `echo`)
    // Not declared as conflicting with `--secret`: clap would then also
    // refuse it whenever PROTOCOL_WEBHOOK_SECRET is set. It also carries
    // secrets no argument can, such as ones containing NUL.
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
}

impl SecretArgs {
    /// Keys HMAC-SHA256 with the secret.
    pub(crate) fn key(&self) -> Result<Key, CliError> {
        if let Some(path) = &self.secret_file {
            let bytes = fs::read(path).map_err(|error| CliError::ReadSecret {
                path: path.clone(),
                error,
            })?;
            return Ok(Key::new(bytes)?);
        }
        match &self.secret {
            Some(secret) => Ok(Key::new(secret.0.as_encoded_bytes())?),
            None => Err(CliError::MissingSecret),
        }
    }
}

/// A non-empty secret whose `Debug` output is redacted.
#[derive(Clone)]
struct Secret(OsString);

impl Secret {
    /// Refuses an empty secret while the arguments are parsed, so that it is
    /// reported as a usage error. The error never contains the value.
    fn new(value: OsString) -> Result<Self, KeyError> {
        if value.is_empty() {
            Err(KeyError::EmptySecret)
        } else {
            Ok(Self(value))
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_refused_and_debug_is_redacted() {
        assert!(matches!(
            Secret::new(OsString::new()),
            Err(KeyError::EmptySecret)
        ));
        let secret = Secret::new(OsString::from("whsec_hunter2")).expect("non-empty");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    }
}
