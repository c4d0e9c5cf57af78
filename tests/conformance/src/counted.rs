//! The metrics one in-process request records, per case.

use core::pin::pin;
use core::task::Poll;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use protocol_webhooks::metrics::{ACCEPTED, BODY_SIZE, REQUESTS, VERIFICATIONS};

/// A recorder of the metrics recorded while one future is polled.
pub(crate) struct Counted {
    recorder: DebuggingRecorder,
    snapshotter: Snapshotter,
}

/// What a request recorded.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Recorded {
    /// Each `outcome` label of the requests counter, as often as counted.
    pub(crate) outcomes: Vec<String>,
    /// Every body size recorded.
    pub(crate) body_sizes: Vec<f64>,
    /// How many verifications were counted, whatever the key.
    pub(crate) verifications: u64,
}

impl Counted {
    pub(crate) fn new() -> Self {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        Self {
            recorder,
            snapshotter,
        }
    }

    /// Polls `future` with this recorder as the thread's recorder during
    /// each poll, wherever the runtime polls it.
    pub(crate) async fn run<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        core::future::poll_fn(|context| {
            let _recording = metrics::set_default_local_recorder(&self.recorder);
            match future.as_mut().poll(context) {
                Poll::Ready(output) => Poll::Ready(output),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    pub(crate) fn recorded(&self) -> Recorded {
        let mut recorded = Recorded::default();
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let key = key.key();
            match (key.name(), value) {
                (REQUESTS, DebugValue::Counter(count)) => {
                    let outcome = key.labels().find(|label| label.key() == "outcome");
                    let outcome = outcome.map_or("<none>", |label| label.value());
                    for _ in 0..count {
                        recorded.outcomes.push(outcome.to_owned());
                    }
                }
                (BODY_SIZE, DebugValue::Histogram(sizes)) => {
                    recorded.body_sizes.extend(sizes.into_iter().map(f64::from));
                }
                (VERIFICATIONS, DebugValue::Counter(count)) => recorded.verifications += count,
                _ => {}
            }
        }
        recorded
    }
}

/// Every request that reaches an extractor is counted once: `accepted`
/// when the handler got the webhook, otherwise under the reason its
/// answer was logged with. An authentic body is counted as verified and
/// its size recorded.
pub(crate) fn check_counted(
    refused: bool,
    answer_lines: &[String],
    body_len: usize,
    recorded: &Recorded,
) -> Result<(), String> {
    let outcome = match (refused, answer_lines) {
        (false, _) => ACCEPTED.to_owned(),
        (true, [line]) => match line.split("reason=").nth(1) {
            Some(rest) => rest
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_matches('"')
                .to_owned(),
            None => return Err(format!("no reason in the answer's log line {line:?}")),
        },
        // The log check reports this case.
        (true, _) => return Ok(()),
    };
    if recorded.outcomes != [outcome.clone()] {
        return Err(format!(
            "expected one request counted as {outcome:?}, got {:?}",
            recorded.outcomes
        ));
    }
    if !refused {
        // Precision is not a concern for a test body.
        #[allow(clippy::cast_precision_loss)]
        let size = body_len as f64;
        if recorded.verifications != 1 || !recorded.body_sizes.contains(&size) {
            return Err(format!(
                "an accepted body is counted as verified once and its size {size} recorded, got {recorded:?}"
            ));
        }
    }
    Ok(())
}
