//! What the benchmarks share: the measurement settings, the body sizes and
//! the bodies, so that every comparison runs on identical input.

#![forbid(unsafe_code)]

pub mod apps;
pub mod frameworks;
pub mod hand_written;
pub mod receivers;

pub use frameworks::FRAMEWORKS;

use core::time::Duration;

use criterion::Criterion;

/// The secret every benchmark signs and verifies with.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Body sizes: a small event, a typical one, a large one, and the default
/// body limit.
pub const SIZES: [usize; 4] = [256, 1024, 16 * 1024, 1024 * 1024];

/// The chunk size the incremental benchmark feeds, as a streaming adapter
/// would receive it.
pub const CHUNK: usize = 16 * 1024;

/// Criterion settings short enough for the whole suite to finish in a few
/// minutes on two cores; pass `--measurement-time` or `--sample-size` on the
/// command line for a longer publishing run.
#[must_use]
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(40)
        .configure_from_args()
}

/// `criterion_group!` and `criterion_main!` for a benchmark file, with
/// [`criterion`]'s settings and `targets` as the benchmark functions.
#[macro_export]
macro_rules! bench_main {
    ($($target:path),+ $(,)?) => {
        criterion::criterion_group! {
            name = benches;
            config = $crate::criterion();
            targets = $($target),+
        }
        criterion::criterion_main!(benches);
    };
}

/// A size as benchmark ids and tables show it: `256B`, `1KiB`, `16KiB`, `1MiB`.
#[must_use]
pub fn size_label(size: usize) -> String {
    match size {
        s if s >= 1024 * 1024 && s % (1024 * 1024) == 0 => format!("{}MiB", s / (1024 * 1024)),
        s if s >= 1024 && s % 1024 == 0 => format!("{}KiB", s / 1024),
        s => format!("{s}B"),
    }
}

/// A body of exactly `size` bytes: Protocol's documented event repeated and
/// cut to length. HMAC does not care what the bytes are, but svix refuses
/// bodies that are not UTF-8, so the body stays ASCII.
///
/// # Panics
/// If the fixture ever stops being ASCII (cutting it could then split a
/// character).
#[must_use]
pub fn body(size: usize) -> Vec<u8> {
    let event = protocol_webhooks::samples::MESSAGE_UPDATED_EVENT.as_bytes();
    assert!(event.is_ascii(), "the fixture is cut at arbitrary bytes");
    event.iter().copied().cycle().take(size).collect()
}

/// The webhook body the adapter benchmarks and the load test send: a
/// `message.created` event whose message carries an attachment, Protocol's
/// largest documented shape (880 bytes), which is what a typical delivery
/// costs to verify and parse. The same bytes as the `parse` benchmark's
/// `message.created_attachment`, so their figures can be set side by side.
///
/// # Panics
/// If the sample message ever loses its empty attachment list, which is
/// where the attachment goes.
#[must_use]
pub fn webhook_body() -> Vec<u8> {
    use protocol_webhooks::events::EventType;
    use protocol_webhooks::samples::{ATTACHMENT, sample_body};

    let created = sample_body(&EventType::MessageCreated, "evt_sample");
    let created = String::from_utf8(created).expect("sample bodies are UTF-8");
    let empty = r#""attachments": []"#;
    assert!(
        created.contains(empty),
        "the sample message lost its empty attachment list"
    );
    let attachment = format!(r#""attachments": [{}]"#, ATTACHMENT.trim_end());
    created.replacen(empty, &attachment, 1).into_bytes()
}
