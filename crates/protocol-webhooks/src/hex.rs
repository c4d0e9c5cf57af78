//! Fixed-size hexadecimal encoding and decoding without allocation.
//!
//! Decoding is branch-free over the digit values so that the time it takes
//! does not depend on which characters a header contains.

/// Decodes exactly `2 * N` hexadecimal digits (either case) into `N` bytes.
///
/// Returns `None` for any other length or for any non-hex character.
pub(crate) fn decode<const N: usize>(input: &[u8]) -> Option<[u8; N]> {
    if input.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    let mut invalid = 0u8;
    for (byte, pair) in out.iter_mut().zip(input.chunks_exact(2)) {
        let (high, high_invalid) = nibble(pair[0]);
        let (low, low_invalid) = nibble(pair[1]);
        *byte = (high << 4) | low;
        invalid |= high_invalid | low_invalid;
    }
    (invalid == 0).then_some(out)
}

/// Maps one ASCII hex digit to its value; the second element is non-zero for
/// a non-hex character.
#[inline(always)]
fn nibble(c: u8) -> (u8, u8) {
    let digit = c.wrapping_sub(b'0');
    // Folding to lower case only affects letters; digits and other bytes are
    // caught by the range masks below.
    let letter = (c | 0x20).wrapping_sub(b'a');
    let is_digit = mask_lt(digit, 10);
    let is_letter = mask_lt(letter, 6);
    let value = (digit & is_digit) | (letter.wrapping_add(10) & is_letter);
    (value, !(is_digit | is_letter))
}

/// `0xff` when `value < bound`, else `0x00`, computed without branching.
#[inline(always)]
fn mask_lt(value: u8, bound: u8) -> u8 {
    // The subtraction borrows into the high byte exactly when value < bound.
    (u16::from(value).wrapping_sub(u16::from(bound)) >> 8) as u8
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
