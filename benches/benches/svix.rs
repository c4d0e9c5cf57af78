//! Against svix, the best-known Rust webhook verifier, at the same sizes.
//!
//! The two schemes differ, and the difference is the point: svix signs
//! `id.timestamp.body`, so each verification checks the timestamp against
//! the clock, copies the body into a new string after checking it is UTF-8,
//! re-keys HMAC from the secret, and base64-encodes the result to compare
//! it. That is its real per-request cost, measured here with valid headers
//! so that the full path runs.

#![forbid(unsafe_code)]

use core::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{BenchmarkId, Criterion, Throughput};
use http::{HeaderMap, HeaderValue};
use protocol_webhooks::Key;
use protocol_webhooks_benches::{SECRET, SIZES, body, size_label};
use svix::webhooks::Webhook;

const MESSAGE_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";

/// Valid svix headers for `body`, timestamped now: svix refuses timestamps
/// more than five minutes off, so they are made right before each size.
fn svix_headers(webhook: &Webhook, body: &[u8]) -> HeaderMap {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs();
    let now = i64::try_from(now).expect("a timestamp of this century");
    let signature = webhook.sign(MESSAGE_ID, now, body).expect("an ASCII body");
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("svix-id", MESSAGE_ID.to_owned()),
        ("svix-timestamp", now.to_string()),
        ("svix-signature", signature),
    ] {
        headers.insert(
            name,
            HeaderValue::from_str(&value).expect("ASCII header value"),
        );
    }
    headers
}

fn svix(c: &mut Criterion) {
    // svix base64-decodes what follows the prefix; ours keys with the whole
    // string's bytes. Both keys are shorter than SHA-256's 64-byte block, so
    // neither is pre-hashed and keying costs the same on both sides.
    let webhook = Webhook::new(SECRET).expect("a base64 svix secret");
    let key = Key::new(SECRET).expect("non-empty secret");

    let mut group = c.benchmark_group("svix");
    for size in SIZES {
        let body = body(size);
        let headers = svix_headers(&webhook, &body);
        let header = key.sign(&body).to_hex();
        let header = header.as_str().as_bytes();
        // Both must take their success path: a rejected request returns
        // early and would flatter whichever side rejected it.
        webhook
            .verify(&body, &headers)
            .expect("svix accepts its own signature");
        key.verify(&body, header)
            .expect("ours accepts its own signature");

        group.throughput(Throughput::Bytes(size as u64));
        let label = size_label(size);
        group.bench_with_input(BenchmarkId::new("svix_verify", &label), &body, |b, body| {
            b.iter(|| webhook.verify(black_box(body), black_box(&headers)).is_ok());
        });
        group.bench_with_input(BenchmarkId::new("ours_verify", &label), &body, |b, body| {
            b.iter(|| key.verify(black_box(body), black_box(header)).is_ok());
        });
        // The timestamp could only have gone stale on a badly stalled
        // machine; if it did, the figures above measured rejections.
        webhook
            .verify(&body, &headers)
            .expect("svix headers still within tolerance after measuring");
    }
    group.finish();
}

protocol_webhooks_benches::bench_main!(svix);
