//! The log lines one in-process request writes.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::Dispatch;
use tracing::instrument::WithSubscriber as _;

/// Runs `future` with a subscriber of its own and returns its output with
/// every line logged while it was polled (all levels, no colours, no
/// timestamps), for an adapter's tests of its framework-specific paths.
/// Work the future hands to other tasks or threads is not captured.
pub async fn capture<F: Future>(future: F) -> (F::Output, Vec<String>) {
    let logs = Captured::default();
    let output = future.with_subscriber(logs.subscriber()).await;
    (output, logs.lines())
}

/// A buffer that a subscriber made by [`subscriber`](Self::subscriber)
/// writes formatted lines into.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// A subscriber for every level, without colours or timestamps, writing
    /// here.
    pub(crate) fn subscriber(&self) -> Dispatch {
        let writer = self.clone();
        Dispatch::new(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .without_time()
                .with_writer(move || writer.clone())
                .finish(),
        )
    }

    /// Every line written so far.
    pub(crate) fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The lines the core wrote about an answer.
    pub(crate) fn answer_lines(&self) -> Vec<String> {
        let mut lines = self.lines();
        lines.retain(|line| line.contains(" protocol_webhooks::answer: "));
        lines
    }
}

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
