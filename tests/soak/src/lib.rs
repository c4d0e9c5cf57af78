//! Load and fault tests of every protocol-webhooks adapter, over real
//! 127.0.0.1 sockets.
//!
//! For each framework, [`Server::start`] runs a real server on its own
//! thread and runtime, serving `POST /webhooks` ([`EVENT_PATH`]) with the
//! adapter's `Webhook` extractor under `WebhookConfig::new(SECRET)` (default
//! 1 MiB limit). Its handler adds one to the event id's entry in an
//! [`EventCounts`] and answers 200, so a scenario can tell exactly which
//! requests reached it.
//!
//! The scenarios drive those servers with a raw HTTP/1.1 client on tokio
//! sockets rather than a general HTTP client: early closes, truncated bodies
//! and 100 MiB streamed bodies must be under the test's exact control.
//!
//! - [`mixed_load`]: valid, tampered, unsigned, malformed and oversized
//!   requests over 64 keep-alive connections; every answer and every handler
//!   call is accounted for.
//! - [`truncated_body`]: bodies cut short by the client never reach the
//!   handler and do not disturb the server.
//! - [`huge_body`]: a 100 MiB chunked body is refused with 413 while the
//!   process's resident memory stays flat.
//!
//! Sizes come from the environment ([`Settings::from_env`]): the defaults
//! keep a debug `cargo test` short, `SOAK_REQUESTS=20000` is the full run.
//! A test hands its scenario to [`run_scenario`], which reads them, prints
//! the [`Report`] and fails on its problems.

#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod client;
mod counts;
mod framework;
mod harness;
mod panics;
mod report;
mod requests;
mod rss;
mod scenario;
mod server;
mod settings;

pub use client::WriteEnd;
pub use counts::EventCounts;
pub use framework::Framework;
pub use harness::run_scenario;
pub use report::Report;
pub use requests::Kind;
pub use rss::resident_bytes;
pub use scenario::huge::{HugeBodyReport, RSS_GROWTH_LIMIT, huge_body};
pub use scenario::mixed::{CONNECTIONS, KindTally, MixedLoadReport, mixed_load};
pub use scenario::truncated::{TruncatedReport, truncated_body};
pub use server::Server;
pub use settings::{CI_REQUESTS, HUGE_BODY_BYTES, Settings};

/// The secret every test server is configured with and every valid request
/// is signed with.
pub const SECRET: &str = "whsec_soak_current";

/// The route every test server serves.
pub const EVENT_PATH: &str = "/webhooks";

/// One `#[test]` per framework, each calling `$run(Framework::...)`: every
/// scenario file tests the five alike.
#[macro_export]
macro_rules! test_every_framework {
    ($run:path) => {
        $crate::test_every_framework!($run: axum Axum, actix_web ActixWeb, warp Warp, rocket Rocket, poem Poem);
    };
    ($run:path: $($test:ident $framework:ident),*) => {
        $(
            #[test]
            fn $test() {
                $run($crate::Framework::$framework);
            }
        )*
    };
}
