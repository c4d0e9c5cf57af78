//! Verification agrees with an independent HMAC-SHA256: `ring`'s, which
//! shares no code with the RustCrypto `hmac` and `sha2` crates the core uses.
//!
//! For random non-empty secrets (shorter and longer than SHA-256's 64-byte
//! block, where HMAC switches to hashing the key) and random bodies, the
//! core's tag must equal ring's byte for byte; ring's tag must verify in
//! either case, and ring's tag with one bit flipped, or 32 random bytes,
//! must not. Every verdict is also compared with `ring::hmac::verify`.

use proptest::collection::vec;
use proptest::prelude::*;
use protocol_webhooks::{Key, SIGNATURE_LEN, Signature, SignatureError, verify_with_any};
use ring::hmac;

/// Successful cases per property: each checks four signatures.
const CASES: u32 = 4096;

/// The tag ring computes for `body` under `secret`.
fn ring_tag(secret: &[u8], body: &[u8]) -> [u8; SIGNATURE_LEN] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::sign(&key, body)
        .as_ref()
        .try_into()
        .expect("HMAC-SHA256 tags are 32 bytes")
}

/// The header for `tag`, as Protocol sends it or in upper case.
fn header(tag: [u8; SIGNATURE_LEN], upper: bool) -> String {
    let hex = Signature::from_bytes(tag).to_hex().as_str().to_owned();
    if upper { hex.to_ascii_uppercase() } else { hex }
}

/// Checks one candidate signature with the core and with ring, and that
/// both give `expected`.
fn check(
    key: &Key,
    secret: &[u8],
    body: &[u8],
    tag: [u8; SIGNATURE_LEN],
    upper: bool,
    expected: bool,
) {
    let header = header(tag, upper);
    let ours = key.verify(body, header.as_bytes());
    let theirs = hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, secret), body, &tag);
    assert_eq!(
        ours.is_ok(),
        theirs.is_ok(),
        "core and ring disagree on {header}"
    );
    let expected = if expected {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    };
    assert_eq!(ours, expected, "{header}");
    assert_eq!(
        verify_with_any(core::slice::from_ref(key), body, header.as_bytes()),
        expected
    );
    let mut verifier = key.verifier();
    let (head, tail) = body.split_at(body.len() / 3);
    verifier.update(head);
    verifier.update(tail);
    assert_eq!(verifier.verify(header.as_bytes()), expected);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn verification_agrees_with_ring(
        secret in vec(any::<u8>(), 1..200),
        body in vec(any::<u8>(), 0..4096),
        bit in 0..8 * SIGNATURE_LEN,
        random in any::<[u8; SIGNATURE_LEN]>(),
        upper in any::<bool>(),
    ) {
        let key = Key::new(&secret).expect("non-empty secret");
        let tag = ring_tag(&secret, &body);
        prop_assert_eq!(*key.sign(&body).as_bytes(), tag);

        check(&key, &secret, &body, tag, upper, true);
        let mut flipped = tag;
        flipped[bit / 8] ^= 1 << (bit % 8);
        check(&key, &secret, &body, flipped, upper, false);
        // Equal to the tag with probability 2^-256.
        check(&key, &secret, &body, random, upper, random == tag);
    }
}

/// Lengths at the edges of SHA-256's padding and HMAC's key handling,
/// which random lengths hit only by chance.
#[test]
fn block_boundaries_agree_with_ring() {
    let secret_lengths = [1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 199];
    let body_lengths = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1024, 4095];
    for secret_len in secret_lengths {
        // Varied bytes, so that no secret is a prefix of a longer one.
        let secret: Vec<u8> = (0..secret_len)
            .map(|i| (i * 31 + secret_len) as u8)
            .collect();
        let key = Key::new(&secret).expect("non-empty secret");
        for body_len in body_lengths {
            let body: Vec<u8> = (0..body_len).map(|i| (i * 7 + 3) as u8).collect();
            let tag = ring_tag(&secret, &body);
            assert_eq!(
                key.sign(&body).as_bytes(),
                &tag,
                "secret {secret_len} bytes, body {body_len} bytes"
            );
            check(&key, &secret, &body, tag, false, true);
            let mut flipped = tag;
            flipped[SIGNATURE_LEN - 1] ^= 0x80;
            check(&key, &secret, &body, flipped, true, false);
        }
    }
}
