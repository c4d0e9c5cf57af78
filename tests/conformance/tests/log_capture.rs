//! A capture of one request's log lines must not depend on which thread
//! reached a log line first. Its own binary: nothing else in the process
//! registers a subscriber.

use protocol_webhooks_conformance::capture;

fn log_a_refusal() {
    tracing::warn!("refused");
}

#[test]
fn a_line_first_written_on_a_thread_without_a_subscriber_is_still_captured() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let ((), lines) = runtime.block_on(capture(async {
        // Another thread serving without a subscriber, as a test over a
        // socket does, reaches the line first, while this capture runs.
        std::thread::spawn(log_a_refusal)
            .join()
            .expect("the other thread");
        log_a_refusal();
    }));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("refused"), "{lines:?}");
}
