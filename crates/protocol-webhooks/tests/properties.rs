//! Properties that must hold for every secret, body, header and chunking.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use protocol_webhooks::{Key, SIGNATURE_LEN, Signature, SignatureError, verify_with_any};

fn secret() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 1..160)
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..1024)
}

fn is_header(candidate: &[u8]) -> bool {
    candidate.len() == 2 * SIGNATURE_LEN && candidate.iter().all(u8::is_ascii_hexdigit)
}

/// Arbitrary bytes rarely look like a header, so most candidates are
/// near-misses: the right alphabet at nearby lengths, or one byte off.
fn header() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..130),
        "[0-9a-fA-F]{62,66}".prop_map(String::into_bytes),
        ("[0-9a-fA-F]{64}", any::<Index>(), any::<u8>()).prop_map(|(hex, at, byte)| {
            let mut header = hex.into_bytes();
            let at = at.index(header.len());
            header[at] = byte;
            header
        }),
    ]
}

/// Cut points into a body of `len` bytes, in order, possibly repeated.
fn cuts(len: usize, indexes: &[Index]) -> Vec<usize> {
    let mut cuts: Vec<usize> = indexes.iter().map(|index| index.index(len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

fn chunks<'a>(body: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut start = 0;
    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    for &cut in cuts {
        chunks.push(&body[start..cut]);
        start = cut;
    }
    chunks.push(&body[start..]);
    chunks
}

proptest! {
    #[test]
    fn signed_bodies_verify(secret in secret(), body in body()) {
        let key = Key::new(&secret).expect("non-empty secret");
        let signature = key.sign(&body);
        let header = signature.to_hex();
        prop_assert_eq!(key.verify(&body, header.as_str().as_bytes()), Ok(()));
        let upper = header.as_str().to_ascii_uppercase();
        prop_assert_eq!(key.verify(&body, upper.as_bytes()), Ok(()));
        prop_assert_eq!(key.verify_signature(&body, &signature), Ok(()));
        prop_assert_eq!(verify_with_any(&[key], &body, header.as_str().as_bytes()), Ok(()));
        let free = protocol_webhooks::sign(&secret, &body).expect("non-empty secret").to_hex();
        prop_assert_eq!(free.as_str(), header.as_str());
    }

    #[test]
    fn a_flipped_body_bit_is_a_mismatch(
        secret in secret(),
        (body, bit) in vec(any::<u8>(), 1..1024)
            .prop_flat_map(|body| { let bits = body.len() * 8; (Just(body), 0..bits) }),
    ) {
        let key = Key::new(&secret).expect("non-empty secret");
        let header = key.sign(&body).to_hex();
        let mut tampered = body;
        tampered[bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(
            key.verify(&tampered, header.as_str().as_bytes()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_flipped_signature_bit_is_a_mismatch(
        secret in secret(),
        body in body(),
        bit in 0..SIGNATURE_LEN * 8,
    ) {
        let key = Key::new(&secret).expect("non-empty secret");
        let mut tag = *key.sign(&body).as_bytes();
        tag[bit / 8] ^= 1 << (bit % 8);
        let tampered = Signature::from_bytes(tag);
        prop_assert_eq!(key.verify_signature(&body, &tampered), Err(SignatureError::Mismatch));
        prop_assert_eq!(
            key.verify(&body, tampered.to_hex().as_str().as_bytes()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn only_64_hex_digits_are_a_header(
        secret in secret(),
        body in vec(any::<u8>(), 0..256),
        header in header(),
    ) {
        let parsed = Signature::from_header(&header);
        prop_assert_eq!(parsed.is_ok(), is_header(&header));
        let key = Key::new(&secret).expect("non-empty secret");
        let verified = key.verify(&body, &header);
        match parsed {
            Err(error) => {
                prop_assert_eq!(error, SignatureError::Malformed);
                prop_assert_eq!(verified, Err(SignatureError::Malformed));
            }
            Ok(signature) => {
                // A valid header decodes to the digits it spells, in either case.
                let lower = header.to_ascii_lowercase();
                let decoded = signature.to_hex();
                prop_assert_eq!(decoded.as_str().as_bytes(), lower.as_slice());
                let expected = if signature == key.sign(&body) {
                    Ok(())
                } else {
                    Err(SignatureError::Mismatch)
                };
                prop_assert_eq!(verified, expected);
            }
        }
    }

    #[test]
    fn chunked_verification_equals_one_shot(
        secret in secret(),
        body in body(),
        indexes in vec(any::<Index>(), 0..8),
        wrong in any::<[u8; SIGNATURE_LEN]>(),
    ) {
        let key = Key::new(&secret).expect("non-empty secret");
        let right = key.sign(&body).to_hex();
        let wrong = Signature::from_bytes(wrong).to_hex();
        let cuts = cuts(body.len(), &indexes);
        for header in [right.as_str().as_bytes(), wrong.as_str().as_bytes(), b"zz"] {
            let mut verifier = key.verifier();
            for chunk in chunks(&body, &cuts) {
                verifier.update(chunk);
            }
            prop_assert_eq!(verifier.verify(header), key.verify(&body, header));
        }
    }
}

#[cfg(feature = "alloc")]
mod collector {
    use super::*;
    use protocol_webhooks::{Rejection, RequestHead, WebhookConfig};

    proptest! {
        #[test]
        fn rotation_accepts_either_secret_in_any_chunking(
            current in secret(),
            previous in secret(),
            signed_with_previous in any::<bool>(),
            body in body(),
            indexes in vec(any::<Index>(), 0..8),
        ) {
            let config = WebhookConfig::new(&current)
                .expect("non-empty secret")
                .with_secret(&previous)
                .expect("non-empty secret");
            let signer = if signed_with_previous { &previous } else { &current };
            let header = protocol_webhooks::sign(signer, &body).expect("non-empty secret").to_hex();
            let mut verifier = config.verifier();
            for chunk in chunks(&body, &cuts(body.len(), &indexes)) {
                verifier.update(chunk);
            }
            prop_assert_eq!(verifier.verify(header.as_str().as_bytes()), Ok(()));
            prop_assert_eq!(config.verify(&body, Some(header.as_str().as_bytes())), Ok(()));
        }

        #[test]
        fn body_collector_accepts_iff_within_limit(
            secret in secret(),
            limit in 0..600usize,
            body in vec(any::<u8>(), 0..700),
            indexes in vec(any::<Index>(), 0..8),
        ) {
            let config = WebhookConfig::new(&secret)
                .expect("non-empty secret")
                .with_body_limit(limit);
            let header = protocol_webhooks::sign(&secret, &body).expect("non-empty secret").to_hex();
            let fits = body.len() <= limit;

            let length = body.len().to_string();
            let declared = config.collect_body(RequestHead::new([length.as_str()], [header.as_str()]));
            prop_assert_eq!(declared.is_ok(), fits);

            let undeclared = RequestHead::new(None::<&[u8]>, [header.as_str()]);
            let mut collector = config.collect_body(undeclared).expect("no declared length");
            let mut pushed = 0;
            let mut refused = false;
            for chunk in chunks(&body, &cuts(body.len(), &indexes)) {
                match collector.push(chunk) {
                    Ok(()) => pushed += chunk.len(),
                    Err(rejection) => {
                        // Refused exactly at the chunk that crosses the limit.
                        prop_assert!(pushed + chunk.len() > limit);
                        let refused_at_limit =
                            matches!(rejection, Rejection::PayloadTooLarge { limit: l } if l == limit);
                        prop_assert!(refused_at_limit, "{:?}", rejection);
                        prop_assert_eq!(rejection.status(), 413);
                        refused = true;
                        break;
                    }
                }
                prop_assert!(pushed <= limit);
                prop_assert_eq!(collector.len(), pushed);
            }
            prop_assert_eq!(refused, !fits);
            if fits {
                let verified = collector
                    .finish()
                    .expect("a body within the limit with its signature");
                prop_assert_eq!(verified.as_bytes(), body.as_slice());
            }
        }
    }
}

#[cfg(feature = "events")]
mod parsing {
    use super::*;
    use protocol_webhooks::events::{Event, EventError, EventType, Payload};
    use protocol_webhooks::samples::sample_body;
    use serde_json::Value;

    /// Documented sample bodies with a few bytes changed, inserted or removed:
    /// inputs near the valid ones reach deeper into the parser than noise.
    fn mutated_sample() -> impl Strategy<Value = Vec<u8>> {
        let edits = vec((any::<Index>(), any::<u8>(), 0..3u8), 1..4);
        (any::<Index>(), edits).prop_map(|(kind, edits)| {
            let kind = kind.get(&EventType::KNOWN);
            let mut body = sample_body(kind, "evt_fuzz");
            for (at, byte, operation) in edits {
                let at = at.index(body.len());
                match operation {
                    0 => body[at] = byte,
                    1 => body.insert(at, byte),
                    _ => {
                        body.remove(at);
                    }
                }
            }
            body
        })
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            // Binary fractions, so that the text form parses back to the
            // same number without relying on float round-tripping.
            (-1_000_000i32..1_000_000).prop_map(|n| Value::from(f64::from(n) / 8.0)),
            ".{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..6)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    /// What a successful parse must agree with: an object whose `id` and
    /// `type` are strings.
    fn check_consistent(
        bytes: &[u8],
        result: &Result<Event, EventError>,
    ) -> Result<(), TestCaseError> {
        match result {
            Ok(event) => {
                let value: Value = serde_json::from_slice(bytes).expect("accepted bodies are JSON");
                prop_assert_eq!(value["id"].as_str(), Some(event.id.as_str()));
                prop_assert_eq!(value["type"].as_str(), Some(event.event_type.as_str()));
                let raw: Value = serde_json::from_str(event.raw_payload().get()).expect("raw JSON");
                prop_assert_eq!(&raw, value.get("payload").unwrap_or(&Value::Null));
            }
            Err(EventError::NotUtf8 { valid_up_to }) => {
                let error = core::str::from_utf8(bytes).expect_err("reported as not UTF-8");
                prop_assert_eq!(error.valid_up_to(), *valid_up_to);
            }
            Err(_) => {
                prop_assert!(core::str::from_utf8(bytes).is_ok());
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_bytes_never_panics(bytes in vec(any::<u8>(), 0..512)) {
            let result = Event::from_slice(&bytes);
            check_consistent(&bytes, &result)?;
        }

        #[test]
        fn parsing_mutated_samples_never_panics(bytes in mutated_sample()) {
            let result = Event::from_slice(&bytes);
            check_consistent(&bytes, &result)?;
        }

        #[test]
        fn any_payload_of_an_unknown_type_is_kept(
            id in ".{0,12}",
            type_name in "[a-z]{1,8}(\\.[a-z]{1,8})?",
            payload in json_value(),
        ) {
            let event_type = EventType::from(type_name.as_str());
            prop_assume!(!event_type.is_known());
            let body = serde_json::json!({"id": id, "type": type_name, "payload": payload});
            let bytes = serde_json::to_vec(&body).expect("serialize");
            let event = Event::from_slice(&bytes).expect("unknown types accept any payload");
            prop_assert_eq!(&event.id, &id);
            prop_assert_eq!(event.event_type, event_type);
            prop_assert_eq!(event.payload, Payload::Unknown(payload));
        }

        #[test]
        fn any_payload_of_a_known_type_parses_or_errors(
            kind in any::<Index>(),
            payload in json_value(),
        ) {
            let kind = kind.get(&EventType::KNOWN);
            let body = serde_json::json!({"id": "evt", "type": kind.as_str(), "payload": payload});
            let bytes = serde_json::to_vec(&body).expect("serialize");
            let result = Event::from_slice(&bytes);
            check_consistent(&bytes, &result)?;
            match result {
                Ok(event) => {
                    prop_assert_eq!(event.resource_id(), payload["id"].as_str());
                    prop_assert!(!event.resource_id().unwrap_or_default().is_empty());
                }
                Err(error) => {
                    let path = error.path().expect("a JSON value misfits at a path");
                    prop_assert!(path.starts_with("payload"), "{}", path);
                }
            }
        }
    }
}
