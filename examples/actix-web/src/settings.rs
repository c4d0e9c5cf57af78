//! The receiver's settings, from the environment.

use core::fmt;
use std::ffi::OsString;

use protocol_webhooks_actix_web::WebhookConfig;

/// The port used when `PORT` is unset.
const DEFAULT_PORT: u16 = 3000;

/// What the receiver needs to start.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) config: WebhookConfig,
    pub(crate) port: u16,
}

impl Settings {
    /// Reads `PROTOCOL_WEBHOOK_SECRET` (required) and `PORT` (default 3000)
    /// through `var`, so tests need not touch the process environment.
    pub(crate) fn from_env(var: impl Fn(&str) -> Option<OsString>) -> Result<Self, SettingsError> {
        let secret = var("PROTOCOL_WEBHOOK_SECRET").unwrap_or_default();
        let config = WebhookConfig::new(secret.as_encoded_bytes())
            .map_err(|_| SettingsError::MissingSecret)?;
        let port = match var("PORT") {
            None => DEFAULT_PORT,
            Some(value) => value
                .to_str()
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| SettingsError::InvalidPort(value.to_string_lossy().into_owned()))?,
        };
        Ok(Self { config, port })
    }
}

/// Why the receiver cannot start.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SettingsError {
    MissingSecret,
    InvalidPort(String),
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingSecret => f.write_str(
                "PROTOCOL_WEBHOOK_SECRET is not set or empty; set it to the webhook secret from Protocol",
            ),
            Self::InvalidPort(value) => {
                write!(f, "PORT must be a port number from 0 to 65535, got {value:?}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_env(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        })
    }

    #[test]
    fn port_defaults_to_3000() {
        let settings = settings(&[("PROTOCOL_WEBHOOK_SECRET", "whsec_test")]).expect("valid");
        assert_eq!(settings.port, 3000);
        assert_eq!(settings.config.keys().len(), 1);
    }

    #[test]
    fn port_is_read() {
        let settings = settings(&[("PROTOCOL_WEBHOOK_SECRET", "whsec_test"), ("PORT", "8080")])
            .expect("valid");
        assert_eq!(settings.port, 8080);
    }

    #[test]
    fn secret_is_required_and_not_empty() {
        assert_eq!(settings(&[]).err(), Some(SettingsError::MissingSecret));
        assert_eq!(
            settings(&[("PROTOCOL_WEBHOOK_SECRET", "")]).err(),
            Some(SettingsError::MissingSecret)
        );
    }

    #[test]
    fn port_must_be_a_port_number() {
        for port in ["http", "65536", "-1", ""] {
            assert_eq!(
                settings(&[("PROTOCOL_WEBHOOK_SECRET", "whsec_test"), ("PORT", port)]).err(),
                Some(SettingsError::InvalidPort(port.to_owned())),
            );
        }
    }
}
