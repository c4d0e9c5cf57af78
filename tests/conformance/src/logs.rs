//! The log lines one in-process request writes.

use std::io;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tracing::instrument::WithSubscriber as _;
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber, span};

/// Runs `future` with a subscriber of its own and returns its output with
/// every line logged while it was polled (all levels, no colours, no
/// timestamps), for an adapter's tests of its framework-specific paths.
/// Work the future hands to other tasks or threads is not captured.
pub async fn capture<F: Future>(future: F) -> (F::Output, Vec<String>) {
    keep_every_callsite_live();
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

/// Registers, once per process, two subscribers that take an interest in
/// every log callsite and enable none, so that a capture sees every line
/// its own request writes.
///
/// tracing decides once per callsite, when the first thread reaches it,
/// whether any subscriber may want it. While at most one subscriber is
/// registered it asks the subscriber of that thread, so a test of the same
/// binary serving requests without one (over a socket, on another thread)
/// would mark the callsite dead for every capture after it: the answer's
/// log line goes missing at random. With two registered it asks all of
/// them; these say "sometimes", and each line then asks the subscriber of
/// the thread it is written on.
pub(crate) fn keep_every_callsite_live() {
    static ANCHORS: OnceLock<[Dispatch; 2]> = OnceLock::new();
    ANCHORS.get_or_init(|| [Dispatch::new(Anchor), Dispatch::new(Anchor)]);
}

/// Interested in every callsite, enabled for none.
struct Anchor;

impl Subscriber for Anchor {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, _: &Event<'_>) {}

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}
