//! One attach call: manage the configuration and register the catchers.

use protocol_webhooks::WebhookConfig;
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Rocket};

use crate::catchers;

/// Manages a [`WebhookConfig`] and registers the [`catchers`] at `/`.
///
/// `rocket::build().attach(WebhookFairing::new(config))` is the same as
/// `rocket::build().manage(config).register("/", catchers())`. Launch fails
/// if a `WebhookConfig` is already managed, and, as for any catcher, if the
/// application registers its own 400, 401, 413 or 500 catcher at `/` (then
/// manage the configuration yourself and let your catchers answer).
#[derive(Debug, Clone)]
pub struct WebhookFairing {
    config: WebhookConfig,
}

impl WebhookFairing {
    /// A fairing for `config`.
    #[must_use]
    pub fn new(config: WebhookConfig) -> Self {
        Self { config }
    }
}

#[rocket::async_trait]
impl Fairing for WebhookFairing {
    fn info(&self) -> Info {
        Info {
            name: "Protocol webhooks",
            kind: Kind::Ignite | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        if rocket.state::<WebhookConfig>().is_some() {
            // Rocket panics when a type is managed twice; fail the launch instead.
            tracing::error!(
                "a WebhookConfig is already managed: attach WebhookFairing or manage the configuration, not both"
            );
            return Err(rocket);
        }
        Ok(rocket.manage(self.config.clone()).register("/", catchers()))
    }
}
