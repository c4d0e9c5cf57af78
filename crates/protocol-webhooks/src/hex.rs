//! Fixed-size hexadecimal encoding and decoding without allocation.
//!
//! The header being decoded is public, attacker-chosen input, so a table
//! lookup indexed by its bytes leaks nothing; the secret-dependent step, the
//! comparison with the expected tag, happens elsewhere in constant time.
//! The loop still has no early exit, so every header of the right length
//! costs the same.

/// Marks a byte that is not a hex digit. Valid digit values fit in the low
/// nibble, so any high bit set after OR-ing lookups means "invalid".
const INVALID: u8 = 0xf0;

/// Hex digit values by ASCII byte, both cases.
const DIGIT_VALUES: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Decodes exactly `2 * N` hexadecimal digits (either case) into `N` bytes.
///
/// Returns `None` for any other length or for any non-hex character.
pub(crate) fn decode<const N: usize>(input: &[u8]) -> Option<[u8; N]> {
    if input.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    let mut flags = 0u8;
    for (byte, pair) in out.iter_mut().zip(input.chunks_exact(2)) {
        let high = DIGIT_VALUES[usize::from(pair[0])];
        let low = DIGIT_VALUES[usize::from(pair[1])];
        flags |= high | low;
        *byte = (high << 4) | (low & 0x0f);
    }
    (flags & INVALID == 0).then_some(out)
}

/// Encodes `N` bytes as `2 * N` lower-case hexadecimal ASCII digits into `out`.
pub(crate) fn encode_lower(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_both_cases() {
        assert_eq!(decode::<2>(b"0aFf"), Some([0x0a, 0xff]));
        assert_eq!(decode::<2>(b"AbCd"), Some([0xab, 0xcd]));
    }

    #[test]
    fn rejects_every_non_hex_byte() {
        for byte in 0u8..=255 {
            let expected_valid = byte.is_ascii_hexdigit();
            let input = [b'0', byte];
            assert_eq!(
                decode::<1>(&input).is_some(),
                expected_valid,
                "byte {byte:#04x}"
            );
        }
    }

    #[test]
    fn decodes_every_value() {
        for value in 0u8..=255 {
            let mut lower = [0u8; 2];
            encode_lower(&[value], &mut lower);
            assert_eq!(decode::<1>(&lower), Some([value]));
            let upper = lower.map(|c| c.to_ascii_uppercase());
            assert_eq!(decode::<1>(&upper), Some([value]));
        }
    }

    #[test]
    fn rejects_wrong_lengths() {
        assert_eq!(decode::<1>(b""), None);
        assert_eq!(decode::<1>(b"0"), None);
        assert_eq!(decode::<1>(b"000"), None);
    }
}
