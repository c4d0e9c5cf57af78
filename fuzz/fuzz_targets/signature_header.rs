//! `Signature::from_header` on arbitrary bytes: it accepts exactly the
//! values of 64 ASCII hex digits, decodes them as an independent decoder
//! does, and its hex form is the input in lower case.

#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol_webhooks::{Signature, SignatureError};
use protocol_webhooks_fuzz::is_64_hex_digits;

fuzz_target!(|data: &[u8]| {
    let parsed = Signature::from_header(data);
    let Ok(signature) = parsed else {
        assert!(!is_64_hex_digits(data), "refused a valid header: {data:?}");
        assert_eq!(parsed, Err(SignatureError::Malformed));
        return;
    };
    assert!(
        is_64_hex_digits(data),
        "accepted an invalid header: {data:?}"
    );

    // The core decodes without branching on digit values; a plain
    // `from_str_radix` decoder is the reference it must agree with.
    let text = core::str::from_utf8(data).expect("hex digits are ASCII");
    let reference: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex pair"))
        .collect();
    assert_eq!(signature.as_bytes().as_slice(), reference.as_slice());

    let hex = signature.to_hex();
    assert_eq!(hex.as_str(), text.to_ascii_lowercase());
    assert_eq!(
        Signature::from_header(hex.as_str().as_bytes()),
        Ok(signature.clone())
    );
    assert_eq!(text.parse::<Signature>(), Ok(signature));
});
