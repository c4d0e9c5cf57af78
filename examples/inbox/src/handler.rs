//! The worker's handler: logs each event. Switches from the environment make
//! it fail on purpose and record each success, for trying retries out and
//! for the kill/restart tests.

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::sync::Arc;

use protocol_webhooks_inbox::Delivery;

use crate::options::HandlerOptions;

/// What the worker calls for each stored event.
#[derive(Debug)]
pub(crate) struct Handler {
    fail_rate: f64,
    fail_id: Option<String>,
    /// Opened with `O_APPEND`: each success is one `write` of `id\n`,
    /// followed by an fsync, before the handler returns.
    handled_log: Option<Arc<File>>,
}

impl Handler {
    /// The handler, with its success log opened (created if needed).
    ///
    /// # Errors
    /// When the success log cannot be opened.
    pub(crate) fn new(options: &HandlerOptions) -> io::Result<Self> {
        let handled_log = match &options.handled_log {
            Some(path) => Some(Arc::new(
                OpenOptions::new().create(true).append(true).open(path)?,
            )),
            None => None,
        };
        Ok(Self {
            fail_rate: options.fail_rate,
            fail_id: options.fail_id.clone(),
            handled_log,
        })
    }

    /// Handles one attempt at one event. An `Err` makes the worker retry
    /// the event later, or mark it dead after its last attempt.
    ///
    /// At least once: the worker may call this again for an event it
    /// already handled, if the process dies after this returned and before
    /// the inbox marked the event done. The success log then has the id
    /// twice; a real handler makes its effect idempotent by event id.
    pub(crate) async fn handle(&self, delivery: Delivery) -> Result<(), String> {
        let id = delivery.id.as_str();
        let event_type = delivery.event_type.as_str();
        if self.fail_id.as_deref() == Some(id) {
            return Err(format!("INBOX_FAIL_ID: event {id} always fails"));
        }
        if self.fail_rate > 0.0 && fastrand::f64() < self.fail_rate {
            return Err(format!(
                "INBOX_FAIL_RATE: attempt {} failed on purpose",
                delivery.attempt
            ));
        }
        if let Some(log) = &self.handled_log {
            record(log, id)
                .await
                .map_err(|error| format!("the success log could not be written: {error}"))?;
        }
        tracing::info!(
            event_type,
            event_id = id,
            attempt = delivery.attempt,
            "event handled"
        );
        Ok(())
    }
}

/// Appends `id` and a newline in one write, then syncs the file, off the
/// async runtime.
async fn record(log: &Arc<File>, id: &str) -> io::Result<()> {
    let log = Arc::clone(log);
    let line = format!("{id}\n").into_bytes();
    tokio::task::spawn_blocking(move || {
        (&*log).write_all(&line)?;
        log.sync_data()
    })
    .await
    .map_err(io::Error::other)?
}
