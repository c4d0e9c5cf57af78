//! Verification throughput against the bare primitive it is built on.
//!
//! `baseline_hmac` is RustCrypto's HMAC-SHA256 (the same crate versions the
//! core uses), keyed once and cloned per message, with nothing else:
//! whatever `ours_verify` costs beyond it is the header parse and the
//! constant-time comparison. Both are in one group so that they are
//! measured in the same run, under the same machine load.

#![forbid(unsafe_code)]

use core::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use hmac::{KeyInit, Mac};
use protocol_webhooks::{Key, Signature};
use protocol_webhooks_benches::{CHUNK, SECRET, SIZES, body, size_label};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn verify(c: &mut Criterion) {
    let mac = HmacSha256::new_from_slice(SECRET.as_bytes()).expect("HMAC takes any key length");
    let key = Key::new(SECRET).expect("non-empty secret");

    let mut group = c.benchmark_group("verify");
    for size in SIZES {
        let body = body(size);
        let header = key.sign(&body).to_hex();
        let header = header.as_str().as_bytes();
        // A benchmark of the rejection path would be faster and prove
        // nothing: check once that the measured call succeeds.
        assert_eq!(key.verify(&body, header), Ok(()));
        let mut verifier = key.verifier();
        for chunk in body.chunks(CHUNK) {
            verifier.update(chunk);
        }
        assert_eq!(verifier.verify(header), Ok(()));

        group.throughput(Throughput::Bytes(size as u64));
        let label = size_label(size);
        group.bench_with_input(
            BenchmarkId::new("baseline_hmac", &label),
            &body,
            |b, body| {
                b.iter(|| {
                    let mut mac = mac.clone();
                    mac.update(black_box(body));
                    mac.finalize().into_bytes()
                });
            },
        );
        group.bench_with_input(BenchmarkId::new("ours_verify", &label), &body, |b, body| {
            b.iter(|| key.verify(black_box(body), black_box(header)));
        });
        group.bench_with_input(
            BenchmarkId::new("ours_verifier_16KiB_chunks", &label),
            &body,
            |b, body| {
                b.iter(|| {
                    let mut verifier = key.verifier();
                    for chunk in black_box(body).chunks(CHUNK) {
                        verifier.update(chunk);
                    }
                    verifier.verify(black_box(header))
                });
            },
        );
    }
    group.finish();
}

/// The fixed costs `ours_verify` adds to the HMAC, measured on their own so
/// that a gap at small sizes can be attributed: the 64-digit header parse,
/// and a 256 B verification whose signature was parsed beforehand.
fn overhead(c: &mut Criterion) {
    let key = Key::new(SECRET).expect("non-empty secret");
    let body = body(256);
    let header = key.sign(&body).to_hex();
    let header = header.as_str().as_bytes();
    let signature = Signature::from_header(header).expect("a signature this crate made");

    let mut group = c.benchmark_group("verify_overhead");
    group.bench_function("Signature::from_header", |b| {
        b.iter(|| Signature::from_header(black_box(header)));
    });
    group.bench_function("Key::verify_signature/256B", |b| {
        b.iter(|| key.verify_signature(black_box(&body), black_box(&signature)));
    });
    group.bench_function("Key::verify/256B", |b| {
        b.iter(|| key.verify(black_box(&body), black_box(header)));
    });
    group.finish();
}

protocol_webhooks_benches::bench_main!(verify, overhead);
