//! A receiver written by hand, without this library, doing the same checks
//! as `Webhook`: the body limit, exactly one `x-protocol-signature` of 64
//! hex digits, HMAC-SHA256 of the raw body compared in constant time (the
//! `hmac` crate, keyed once), then the JSON envelope parsed with
//! `serde_json`, its payload kept as a `serde_json::Value`: what a careful
//! user writes when they do not use an adapter. The load test's
//! `/hand-written` route runs it in every framework.

use core::hint::black_box;
use std::sync::LazyLock;

use hmac::{KeyInit as _, Mac as _};
use serde::Deserialize;

use crate::SECRET;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The body limit, the same as the adapters' default.
const LIMIT: usize = protocol_webhooks::DEFAULT_BODY_LIMIT;

/// Keyed once, cloned per request, as the `hmac` documentation advises.
static KEYED: LazyLock<HmacSha256> = LazyLock::new(|| {
    HmacSha256::new_from_slice(SECRET.as_bytes()).expect("HMAC takes a key of any length")
});

/// A Protocol webhook as a hand-written receiver models it.
#[derive(Debug, Deserialize)]
#[allow(dead_code)] // read by the handler in a real receiver
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    payload: serde_json::Value,
}

/// The status for a request carrying `signatures` (every value of the
/// header) and `body`: 200, or 413, 401 or 400 as `Webhook` answers.
pub fn status<'a>(mut signatures: impl Iterator<Item = &'a [u8]>, body: &[u8]) -> u16 {
    if body.len() > LIMIT {
        return 413;
    }
    let (Some(signature), None) = (signatures.next(), signatures.next()) else {
        return 401;
    };
    let Some(tag) = decode_hex(signature) else {
        return 401;
    };
    let mut mac = KEYED.clone();
    mac.update(body);
    if mac.verify_slice(&tag).is_err() {
        return 401;
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) => {
            black_box(envelope);
            200
        }
        Err(_) => 400,
    }
}

/// 64 hex digits, either case, into the 32-byte tag.
fn decode_hex(text: &[u8]) -> Option<[u8; 32]> {
    fn digit(byte: u8) -> Option<u8> {
        char::from(byte)
            .to_digit(16)
            .and_then(|value| u8::try_from(value).ok())
    }
    if text.len() != 64 {
        return None;
    }
    let mut tag = [0; 32];
    for (byte, pair) in tag.iter_mut().zip(text.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::Signed;

    #[test]
    fn answers_as_the_adapters_do() {
        let signed = Signed::new();
        let valid = signed.signature.as_bytes();
        assert_eq!(status([valid].into_iter(), &signed.body), 200);
        assert_eq!(status([valid, valid].into_iter(), &signed.body), 401);
        assert_eq!(status(core::iter::empty(), &signed.body), 401);
        assert_eq!(status([&valid[1..]].into_iter(), &signed.body), 401);
        assert_eq!(status([valid].into_iter(), b"{}"), 401);
        let upper = signed.signature.to_ascii_uppercase();
        assert_eq!(status([upper.as_bytes()].into_iter(), &signed.body), 200);
        let not_json = protocol_webhooks::sign(SECRET, b"[").expect("key").to_hex();
        assert_eq!(
            status([not_json.as_str().as_bytes()].into_iter(), b"["),
            400
        );
    }
}
