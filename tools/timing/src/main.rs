//! A dudect test of `Key::verify`: does rejecting a wrong signature take
//! longer when it differs from the right one late rather than early?
//!
//! A comparison that stops at the first differing byte answers a signature
//! wrong in its first byte sooner than one wrong in its last byte, which lets
//! an attacker recover a valid signature byte by byte from response times.
//! The two classes here are exactly those: over a fixed 1 KiB body, headers
//! whose tag differs from the correct one only in the first byte (left) or
//! only in the last byte (right), by a random non-zero XOR, drawn at random
//! and measured interleaved. Welch's t-test on the two timing distributions
//! (also on percentile-cropped copies, as dudect does) gives `max t`:
//! |t| < 4.5 is no evidence of a leak.
//!
//! Each sample draws afresh, between measurements: its class, one of
//! [`KEYS`] secrets, and the wrong byte's value, written into the same
//! buffer every time. With a single secret the classes would differ in more
//! than where they are wrong: every left header would end with that tag's
//! real last byte and every right header start with its real first byte.
//! Verification time depends a little on the header's characters, which are
//! public (digits-only against letters-only headers, both wrong everywhere,
//! can reach |t| over 30 on a loaded x86-64 machine), and one secret showed
//! |t| of 7 to 58 whose sign changed from run to run with the random tag.
//! Fixed pools of headers per class fail the same way more slowly: two pools
//! drawn alike (an A/A test) reached |t| of 10 over 10 million samples,
//! since each pool sits at its own addresses. Fresh draws from one secret
//! pool leave the classes differing only in where they are wrong.
//!
//! `--early-exit-control` times a byte-by-byte comparison that stops at the
//! first difference, after the same HMAC work, instead of `Key::verify`: it
//! must fail by far (|t| in the hundreds), showing the test can see the leak
//! it looks for.
//!
//! `cargo run --release -- [--samples N] [--early-exit-control]`, default
//! 1,000,000 measurements.

use std::io::{self, Write as _};
use std::process::ExitCode;
use std::sync::OnceLock;

use dudect_bencher::ctbench::{BenchMetadata, BenchName, BenchOpts, run_benches_console};
use dudect_bencher::rand::{Rng as _, RngExt as _};
use dudect_bencher::{BenchRng, Class, CtRunner};
use protocol_webhooks::{HexSignature, Key, SIGNATURE_LEN, Signature, SignatureError};

const DEFAULT_SAMPLES: usize = 1_000_000;
const BODY_LEN: usize = 1024;
/// Secrets drawn from per sample: enough that both classes see the same
/// header characters position by position (64 still left |t| up to 7).
const KEYS: usize = 1024;

/// What the command line asks for. The bench function is a plain `fn`
/// pointer, so this reaches it through a static set once in `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Options {
    samples: usize,
    early_exit_control: bool,
}

static OPTIONS: OnceLock<Options> = OnceLock::new();

const USAGE: &str = "usage: protocol-webhooks-timing [--samples N] [--early-exit-control]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    OPTIONS.get_or_init(|| options);
    let bench = if options.early_exit_control {
        BenchMetadata {
            name: BenchName("control_early_exit_compare_wrong_first_byte_vs_wrong_last_byte"),
            seed: None,
            benchfn: control_early_exit_compare,
        }
    } else {
        BenchMetadata {
            name: BenchName("verify_wrong_first_byte_vs_wrong_last_byte"),
            seed: None,
            benchfn: verify_wrong_first_byte_vs_wrong_last_byte,
        }
    };
    if let Err(error) = run_benches_console(BenchOpts::default(), vec![bench]) {
        eprintln!("cannot print the results: {error}");
        return ExitCode::FAILURE;
    }
    // A stable line for `cargo xtask timing`, next to dudect's own, whose
    // `n` counts only the samples of the test that gave the largest |t|.
    match writeln!(io::stdout().lock(), "timed samples: {}", options.samples) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        samples: DEFAULT_SAMPLES,
        early_exit_control: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--early-exit-control" => options.early_exit_control = true,
            "--samples" => {
                let value = args.next().ok_or("--samples needs a value")?;
                options.samples = value
                    .parse::<usize>()
                    .ok()
                    // Welch's t-test needs several samples in each class.
                    .filter(|&n| n >= 100)
                    .ok_or_else(|| {
                        format!("--samples needs a number of at least 100, got `{value}`")
                    })?;
            }
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    Ok(options)
}

/// What every sample draws from: the body, the secrets and their tags.
struct Setup {
    body: [u8; BODY_LEN],
    keys: Vec<Key>,
    tags: Vec<[u8; SIGNATURE_LEN]>,
    /// Each tag's header, the starting point of every wrong header.
    correct: Vec<HexSignature>,
}

impl Setup {
    fn new(rng: &mut BenchRng) -> Self {
        let mut body = [0u8; BODY_LEN];
        rng.fill_bytes(&mut body);
        let keys: Vec<Key> = (0..KEYS)
            .map(|_| {
                let mut secret = [0u8; 32];
                rng.fill_bytes(&mut secret);
                Key::new(secret).expect("the secret is non-empty")
            })
            .collect();
        let tags: Vec<[u8; SIGNATURE_LEN]> =
            keys.iter().map(|key| *key.sign(&body).as_bytes()).collect();
        let correct = tags
            .iter()
            .map(|tag| Signature::from_bytes(*tag).to_hex())
            .collect();
        let setup = Self {
            body,
            keys,
            tags,
            correct,
        };
        // Both classes must take the rejection path being measured.
        let mut header = [0u8; 2 * SIGNATURE_LEN];
        for _ in 0..1000 {
            let (_, key) = setup.draw(rng, &mut header);
            assert_eq!(
                setup.keys[key].verify(&setup.body, &header),
                Err(SignatureError::Mismatch)
            );
        }
        setup
    }

    /// Writes one sample's header into `header`: the tag of a random secret
    /// with a random non-zero change in its first byte (left) or its last
    /// (right). Returns the class and the secret's index.
    fn draw(&self, rng: &mut BenchRng, header: &mut [u8; 2 * SIGNATURE_LEN]) -> (Class, usize) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let (class, wrong) = if rng.random::<bool>() {
            (Class::Left, 0)
        } else {
            (Class::Right, SIGNATURE_LEN - 1)
        };
        let key = rng.random_range(0..KEYS);
        let byte = self.tags[key][wrong] ^ rng.random_range(1..=u8::MAX);
        header.copy_from_slice(self.correct[key].as_str().as_bytes());
        header[2 * wrong] = DIGITS[usize::from(byte >> 4)];
        header[2 * wrong + 1] = DIGITS[usize::from(byte & 0x0f)];
        (class, key)
    }
}

fn samples() -> usize {
    OPTIONS
        .get()
        .map_or(DEFAULT_SAMPLES, |options| options.samples)
}

fn verify_wrong_first_byte_vs_wrong_last_byte(runner: &mut CtRunner, rng: &mut BenchRng) {
    let setup = Setup::new(rng);
    let mut header = [0u8; 2 * SIGNATURE_LEN];
    for _ in 0..samples() {
        let (class, key) = setup.draw(rng, &mut header);
        let (key, body, header) = (&setup.keys[key], &setup.body, &header);
        runner.run_one(class, || key.verify(body, header));
    }
}

fn control_early_exit_compare(runner: &mut CtRunner, rng: &mut BenchRng) {
    let setup = Setup::new(rng);
    let mut header = [0u8; 2 * SIGNATURE_LEN];
    for _ in 0..samples() {
        let (class, key) = setup.draw(rng, &mut header);
        let (key, body, header) = (&setup.keys[key], &setup.body, &header);
        runner.run_one(class, || {
            let expected = key.sign(body);
            let received = Signature::from_header(header);
            received.is_ok_and(|received| {
                // The leak the real test looks for: stop at the first
                // differing byte. `black_box` keeps the compiler from
                // turning the loop into one wide comparison.
                let (received, expected) = (received.as_bytes(), expected.as_bytes());
                let mut at = 0;
                while at < SIGNATURE_LEN && core::hint::black_box(received[at]) == expected[at] {
                    at += 1;
                }
                at == SIGNATURE_LEN
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let args = |list: &[&str]| list.iter().map(ToString::to_string).collect::<Vec<_>>();
        let default = Options {
            samples: DEFAULT_SAMPLES,
            early_exit_control: false,
        };
        assert_eq!(parse_args(&args(&[])), Ok(default));
        assert_eq!(
            parse_args(&args(&["--samples", "5000", "--early-exit-control"])),
            Ok(Options {
                samples: 5000,
                early_exit_control: true
            })
        );
        assert!(parse_args(&args(&["--samples", "10"])).is_err());
        assert!(parse_args(&args(&["--samples"])).is_err());
        assert!(parse_args(&args(&["--seconds", "5"])).is_err());
    }
}
