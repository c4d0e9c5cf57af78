//! `Key::new`, `Key::verify`, `verify_with_any` and the incremental
//! `Verifier` on arbitrary secrets, bodies and headers.
//!
//! A header authenticates a body exactly when it equals the body's signature
//! ignoring ASCII case; every other 64-digit header is a mismatch and
//! anything else is malformed. One-shot and incremental verification agree.

#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol_webhooks::{Key, KeyError, SignatureError, WebhookConfig, verify_with_any};
use protocol_webhooks_fuzz::{VerifyInput, is_64_hex_digits};

fuzz_target!(|input: VerifyInput<'_>| {
    let key = match Key::new(input.secret) {
        Ok(key) => key,
        Err(error) => {
            assert!(input.secret.is_empty(), "refused a non-empty secret");
            assert_eq!(error, KeyError::EmptySecret);
            assert_eq!(
                WebhookConfig::new(input.secret).err(),
                Some(KeyError::EmptySecret)
            );
            return;
        }
    };
    assert!(!input.secret.is_empty(), "accepted an empty secret");

    let correct = key.sign(input.body).to_hex();
    let correct = correct.as_str();
    assert_eq!(
        protocol_webhooks::sign(input.secret, input.body)
            .map(|signature| signature.to_hex().to_string()),
        Ok(correct.to_owned())
    );
    let upper = correct.to_ascii_uppercase();
    let header: &[u8] = match (input.use_correct, input.upper_case) {
        (true, false) => correct.as_bytes(),
        (true, true) => upper.as_bytes(),
        (false, _) => input.header,
    };

    let expected = if header.eq_ignore_ascii_case(correct.as_bytes()) {
        Ok(())
    } else if is_64_hex_digits(header) {
        Err(SignatureError::Mismatch)
    } else {
        Err(SignatureError::Malformed)
    };
    let outcome = key.verify(input.body, header);
    assert_eq!(outcome, expected, "header {header:?}");
    if input.use_correct {
        assert_eq!(outcome, Ok(()), "the body's own signature was refused");
    }

    // Rotation: the matching key may come first, last or not at all.
    let other = Key::new([input.secret, b"-other"].concat()).expect("non-empty");
    let keys = [other.clone(), key.clone()];
    assert_eq!(verify_with_any(&keys, input.body, header), expected);
    assert_eq!(verify_with_any(&keys[1..], input.body, header), expected);
    let without = match expected {
        Err(SignatureError::Malformed) => Err(SignatureError::Malformed),
        // `other` signs the body differently unless HMAC collides.
        _ if header.eq_ignore_ascii_case(other.sign(input.body).to_hex().as_str().as_bytes()) => {
            Ok(())
        }
        _ => Err(SignatureError::Mismatch),
    };
    assert_eq!(verify_with_any(&keys[..1], input.body, header), without);
    assert_eq!(
        verify_with_any(&[], input.body, header),
        expected.and(Err(SignatureError::Mismatch))
    );

    // Incremental: one arbitrary split, then fixed-size chunks.
    let split = usize::from(input.split) % (input.body.len() + 1);
    let mut verifier = key.verifier();
    verifier.update(&input.body[..split]);
    verifier.update(&input.body[split..]);
    assert_eq!(verifier.verify(header), expected, "split at {split}");

    let chunk = 1 + usize::from(input.split) % 97;
    let config = WebhookConfig::from_key(other).with_key(key);
    let mut verifier = config.verifier();
    for piece in input.body.chunks(chunk) {
        verifier.update(piece);
    }
    assert_eq!(verifier.verify(header), expected, "chunks of {chunk}");
    assert_eq!(config.verify(input.body, Some(header)), expected);
    assert_eq!(
        config.verify(input.body, None),
        Err(SignatureError::Missing)
    );
});
