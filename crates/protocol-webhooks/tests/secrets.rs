//! Nothing that can be logged reveals the secret or a signature.
//!
//! Handlers log configs, verifiers and errors freely; a secret or a valid
//! signature in such a log line would let anyone who reads the logs forge
//! requests.

use protocol_webhooks::{
    HexSignature, Key, KeyError, RequestHead, SIGNATURE_LEN, Signature, SignatureError,
    signature_header_value,
};

const SECRET: &str = "whsec_Never-Log-Me-7c41e0";
const PREVIOUS_SECRET: &str = "whsec_Old-Never-Log-Me-d2b9";
const BODY: &[u8] = br#"{"id":"evt_1","type":"contact.created","payload":{"id":"c_1"}}"#;

/// The forms in which a secret or signature could slip into output.
fn leak_forms(bytes: &[u8]) -> Vec<String> {
    let lower: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    let mut forms = vec![lower.to_ascii_uppercase(), lower];
    if let Ok(text) = core::str::from_utf8(bytes) {
        forms.push(text.to_owned());
    }
    // `Debug` of a byte array or slice: "[119, 104, 115, ...".
    let listed: Vec<String> = bytes.iter().take(6).map(u8::to_string).collect();
    forms.push(listed.join(", "));
    forms
}

struct Forbidden {
    forms: Vec<String>,
}

impl Forbidden {
    fn new(key: &Key) -> Self {
        let signature = key.sign(BODY);
        let mut forms = Vec::new();
        for secret in [SECRET, PREVIOUS_SECRET] {
            forms.extend(leak_forms(secret.as_bytes()));
        }
        forms.extend(leak_forms(signature.as_bytes()));
        Self { forms }
    }

    /// The first forbidden form in `output`, or a piece of one long enough
    /// to narrow it down.
    fn leak(&self, output: &str) -> Option<String> {
        const PIECE: usize = 12;
        self.forms.iter().find_map(|form| {
            let chars: Vec<char> = form.chars().collect();
            chars
                .windows(PIECE.min(chars.len()))
                .map(|window| window.iter().collect::<String>())
                .find(|piece| output.contains(piece.as_str()))
        })
    }

    fn check(&self, what: &str, output: &str) {
        if let Some(piece) = self.leak(output) {
            panic!("{what} contains {piece:?}: {output}");
        }
    }

    fn check_debug(&self, what: &str, value: &impl core::fmt::Debug) {
        let plain = format!("{value:?}");
        assert!(!plain.is_empty(), "{what}");
        self.check(what, &plain);
        self.check(what, &format!("{value:#?}"));
    }
}

fn key() -> Key {
    Key::new(SECRET).expect("non-empty secret")
}

#[test]
fn the_check_catches_a_leak() {
    // Guards the guard: each form it looks for is really found.
    let key = key();
    let forbidden = Forbidden::new(&key);
    let signature = key.sign(BODY);
    let leaks = [
        format!("secret={SECRET}"),
        format!("sig={}", signature.to_hex()),
        format!("SIG={}", signature.to_hex().as_str().to_ascii_uppercase()),
        format!("{:?}", signature.as_bytes()),
        format!("{:?}", SECRET.as_bytes()),
        format!("prefix {}", &signature.to_hex().as_str()[..16]),
    ];
    for leak in leaks {
        assert!(forbidden.leak(&leak).is_some(), "not caught: {leak}");
    }
    assert_eq!(forbidden.leak("Key(<redacted>) mismatch 401"), None);
}

#[test]
fn keys_and_signatures_are_redacted() {
    let key = key();
    let forbidden = Forbidden::new(&key);
    let signature = key.sign(BODY);
    let hex: HexSignature = signature.to_hex();
    let upper = hex.as_str().to_ascii_uppercase();
    let parsed = Signature::from_header(upper.as_bytes()).expect("valid header");
    assert_eq!(
        parsed, signature,
        "the header under test is the real signature"
    );

    forbidden.check_debug("Key", &key);
    forbidden.check_debug("Key clone", &key.clone());
    forbidden.check_debug("Signature", &signature);
    forbidden.check_debug("Signature from upper case", &parsed);
    forbidden.check_debug("HexSignature", &hex);
    forbidden.check_debug(
        "Result<Signature, _>",
        &Signature::from_header(hex.as_str().as_bytes()),
    );
    let raw = Signature::from_bytes([0xab; SIGNATURE_LEN]);
    let raw_debug = format!("{raw:?}");
    assert!(
        !raw_debug.contains("abab") && !raw_debug.contains("171"),
        "{raw_debug}"
    );
}

#[test]
fn verifiers_are_redacted_before_and_after_input() {
    let key = key();
    let forbidden = Forbidden::new(&key);
    let mut verifier = key.verifier();
    forbidden.check_debug("fresh Verifier", &verifier);
    verifier.update(BODY);
    forbidden.check_debug("fed Verifier", &verifier);
    let header = key.sign(BODY).to_hex();
    assert_eq!(verifier.verify(header.as_str().as_bytes()), Ok(()));
}

#[test]
fn errors_are_redacted() {
    let key = key();
    let forbidden = Forbidden::new(&key);
    let header = key.sign(BODY).to_hex();
    let mut wrong = header.as_str().as_bytes().to_vec();
    wrong[0] = if wrong[0] == b'f' { b'e' } else { b'f' };
    let malformed = &header.as_str().as_bytes()[..63];

    let errors = [
        RequestHead::new(None::<&[u8]>, None::<&[u8]>)
            .signature_error()
            .expect("missing"),
        key.verify(BODY, malformed).expect_err("malformed"),
        key.verify(BODY, &wrong).expect_err("mismatch"),
        key.verify(b"other body", header.as_str().as_bytes())
            .expect_err("mismatch"),
        signature_header_value([header.as_str().as_bytes(), &wrong]).expect_err("repeated"),
    ];
    assert_eq!(
        errors,
        [
            SignatureError::Missing,
            SignatureError::Malformed,
            SignatureError::Mismatch,
            SignatureError::Mismatch,
            SignatureError::Repeated,
        ]
    );
    for error in errors {
        forbidden.check_debug("SignatureError", &error);
        forbidden.check("SignatureError Display", &error.to_string());
    }
    let key_error: KeyError = Key::new("").expect_err("empty secret");
    forbidden.check_debug("KeyError", &key_error);
    forbidden.check("KeyError Display", &key_error.to_string());
}

#[cfg(feature = "alloc")]
mod with_alloc {
    use super::*;
    use protocol_webhooks::{Answer, Rejection, WebhookConfig};

    fn config() -> WebhookConfig {
        WebhookConfig::new(SECRET)
            .expect("non-empty secret")
            .with_secret(PREVIOUS_SECRET)
            .expect("non-empty secret")
            .with_body_limit(1024)
    }

    #[test]
    fn configs_verifiers_and_collectors_are_redacted() {
        let key = key();
        let forbidden = Forbidden::new(&key);
        let config = config();
        forbidden.check_debug("WebhookConfig", &config);
        forbidden.check_debug("WebhookConfig keys", &config.keys());
        forbidden.check_debug(
            "WebhookConfig::from_key",
            &WebhookConfig::from_key(key.clone()),
        );

        let mut verifier = config.verifier();
        verifier.update(BODY);
        forbidden.check_debug("rotation Verifier", &verifier);

        let header = key.sign(BODY).to_hex();
        let length = BODY.len().to_string();
        let head = RequestHead::new([length.as_str()], [header.as_str()]);
        forbidden.check_debug("RequestHead", &head);
        let mut collector = config.collect_body(head).expect("within limit");
        forbidden.check_debug("empty BodyCollector", &collector);
        collector.push(BODY).expect("within limit");
        forbidden.check_debug("full BodyCollector", &collector);
        let verified = collector.finish().expect("genuine");
        forbidden.check_debug("VerifiedBody", &verified);
        assert_eq!(verified.as_bytes(), BODY);
    }

    #[cfg(feature = "events")]
    fn invalid_event(config: &WebhookConfig, key: &Key) -> Option<Rejection> {
        let body = br#"{"id":"evt_1","type":"contact.created","payload":{"id":7}}"#;
        let genuine = key.sign(body).to_hex();
        config
            .verify_event(body, Some(genuine.as_str().as_bytes()))
            .err()
    }

    #[cfg(not(feature = "events"))]
    fn invalid_event(_: &WebhookConfig, _: &Key) -> Option<Rejection> {
        None
    }

    #[test]
    fn every_rejection_is_redacted() {
        let key = key();
        let forbidden = Forbidden::new(&key);
        let config = config();
        let header = key.sign(BODY).to_hex();
        let upper = header.as_str().to_ascii_uppercase();

        let collect = |body: &[u8], header: Option<&[u8]>| -> Rejection {
            let head = RequestHead::new(None::<&[u8]>, header);
            let mut collector = config.collect_body(head).expect("no declared length");
            match collector.push(body) {
                Ok(()) => collector.finish().expect_err("refused"),
                Err(rejection) => rejection,
            }
        };
        let rejections: Vec<Rejection> = [
            collect(BODY, None),
            collect(BODY, Some(&upper.as_bytes()[1..])),
            collect(b"tampered", Some(upper.as_bytes())),
            signature_header_value([header.as_str().as_bytes(), upper.as_bytes()])
                .expect_err("repeated")
                .into(),
            collect(&[0; 1025], Some(header.as_str().as_bytes())),
            config
                .collect_body(RequestHead::new(["4096"], None::<&[u8]>))
                .expect_err("declared too large"),
            Rejection::IncompleteBody,
        ]
        .into_iter()
        .chain(invalid_event(&config, &key))
        .collect();
        let mut reasons: Vec<&str> = rejections.iter().map(Rejection::reason).collect();
        reasons.dedup();
        let mut expected = vec![
            "signature_missing",
            "signature_malformed",
            "signature_mismatch",
            "signature_repeated",
            "payload_too_large",
            "incomplete_body",
        ];
        if cfg!(feature = "events") {
            expected.push("invalid_event");
        }
        assert_eq!(reasons, expected);

        for rejection in &rejections {
            let reason = rejection.reason();
            forbidden.check_debug(reason, rejection);
            forbidden.check(reason, &rejection.to_string());
        }
        for answer in rejections.into_iter().map(Answer::from) {
            let reason = answer.reason();
            forbidden.check_debug(reason, &answer);
            forbidden.check(reason, &answer.to_string());
            forbidden.check(reason, &answer.body());
        }
    }
}
