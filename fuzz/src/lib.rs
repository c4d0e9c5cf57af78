//! Inputs and oracles shared by the fuzz targets and the seed generator.
//!
//! The structured targets decode their bytes with `arbitrary`. [`Encoder`]
//! writes an input back into the bytes that decode to it, so that the
//! committed seeds start the fuzzer from real webhooks (signed with the right
//! secret, with the right header) instead of from noise that almost never
//! carries a valid HMAC.

use arbitrary::{Arbitrary, Unstructured};
use protocol_webhooks::Answer;
use serde_json::Value;

/// Input of the `verify` target.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub struct VerifyInput<'a> {
    /// Send the signature computed for `body` instead of `header`.
    pub use_correct: bool,
    /// Send that signature in upper case.
    pub upper_case: bool,
    /// Where the incremental verifier splits the body, modulo its length + 1.
    pub split: u16,
    /// The webhook secret.
    pub secret: &'a [u8],
    /// The header value sent when `use_correct` is false.
    pub header: &'a [u8],
    /// The request body.
    pub body: &'a [u8],
}

/// Which header value the `verify_then_parse` target sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum HeaderChoice {
    /// The signature computed for the body, in lower case.
    CorrectLower,
    /// The signature computed for the body, in upper case.
    CorrectUpper,
    /// No header at all.
    Missing,
    /// The input's `header` bytes.
    Given,
}

impl HeaderChoice {
    /// Every choice, in declaration order (the order `arbitrary` numbers them).
    pub const ALL: [Self; 4] = [
        Self::CorrectLower,
        Self::CorrectUpper,
        Self::Missing,
        Self::Given,
    ];
}

/// Input of the `verify_then_parse` target.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub struct VerifyThenParseInput<'a> {
    /// The header to send.
    pub header_choice: HeaderChoice,
    /// `Some(n)` sets a body limit of `n % SMALL_LIMIT_MODULUS` bytes, small
    /// enough for fuzzed bodies to cross it; `None` keeps the 1 MiB default.
    pub small_limit: Option<u16>,
    /// The webhook secret.
    pub secret: &'a [u8],
    /// The header value sent with [`HeaderChoice::Given`].
    pub header: &'a [u8],
    /// The request body.
    pub body: &'a [u8],
}

/// Small limits range over `0..SMALL_LIMIT_MODULUS` bytes.
pub const SMALL_LIMIT_MODULUS: usize = 2048;

impl VerifyThenParseInput<'_> {
    /// The body limit this input configures.
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.small_limit
            .map_or(protocol_webhooks::DEFAULT_BODY_LIMIT, |n| {
                usize::from(n) % SMALL_LIMIT_MODULUS
            })
    }
}

/// Whether `value` is what the header accepts: exactly 64 ASCII hex digits.
#[must_use]
pub fn is_64_hex_digits(value: &[u8]) -> bool {
    value.len() == 64 && value.iter().all(u8::is_ascii_hexdigit)
}

/// Checks what every rejection must answer: a status of 400, 401 or 413 and
/// Protocol's error body as valid JSON whose message is the `Display` text.
///
/// # Panics
/// When any of that does not hold: this is a fuzz oracle.
pub fn check_rejection_body(rejection: &Answer) {
    assert!(
        matches!(rejection.status(), 400 | 401 | 413),
        "status {} for {rejection:?}",
        rejection.status()
    );
    let body = rejection.body();
    let value: Value = serde_json::from_str(&body)
        .unwrap_or_else(|error| panic!("rejection body is not JSON ({error}): {body}"));
    assert_eq!(value["type"], "invalid_request", "{body}");
    assert_eq!(
        value["message"].as_str(),
        Some(rejection.to_string().as_str()),
        "{body}"
    );
}

/// JSON equality that lets floating-point numbers differ in the last bits.
///
/// serde_json's default float parser is fast rather than correctly rounded:
/// about a third of all doubles written out and parsed again land one or two
/// units in the last place away. That is serde_json's documented trade-off
/// (its `float_roundtrip` feature is off), not a fault of the model code
/// that the typed round trip checks, so up to [`MAX_FLOAT_ULPS`] apart is
/// equal here.
#[must_use]
pub fn same_json(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(l), Value::Number(r)) => {
            if l == r {
                return true;
            }
            match (l.as_f64(), r.as_f64()) {
                (Some(l), Some(r)) => ulps_apart(l, r) <= MAX_FLOAT_ULPS,
                _ => false,
            }
        }
        (Value::Array(l), Value::Array(r)) => {
            l.len() == r.len() && l.iter().zip(r).all(|(l, r)| same_json(l, r))
        }
        (Value::Object(l), Value::Object(r)) => {
            l.len() == r.len()
                && l.iter()
                    .all(|(key, l)| r.get(key).is_some_and(|r| same_json(l, r)))
        }
        _ => left == right,
    }
}

/// Units in the last place two doubles may differ by in [`same_json`]:
/// twice the largest drift seen over two million random doubles.
pub const MAX_FLOAT_ULPS: u64 = 4;

/// How many representable doubles apart `l` and `r` are. Counting in the
/// bit patterns keeps subnormals, where a relative tolerance fails, exact.
fn ulps_apart(l: f64, r: f64) -> u64 {
    if l.is_sign_negative() != r.is_sign_negative() {
        // Only the two zeros are equal across signs.
        return if l == r { 0 } else { u64::MAX };
    }
    l.to_bits().abs_diff(r.to_bits())
}

/// One step of an input as `arbitrary` consumes it.
#[derive(Debug, Clone)]
enum Step {
    /// Bytes read from the front: scalars, enum tags.
    Front(Vec<u8>),
    /// A byte slice: its length is read from the back, its bytes from the front.
    Slice(Vec<u8>),
}

/// Writes values in the order a derived `Arbitrary` reads them, producing the
/// bytes that decode to those values.
///
/// Only what the inputs above use is supported. The result is only as right
/// as this model of `arbitrary`'s format, so [`Encoder::finish`] callers check
/// it by decoding (see `generate-seeds`).
#[derive(Debug, Clone, Default)]
pub struct Encoder {
    steps: Vec<Step>,
}

impl Encoder {
    /// A `bool`: one byte, true when odd.
    #[must_use]
    pub fn bool(mut self, value: bool) -> Self {
        self.steps.push(Step::Front(vec![u8::from(value)]));
        self
    }

    /// A `u16`: two bytes, little-endian.
    #[must_use]
    pub fn u16(mut self, value: u16) -> Self {
        self.steps.push(Step::Front(value.to_le_bytes().to_vec()));
        self
    }

    /// An `Option<u16>`: a `bool`, then the value when `Some`.
    #[must_use]
    pub fn option_u16(self, value: Option<u16>) -> Self {
        match value {
            Some(value) => self.bool(true).u16(value),
            None => self.bool(false),
        }
    }

    /// A field-less enum variant: a `u32` scaled onto the variant count as
    /// `(tag * count) >> 32`, so the smallest tag that maps to `index`.
    ///
    /// # Panics
    /// When `index` is not below `count`.
    #[must_use]
    pub fn variant(mut self, index: usize, count: usize) -> Self {
        assert!(index < count, "variant {index} of {count}");
        let (index, count) = (index as u64, count as u64);
        let tag = u32::try_from((index << 32).div_ceil(count)).unwrap_or(u32::MAX);
        self.steps.push(Step::Front(tag.to_le_bytes().to_vec()));
        self
    }

    /// A `&[u8]` that is not the last field.
    #[must_use]
    pub fn slice(mut self, bytes: &[u8]) -> Self {
        self.steps.push(Step::Slice(bytes.to_vec()));
        self
    }

    /// The last field, which takes the rest of the input, and the encoding.
    #[must_use]
    pub fn finish(self, rest: &[u8]) -> Vec<u8> {
        let payload: usize = self
            .steps
            .iter()
            .map(|step| match step {
                Step::Front(bytes) | Step::Slice(bytes) => bytes.len(),
            })
            .sum::<usize>()
            + rest.len();
        // Each length's width depends on how much input is left when it is
        // read, which depends on the widths: iterate to the fixed point.
        let slices = self
            .steps
            .iter()
            .filter(|step| matches!(step, Step::Slice(_)))
            .count();
        let mut widths = vec![1usize; slices];
        loop {
            let total = payload + widths.iter().sum::<usize>();
            let next = self.length_widths(total);
            if next == widths {
                break;
            }
            widths = next;
        }
        let total = payload + widths.iter().sum::<usize>();

        let mut front = Vec::with_capacity(total);
        let mut back: Vec<Vec<u8>> = Vec::with_capacity(slices);
        let mut remaining = total;
        for step in &self.steps {
            match step {
                Step::Front(bytes) => {
                    front.extend_from_slice(bytes);
                    remaining -= bytes.len();
                }
                Step::Slice(bytes) => {
                    let width = length_width(remaining);
                    remaining -= width;
                    back.push(encode_length(bytes.len(), remaining, width));
                    front.extend_from_slice(bytes);
                    remaining -= bytes.len();
                }
            }
        }
        front.extend_from_slice(rest);
        // The first length read is the last bytes of the input.
        for length in back.iter().rev() {
            front.extend_from_slice(length);
        }
        front
    }

    fn length_widths(&self, total: usize) -> Vec<usize> {
        let mut remaining = total;
        let mut widths = Vec::new();
        for step in &self.steps {
            match step {
                Step::Front(bytes) => remaining = remaining.saturating_sub(bytes.len()),
                Step::Slice(bytes) => {
                    let width = length_width(remaining);
                    widths.push(width);
                    remaining = remaining.saturating_sub(width + bytes.len());
                }
            }
        }
        widths
    }
}

/// How many bytes `arbitrary` takes from the back for a length when
/// `remaining` bytes are left.
fn length_width(remaining: usize) -> usize {
    match remaining as u64 {
        0 => 0,
        1..=0x100 => 1,
        0x101..=0x1_0001 => 2,
        0x1_0002..=0x1_0000_0003 => 4,
        _ => 8,
    }
}

/// The `width` bytes that decode to `length` when at most `max` is allowed.
///
/// `arbitrary` reads the bytes big-endian but stops as soon as the bytes
/// read cover `max`, so the value goes into that many leading bytes.
fn encode_length(length: usize, max: usize, width: usize) -> Vec<u8> {
    let used = (1..=width)
        .find(|&bytes| bytes == 8 || (max as u64) >> (8 * bytes) == 0)
        .unwrap_or(width);
    let mut out = vec![0u8; width];
    let be = (length as u64).to_be_bytes();
    out[..used].copy_from_slice(&be[8 - used..]);
    out
}

/// Decodes `bytes` as a fuzz target does, for checking encoded seeds.
///
/// # Errors
/// The `arbitrary` error when the bytes do not decode.
pub fn decode<'a, T: Arbitrary<'a>>(bytes: &'a [u8]) -> arbitrary::Result<T> {
    T::arbitrary_take_rest(Unstructured::new(bytes))
}

/// The bytes that decode to `input`.
#[must_use]
pub fn encode_verify(input: &VerifyInput<'_>) -> Vec<u8> {
    Encoder::default()
        .bool(input.use_correct)
        .bool(input.upper_case)
        .u16(input.split)
        .slice(input.secret)
        .slice(input.header)
        .finish(input.body)
}

/// The bytes that decode to `input`.
#[must_use]
pub fn encode_verify_then_parse(input: &VerifyThenParseInput<'_>) -> Vec<u8> {
    let index = HeaderChoice::ALL
        .iter()
        .position(|choice| *choice == input.header_choice)
        .unwrap_or_default();
    Encoder::default()
        .variant(index, HeaderChoice::ALL.len())
        .option_u16(input.small_limit)
        .slice(input.secret)
        .slice(input.header)
        .finish(input.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_inputs_decode_to_themselves() {
        let long_body = vec![b'x'; 70_000];
        let bodies: [&[u8]; 5] = [b"", b"{}", &[0u8; 255], &[7u8; 300], &long_body];
        for body in bodies {
            for secret in [&b"s"[..], &[b'k'; 200][..], b""] {
                for header in [&b""[..], &[b'a'; 64][..], &[b'z'; 255][..]] {
                    let input = VerifyInput {
                        use_correct: true,
                        upper_case: false,
                        split: 513,
                        secret,
                        header,
                        body,
                    };
                    let bytes = encode_verify(&input);
                    assert_eq!(decode::<VerifyInput<'_>>(&bytes).ok(), Some(input));
                    for header_choice in HeaderChoice::ALL {
                        for small_limit in [None, Some(0), Some(u16::MAX)] {
                            let input = VerifyThenParseInput {
                                header_choice,
                                small_limit,
                                secret,
                                header,
                                body,
                            };
                            let bytes = encode_verify_then_parse(&input);
                            assert_eq!(
                                decode::<VerifyThenParseInput<'_>>(&bytes).ok(),
                                Some(input)
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn floats_may_differ_in_the_last_bits_only() {
        let a: Value = serde_json::json!({"x": [1.0, 0.1]});
        let b: Value = serde_json::json!({"x": [1.0, f64::from_bits(0.1f64.to_bits() + 2)]});
        let c: Value = serde_json::json!({"x": [1.0, 0.2]});
        assert!(same_json(&a, &b));
        assert!(!same_json(&a, &c));
        assert!(!same_json(&serde_json::json!(1), &serde_json::json!("1")));
        let tiny = f64::from_bits(3);
        assert!(same_json(
            &serde_json::json!(tiny),
            &serde_json::json!(f64::from_bits(5))
        ));
        assert!(!same_json(
            &serde_json::json!(tiny),
            &serde_json::json!(-tiny)
        ));
        assert!(same_json(&serde_json::json!(0.0), &serde_json::json!(-0.0)));
    }
}
