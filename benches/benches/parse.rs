//! Typed parsing against parsing into `serde_json::Value`.
//!
//! `Value` is what a handler without a typed model would do, so the typed
//! parse has to be cheaper than it to be worth having. Bodies are Protocol's
//! documented events, with their sizes in the benchmark ids.

#![forbid(unsafe_code)]

use core::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use protocol_webhooks::WebhookConfig;
use protocol_webhooks::events::{Event, EventType};
use protocol_webhooks::samples::{ATTACHMENT, MESSAGE_UPDATED_EVENT, sample_body};
use protocol_webhooks_benches::SECRET;

/// The bodies measured, each named by what it is and its length.
fn bodies() -> Vec<(String, Vec<u8>)> {
    let updated = MESSAGE_UPDATED_EVENT.as_bytes().to_vec();
    let created = sample_body(&EventType::MessageCreated, "evt_sample");
    // The documented message has no attachment; a message that carries one
    // is the largest documented shape, close to 1 KiB.
    let with_attachment = String::from_utf8(created.clone())
        .expect("sample bodies are UTF-8")
        .replacen(
            r#""attachments": []"#,
            &format!(r#""attachments": [{}]"#, ATTACHMENT.trim_end()),
            1,
        )
        .into_bytes();
    assert!(
        with_attachment.len() > created.len(),
        "the sample message lost its empty attachment list"
    );
    [
        ("message.updated_doc", updated),
        ("message.created_sample", created),
        ("message.created_attachment", with_attachment),
    ]
    .into_iter()
    .map(|(name, body)| (format!("{name}_{}B", body.len()), body))
    .collect()
}

fn parse(c: &mut Criterion) {
    let config = WebhookConfig::new(SECRET).expect("non-empty secret");

    let mut group = c.benchmark_group("parse");
    for (name, body) in bodies() {
        let header = protocol_webhooks::sign(SECRET, &body)
            .expect("non-empty secret")
            .to_hex();
        let header = header.as_str().as_bytes();
        // Every body must parse, and verify, or the figures time an error.
        serde_json::from_slice::<serde_json::Value>(&body).expect("the body is JSON");
        Event::from_slice(&body).expect("the body is an event");
        config
            .verify_event(&body, Some(header))
            .expect("the body verifies");

        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("baseline_value", &name),
            &body,
            |b, body| {
                b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)));
            },
        );
        group.bench_with_input(BenchmarkId::new("ours_event", &name), &body, |b, body| {
            b.iter(|| Event::from_slice(black_box(body)));
        });
        group.bench_with_input(
            BenchmarkId::new("ours_verify_event", &name),
            &body,
            |b, body| {
                b.iter(|| config.verify_event(black_box(body), black_box(Some(header))));
            },
        );
    }
    group.finish();
}

protocol_webhooks_benches::bench_main!(parse);
