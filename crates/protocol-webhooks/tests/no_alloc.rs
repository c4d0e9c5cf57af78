#![cfg(feature = "std")]
//! Verification never touches the heap.
//!
//! Receivers call these functions on every request, and the README promises
//! that verification allocates nothing, so each one is run under a counting
//! global allocator (`allocation-counter`, which installs itself when this
//! test binary links it) and must make exactly zero allocations. Bodies,
//! keys and header values are all prepared before counting starts, so only
//! the call under test is measured. The counter is per thread, so tests
//! running in parallel, and the harness's own threads, do not leak into each
//! other's counts.

#![forbid(unsafe_code)]

use core::hint::black_box;

use allocation_counter::{AllocationInfo, measure};
use protocol_webhooks::{
    Key, Signature, SignatureError, WebhookConfig, signature_header_value, verify_with_any,
};

/// The body sizes the benchmarks publish figures for, so the zero holds for
/// every size a reader looks up.
const SIZES: [usize; 4] = [256, 1024, 16 * 1024, 1024 * 1024];

/// The chunk size a streaming adapter typically hands over.
const CHUNK: usize = 16 * 1024;

/// A well-formed header that matches no body used here.
const WRONG: [u8; 64] = [b'0'; 64];

/// Runs `call` under the counter and returns its result together with what
/// it allocated. The result leaves the closure so that asserting on it, and
/// formatting a failure message, happens outside the measured region.
fn counted<T>(call: impl FnOnce() -> T) -> (T, AllocationInfo) {
    let mut result = None;
    let info = measure(|| result = Some(call()));
    (result.expect("the measured call ran"), info)
}

/// Asserts that `call` allocated nothing and returned `expected`.
fn assert_no_alloc<T: PartialEq + core::fmt::Debug>(
    what: &str,
    expected: &T,
    call: impl FnOnce() -> T,
) {
    let (result, info) = counted(call);
    assert_eq!(&result, expected, "{what}: unexpected result");
    assert_eq!(
        info.count_total, 0,
        "{what}: {} heap allocation(s), {} byte(s) in total",
        info.count_total, info.bytes_total
    );
}

/// A deterministic ASCII body: its content does not matter to HMAC, only
/// that it is allocated before counting starts.
fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

fn key(secret: &str) -> Key {
    Key::new(secret).expect("non-empty secret")
}

/// Guards every other test: if the counting allocator were not installed
/// (say, the dependency was swapped for one that needs explicit set-up),
/// `count_total` would read 0 for everything and the tests would pass
/// without proving anything.
#[test]
fn the_counter_sees_allocations() {
    let (_, info) = counted(|| black_box(Vec::<u8>::with_capacity(black_box(16))));
    assert_eq!(info.count_total, 1);
}

#[test]
fn key_verify_allocates_nothing() {
    let key = key("whsec_current");
    for size in SIZES {
        let body = body(size);
        let header = key.sign(&body).to_hex();
        let header = header.as_str().as_bytes();
        assert_no_alloc(&format!("Key::verify valid, {size} B"), &Ok(()), || {
            key.verify(black_box(&body), black_box(header))
        });
        assert_no_alloc(
            &format!("Key::verify mismatch, {size} B"),
            &Err(SignatureError::Mismatch),
            || key.verify(black_box(&body), black_box(&WRONG)),
        );
        assert_no_alloc(
            &format!("Key::verify malformed, {size} B"),
            &Err(SignatureError::Malformed),
            || key.verify(black_box(&body), black_box(&header[1..])),
        );
    }
}

#[test]
fn verify_with_any_two_keys_allocates_nothing() {
    let current = key("whsec_current");
    let previous = key("whsec_previous");
    let keys = [current.clone(), previous.clone()];
    for size in SIZES {
        let body = body(size);
        // A signature by the second key makes both keys be tried.
        for (signer, name) in [(&current, "first"), (&previous, "second")] {
            let header = signer.sign(&body).to_hex();
            assert_no_alloc(
                &format!("verify_with_any, {name} key matches, {size} B"),
                &Ok(()),
                || {
                    verify_with_any(
                        black_box(&keys),
                        black_box(&body),
                        header.as_str().as_bytes(),
                    )
                },
            );
        }
        assert_no_alloc(
            &format!("verify_with_any, no key matches, {size} B"),
            &Err(SignatureError::Mismatch),
            || verify_with_any(black_box(&keys), black_box(&body), black_box(&WRONG)),
        );
    }
}

#[test]
fn webhook_config_verify_allocates_nothing() {
    // Built outside the counter: construction allocates (an `Arc`, a `Vec`
    // of keys) once at start-up, which is fine; each request must not.
    let config = WebhookConfig::new("whsec_current")
        .expect("non-empty secret")
        .with_secret("whsec_previous")
        .expect("non-empty secret");
    let previous = key("whsec_previous");
    for size in SIZES {
        let body = body(size);
        let header = previous.sign(&body).to_hex();
        let header = header.as_str().as_bytes();
        assert_no_alloc(
            &format!("WebhookConfig::verify valid, {size} B"),
            &Ok(()),
            || config.verify(black_box(&body), black_box(Some(header))),
        );
        assert_no_alloc(
            &format!("WebhookConfig::verify mismatch, {size} B"),
            &Err(SignatureError::Mismatch),
            || config.verify(black_box(&body), black_box(Some(&WRONG[..]))),
        );
        assert_no_alloc(
            &format!("WebhookConfig::verify missing, {size} B"),
            &Err(SignatureError::Missing),
            || config.verify(black_box(&body), black_box(None)),
        );
    }
}

#[test]
fn signature_from_header_allocates_nothing() {
    let valid = key("whsec_current").sign(b"{}").to_hex();
    let valid = valid.as_str().as_bytes();
    let expected = Signature::from_header(valid);
    assert!(expected.is_ok());
    assert_no_alloc("Signature::from_header valid", &expected, || {
        Signature::from_header(black_box(valid))
    });
    let upper = valid.to_ascii_uppercase();
    assert_no_alloc("Signature::from_header upper case", &expected, || {
        Signature::from_header(black_box(&upper))
    });
    for malformed in [&valid[1..], &b"sha256=0000"[..], &[b'g'; 64][..], &[][..]] {
        assert_no_alloc(
            "Signature::from_header malformed",
            &Err(SignatureError::Malformed),
            || Signature::from_header(black_box(malformed)),
        );
    }
}

#[test]
fn signature_header_value_allocates_nothing() {
    let valid = key("whsec_current").sign(b"{}").to_hex();
    let valid = valid.as_str().as_bytes();
    assert_no_alloc("signature_header_value, none", &Ok(None), || {
        signature_header_value(black_box([valid; 0]))
    });
    assert_no_alloc("signature_header_value, one", &Ok(Some(valid)), || {
        signature_header_value(black_box([valid]))
    });
    assert_no_alloc(
        "signature_header_value, two",
        &Err(SignatureError::Repeated),
        || signature_header_value(black_box([valid, &WRONG[..]])),
    );
}

#[test]
fn incremental_verifier_allocates_nothing() {
    let key = key("whsec_current");
    for size in SIZES {
        let body = body(size);
        let header = key.sign(&body).to_hex();
        let header = header.as_str().as_bytes();
        for (expected, header) in [
            (Ok(()), header),
            (Err(SignatureError::Mismatch), &WRONG[..]),
        ] {
            // Creating the verifier is inside the counter too: an adapter
            // makes one per request.
            assert_no_alloc(
                &format!("Key::verifier update+verify, {size} B, {expected:?}"),
                &expected,
                || {
                    let mut verifier = key.verifier();
                    for chunk in black_box(&body).chunks(CHUNK) {
                        verifier.update(chunk);
                    }
                    verifier.verify(black_box(header))
                },
            );
        }
    }
}
