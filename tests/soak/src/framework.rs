//! The frameworks under test.

use core::fmt;

/// A framework with a protocol-webhooks adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Framework {
    /// `protocol-webhooks-axum`, served by `axum::serve`.
    Axum,
    /// `protocol-webhooks-actix-web`, served by `actix_web::HttpServer`.
    ActixWeb,
    /// `protocol-webhooks-warp`, served by `warp::serve`.
    Warp,
    /// `protocol-webhooks-rocket`, served by `Rocket::launch`.
    Rocket,
    /// `protocol-webhooks-poem`, served by `poem::Server`.
    Poem,
}

impl Framework {
    /// Every framework, in the order reports list them.
    pub const ALL: [Self; 5] = [
        Self::Axum,
        Self::ActixWeb,
        Self::Warp,
        Self::Rocket,
        Self::Poem,
    ];

    /// The framework's crate name: `axum`, `actix-web`, `warp`, `rocket`, `poem`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Axum => "axum",
            Self::ActixWeb => "actix-web",
            Self::Warp => "warp",
            Self::Rocket => "rocket",
            Self::Poem => "poem",
        }
    }

    /// The prefix of the name of every thread this crate starts for the
    /// framework's server, so a panic can be traced to a server.
    pub(crate) fn thread_prefix(self) -> String {
        format!("soak-{}", self.name())
    }

    /// Names of threads the framework starts by itself: actix-web runs its
    /// workers and acceptor on threads it names.
    pub(crate) const fn own_thread_prefixes(self) -> &'static [&'static str] {
        match self {
            Self::ActixWeb => &["actix-server"],
            _ => &[],
        }
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
