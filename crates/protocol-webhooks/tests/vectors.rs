//! Known-answer tests against vectors this crate did not compute.
//!
//! `signatures.json` was produced by Python's `hmac` and Node's `crypto`
//! (see `fixtures/vectors/generate.sh`, which refuses to write unless both
//! agree); `rfc4231.json` holds the HMAC-SHA256 test cases of RFC 4231.

use protocol_webhooks::{Key, KeyError, SIGNATURE_LEN, Signature, SignatureError, verify_with_any};
use serde_json::Value;

const SIGNATURES: &str = include_str!("../fixtures/vectors/signatures.json");
const CASES: &str = include_str!("../fixtures/vectors/cases.json");
const RFC4231: &str = include_str!("../fixtures/vectors/rfc4231.json");
const MESSAGE_UPDATED_EVENT: &[u8] = include_bytes!("../fixtures/events/message.updated.json");

struct Vector {
    name: String,
    secret: Vec<u8>,
    body: Vec<u8>,
    signature: String,
}

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd-length hex {text:?}");
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).expect("hex digit pair"))
        .collect()
}

fn field<'a>(case: &'a Value, name: &str) -> &'a str {
    case[name]
        .as_str()
        .unwrap_or_else(|| panic!("field {name} of {case} is not a string"))
}

fn signature_vectors() -> Vec<Vector> {
    let cases: Vec<Value> = serde_json::from_str(SIGNATURES).expect("signatures.json is JSON");
    cases
        .iter()
        .map(|case| Vector {
            name: field(case, "name").to_owned(),
            secret: unhex(field(case, "secret_hex")),
            body: unhex(field(case, "body_hex")),
            signature: field(case, "signature").to_owned(),
        })
        .collect()
}

fn vector(name: &str) -> Vector {
    signature_vectors()
        .into_iter()
        .find(|vector| vector.name == name)
        .unwrap_or_else(|| panic!("no vector named {name}"))
}

fn flip_bit(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut flipped = bytes.to_vec();
    flipped[bit / 8] ^= 1 << (bit % 8);
    flipped
}

#[test]
fn vectors_cover_every_case_with_the_same_inputs() {
    let cases: Vec<Value> = serde_json::from_str(CASES).expect("cases.json is JSON");
    let vectors = signature_vectors();
    assert_eq!(vectors.len(), cases.len(), "signatures.json is stale");
    for (case, vector) in cases.iter().zip(&vectors) {
        assert_eq!(field(case, "name"), vector.name);
        assert_eq!(
            unhex(field(case, "secret_hex")),
            vector.secret,
            "{}",
            vector.name
        );
        match case.get("body_hex").and_then(Value::as_str) {
            Some(body_hex) => assert_eq!(unhex(body_hex), vector.body, "{}", vector.name),
            None => assert_eq!(
                field(case, "body_file"),
                "events/message.updated.json",
                "{}: only that fixture file is embedded here",
                vector.name
            ),
        }
    }
}

#[test]
fn every_vector_signs_and_verifies() {
    let vectors = signature_vectors();
    let mut checked = 0;
    for vector in vectors.iter().filter(|vector| !vector.secret.is_empty()) {
        let name = &vector.name;
        let key = Key::new(&vector.secret).unwrap_or_else(|error| panic!("{name}: {error}"));
        let signature = key.sign(&vector.body);
        assert_eq!(
            signature.to_hex().as_str(),
            vector.signature,
            "{name}: sign"
        );
        let free = protocol_webhooks::sign(&vector.secret, &vector.body)
            .expect("non-empty secret")
            .to_hex();
        assert_eq!(free.as_str(), vector.signature, "{name}: free sign");

        let lower = vector.signature.as_bytes();
        let upper = vector.signature.to_ascii_uppercase();
        assert_eq!(
            key.verify(&vector.body, lower),
            Ok(()),
            "{name}: lower case"
        );
        assert_eq!(
            key.verify(&vector.body, upper.as_bytes()),
            Ok(()),
            "{name}: upper case"
        );
        assert_eq!(
            Signature::from_header(upper.as_bytes()).as_ref(),
            Ok(&signature),
            "{name}: upper case decodes to the same tag"
        );

        let mut verifier = key.verifier();
        for chunk in vector.body.chunks(7) {
            verifier.update(chunk);
        }
        assert_eq!(verifier.verify(lower), Ok(()), "{name}: chunked");

        let other = Key::new(b"some other secret").expect("key");
        assert_eq!(
            verify_with_any(&[other.clone(), key.clone()], &vector.body, lower),
            Ok(()),
            "{name}: rotation"
        );
        assert_eq!(
            verify_with_any(&[other], &vector.body, lower),
            Err(SignatureError::Mismatch),
            "{name}: wrong key"
        );

        let body_bits = vector.body.len() * 8;
        let tampered_bodies: Vec<Vec<u8>> = if body_bits == 0 {
            vec![vec![0], vec![0x80]]
        } else {
            [0, body_bits / 2 + 3, body_bits - 1]
                .iter()
                .map(|&bit| flip_bit(&vector.body, bit % body_bits))
                .collect()
        };
        for tampered in &tampered_bodies {
            assert_eq!(
                key.verify(tampered, lower),
                Err(SignatureError::Mismatch),
                "{name}: tampered body"
            );
        }

        for bit in 0..SIGNATURE_LEN * 8 {
            let flipped: [u8; SIGNATURE_LEN] = flip_bit(signature.as_bytes(), bit)
                .try_into()
                .expect("32 bytes");
            let flipped = Signature::from_bytes(flipped);
            assert_eq!(
                key.verify(&vector.body, flipped.to_hex().as_str().as_bytes()),
                Err(SignatureError::Mismatch),
                "{name}: signature bit {bit}"
            );
            assert_eq!(
                key.verify_signature(&vector.body, &flipped),
                Err(SignatureError::Mismatch),
                "{name}: decoded signature bit {bit}"
            );
        }
        checked += 1;
    }
    assert_eq!(
        checked,
        vectors.len() - 1,
        "exactly one vector has an empty secret"
    );
}

#[test]
fn the_empty_secret_vector_is_refused() {
    let empty: Vec<Vector> = signature_vectors()
        .into_iter()
        .filter(|vector| vector.secret.is_empty())
        .collect();
    assert_eq!(empty.len(), 1, "the vectors include one empty secret");
    let vector = &empty[0];
    // Other implementations sign with an empty key; this API refuses one,
    // because a signature anyone can compute authenticates nothing.
    assert_eq!(Key::new(&vector.secret).err(), Some(KeyError::EmptySecret));
    assert_eq!(
        protocol_webhooks::sign(&vector.secret, &vector.body).err(),
        Some(KeyError::EmptySecret)
    );
    #[cfg(feature = "alloc")]
    assert_eq!(
        protocol_webhooks::WebhookConfig::new(&vector.secret).err(),
        Some(KeyError::EmptySecret)
    );
}

#[test]
fn the_fixture_vector_signs_the_event_fixture_bytes() {
    let vector = vector("fixture-message-updated");
    assert_eq!(
        vector.body, MESSAGE_UPDATED_EVENT,
        "fixtures/events/message.updated.json changed: run fixtures/vectors/generate.sh"
    );
    #[cfg(feature = "events")]
    assert_eq!(
        vector.body,
        protocol_webhooks::samples::MESSAGE_UPDATED_EVENT.as_bytes()
    );
    let key = Key::new(&vector.secret).expect("key");
    assert_eq!(
        key.verify(MESSAGE_UPDATED_EVENT, vector.signature.as_bytes()),
        Ok(())
    );
}

#[test]
fn rfc4231_test_cases() {
    let cases: Vec<Value> = serde_json::from_str(RFC4231).expect("rfc4231.json is JSON");
    assert_eq!(cases.len(), 7, "RFC 4231 has seven HMAC-SHA256 test cases");
    let mut truncated = Vec::new();
    for case in &cases {
        let name = field(case, "name");
        let key_bytes = unhex(field(case, "key_hex"));
        let data = unhex(field(case, "data_hex"));
        let expected = field(case, "hmac_sha256");
        let key = Key::new(&key_bytes).expect("RFC 4231 keys are non-empty");
        let tag = key.sign(&data);
        let free = protocol_webhooks::sign(&key_bytes, &data)
            .expect("non-empty key")
            .to_hex();
        assert_eq!(free.as_str(), tag.to_hex().as_str(), "{name}: free sign");

        match case["truncate_bytes"].as_u64() {
            Some(length) => {
                let length = usize::try_from(length).expect("small");
                assert_eq!(
                    &tag.as_bytes()[..length],
                    unhex(expected).as_slice(),
                    "{name}"
                );
                // Only full tags are accepted: a truncated one is not a header value.
                assert_eq!(
                    key.verify(&data, expected.as_bytes()),
                    Err(SignatureError::Malformed),
                    "{name}"
                );
                truncated.push(name.to_owned());
            }
            None => {
                assert!(case["truncate_bytes"].is_null(), "{name}: truncate_bytes");
                assert_eq!(tag.to_hex().as_str(), expected, "{name}");
                assert_eq!(key.verify(&data, expected.as_bytes()), Ok(()), "{name}");
                let upper = expected.to_ascii_uppercase();
                assert_eq!(key.verify(&data, upper.as_bytes()), Ok(()), "{name}");
            }
        }
    }
    assert_eq!(truncated, ["rfc4231-case-5"]);
}
