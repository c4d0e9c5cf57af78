//! Kill/restart tests of the inbox example (`examples/inbox`), run as real
//! processes: the example binary and the `protocol-webhooks` command line,
//! built by a nested `cargo build` in the test's own profile.
//!
//! - `tests/kill_restart.rs`: signed events from concurrent clients that
//!   deliver each event again until it is answered 2xx, as Protocol does,
//!   while the example is SIGKILLed at random intervals and restarted on
//!   the same SQLite file and port, its handler failing a fifth of its
//!   attempts. Once the inbox is drained, every event answered 2xx must
//!   have exactly one row in the example's table `handled` ([`Report`],
//!   [`handled_rows`]): the row is written in the transaction that marks
//!   the event done, so no kill can leave one without the other.
//! - `tests/dead_retry.rs`: an event whose handler always fails is dead
//!   after its attempts, with its error; `protocol-webhooks inbox retry`
//!   brings it back and it is handled once.
//!
//! - `tests/redis_kill_restart.rs`: the same on Redis ([`PrivateRedis`]), with
//!   two receiver replicas and two workers in four processes, any of them
//!   SIGKILLed and restarted at random. The handler's record there is the
//!   event's id pushed onto the list `{prefix}:handled` in the script that
//!   marks the event done ([`RedisInbox::handled`]), so every event
//!   answered 2xx must be there exactly once, as on SQLite.
//! - `tests/redis_outage.rs`: Redis is SIGKILLed while events arrive: the
//!   receiver answers 503 meanwhile, never 2xx, and once Redis is back
//!   every event is stored and handled exactly once.
//!
//! The Redis tests need `redis-server` on `PATH`; they fail without it.
//!
//! Sizes come from the environment ([`Settings::from_env`]): the defaults
//! keep a debug `cargo test` short; `INBOX_SOAK_EVENTS=10000` (or `cargo
//! xtask soak --inbox`) is the full run.

#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod binaries;
mod cli;
mod deliveries;
mod example;
mod handled;
mod redis;
mod report;
mod settings;

pub use binaries::{Binaries, binaries};
pub use cli::{Cli, json};
pub use deliveries::{
    Answer, Answers, Delivered, Deliveries, Delivery, Outcomes, deliver_all, event_id, signed_event,
};
pub use example::Example;
pub use handled::handled_rows;
pub use protocol_webhooks_test_redis::PrivateRedis;
pub use redis::{HANDLED_LIST, RedisInbox, redis_example_env};
pub use report::{Handled, Report};
pub use settings::{CI_EVENTS, REDIS_CI_EVENTS, Settings};

/// The secret the example is started with and every event is signed with.
pub const SECRET: &str = "whsec_inbox_soak";
