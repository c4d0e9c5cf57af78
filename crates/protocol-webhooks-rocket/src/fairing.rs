//! One attach call: manage the configuration and register the catchers.

use protocol_webhooks::WebhookConfig;
use protocol_webhooks::dedup::Deduplicator;
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Rocket};

use crate::catchers;

/// Manages a [`WebhookConfig`] (and, if given, a [`Deduplicator`]) and
/// registers the [`catchers`] at `/`.
///
/// `rocket::build().attach(WebhookFairing::new(config).with_deduplicator(dedup))`
/// is the same as
/// `rocket::build().manage(config).manage(dedup).register("/", catchers())`.
/// Launch fails if a `WebhookConfig`, or a `Deduplicator` given here, is
/// already managed, and, as for any catcher, if the application registers
/// its own catcher at `/` for one of `Answer::ERROR_STATUSES` (then manage the
/// state yourself and let your catchers answer).
#[derive(Debug, Clone)]
pub struct WebhookFairing {
    config: WebhookConfig,
    deduplicator: Option<Deduplicator>,
}

impl WebhookFairing {
    /// A fairing for `config`.
    #[must_use]
    pub fn new(config: WebhookConfig) -> Self {
        Self {
            config,
            deduplicator: None,
        }
    }

    /// Also manages `deduplicator`, which
    /// [`ClaimedWebhook`](crate::ClaimedWebhook) claims event ids with.
    #[must_use]
    pub fn with_deduplicator(mut self, deduplicator: Deduplicator) -> Self {
        self.deduplicator = Some(deduplicator);
        self
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
        // Rocket panics when a type is managed twice; fail the launch instead.
        if rocket.state::<WebhookConfig>().is_some() {
            tracing::error!(
                "a WebhookConfig is already managed: attach WebhookFairing or manage the configuration, not both"
            );
            return Err(rocket);
        }
        let rocket = match &self.deduplicator {
            Some(_) if rocket.state::<Deduplicator>().is_some() => {
                tracing::error!(
                    "a Deduplicator is already managed: give it to WebhookFairing or manage it, not both"
                );
                return Err(rocket);
            }
            Some(deduplicator) => rocket.manage(deduplicator.clone()),
            None => rocket,
        };
        Ok(rocket.manage(self.config.clone()).register("/", catchers()))
    }
}
