//! The scenarios, each a function of its size returning a [`Report`]
//! whose `check` says whether the framework passed.
//!
//! [`Report`]: crate::Report

mod follow_up;
pub(crate) mod huge;
pub(crate) mod mixed;
pub(crate) mod truncated;

use core::time::Duration;

use crate::client::{self, Connection, Exchange, Outgoing, Timeouts};
use crate::{SECRET, Server};

/// Connecting to a loopback listener that is up takes microseconds; this
/// only bounds a broken one.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Limits of a single small request: loose enough for a debug build on a
/// busy machine, tight enough that a hang fails the test quickly.
pub(crate) const SMALL_REQUEST: Timeouts = Timeouts {
    answer: Duration::from_secs(30),
    stall: Duration::from_secs(10),
    after_answer: None,
};

/// The client's runtime: two workers, like each server's.
pub(crate) fn client_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("soak-client")
        .enable_all()
        .build()
        .map_err(|error| format!("cannot build the client runtime: {error}"))
}

/// Sends one valid event with id `id` on a new connection.
pub(crate) async fn send_valid(server: &Server, id: &str) -> Result<Exchange, String> {
    let key = protocol_webhooks::Key::new(SECRET).map_err(|error| error.to_string())?;
    let body = protocol_webhooks::samples::sample_body(
        &protocol_webhooks::events::EventType::MessageCreated,
        id,
    );
    let signature = key.sign(&body).to_hex();
    let outgoing = Outgoing::Sized(&body);
    let head = client::head(server.address(), Some(signature.as_str()), outgoing);
    let mut connection = Connection::open(server.address(), CONNECT_TIMEOUT).await?;
    Ok(connection.exchange(&head, outgoing, SMALL_REQUEST).await)
}

/// A 64-digit hex signature that verifies nothing the tests send.
pub(crate) fn plausible_signature() -> Result<String, String> {
    let key = protocol_webhooks::Key::new(SECRET).map_err(|error| error.to_string())?;
    Ok(key.sign(b"not this body").to_hex().as_str().to_owned())
}

/// Bytes as MiB, for reports.
pub(crate) fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
