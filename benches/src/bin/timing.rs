//! A dudect test of `Key::verify`: does rejecting a wrong signature take
//! longer when it differs from the right one late rather than early?
//! `cargo xtask timing [--samples N] [--early-exit-control]` runs it in
//! release.
//!
//! A comparison that stops at the first differing byte answers a signature
//! wrong in its first byte sooner than one wrong in its last byte, which lets
//! an attacker recover a valid signature byte by byte from response times.
//! The two classes here are exactly those: over a fixed 1 KiB body, headers
//! whose tag differs from the correct one only in the first byte (left) or
//! only in the last byte (right), by a random non-zero XOR, drawn at random
//! and measured interleaved. Welch's t-test on the two timing distributions
//! (also on percentile-cropped copies, as dudect does) gives `max t`:
//! |t| below 4.5 is no evidence of a leak, and the test fails at 4.5 or
//! more. A loaded machine adds noise to both classes alike, which widens
//! the spread rather than the t statistic, but a failure is worth a rerun on
//! a quiet machine before it is believed.
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
//! dudect only prints its statistics, so the verdict is read from its
//! report: this binary runs itself with `--report-only` and reads what that
//! run prints, passing every line on.

#![forbid(unsafe_code)]

use core::fmt;
use std::io::{self, BufRead as _, BufReader, Write as _};
use std::process::{Command, ExitCode, Stdio};
use std::sync::OnceLock;

use dudect_bencher::ctbench::{BenchMetadata, BenchName, BenchOpts, run_benches_console};
use dudect_bencher::rand::{Rng as _, RngExt as _};
use dudect_bencher::{BenchRng, Class, CtRunner};
use protocol_webhooks::{HexSignature, Key, SIGNATURE_LEN, Signature, SignatureError};

/// Enough for the t statistic to settle; about 15 s in release on a shared
/// two-core machine.
const DEFAULT_SAMPLES: usize = 2_000_000;
/// Welch's t-test needs several samples in each class.
const MIN_SAMPLES: usize = 100;
const BODY_LEN: usize = 1024;
/// Secrets drawn from per sample: enough that both classes see the same
/// header characters position by position (64 still left |t| up to 7).
const KEYS: usize = 1024;

/// dudect's threshold: above it the two classes' timings differ.
const T_THRESHOLD: f64 = 4.5;

const USAGE: &str = "usage: cargo xtask timing [--samples N] [--early-exit-control] [--report-only]
  --samples N           timed calls (default 2000000, at least 100)
  --early-exit-control  time a comparison that stops at the first differing
                        byte instead: the test must find that leak
  --report-only         print dudect's report without judging it";

/// What the command line asks for. The bench function is a plain `fn`
/// pointer, so this reaches it through a static set once in `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Options {
    samples: usize,
    early_exit_control: bool,
}

static OPTIONS: OnceLock<Options> = OnceLock::new();

fn main() -> ExitCode {
    let mut args = pico_args::Arguments::from_env();
    if args.contains(["-h", "--help"]) {
        return print(&format!("{USAGE}\n"));
    }
    let report_only = args.contains("--report-only");
    let early_exit_control = args.contains("--early-exit-control");
    let samples = match args.opt_value_from_fn("--samples", samples) {
        Ok(samples) => samples.unwrap_or(DEFAULT_SAMPLES),
        Err(error) => return usage(&error.to_string()),
    };
    if let Some(arg) = args.finish().first() {
        return usage(&format!("unknown argument `{}`", arg.to_string_lossy()));
    }
    let options = Options {
        samples,
        early_exit_control,
    };
    if report_only {
        report(options)
    } else {
        judge(options)
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("timing: {message}\n{USAGE}");
    ExitCode::from(2)
}

fn samples(text: &str) -> Result<usize, String> {
    let samples = text.parse().ok().filter(|&samples| samples >= MIN_SAMPLES);
    samples.ok_or_else(|| format!("expected a number of at least {MIN_SAMPLES}"))
}

/// Prints on stdout, where the report goes; failing to is a failure.
fn print(text: &str) -> ExitCode {
    match io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("timing: cannot print: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs dudect and prints its report, then the `timed samples` line.
fn report(options: Options) -> ExitCode {
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
        eprintln!("timing: cannot print the results: {error}");
        return ExitCode::FAILURE;
    }
    // A stable line for the verdict, next to dudect's own, whose `n` counts
    // only the samples of the test that gave the largest |t|.
    print(&format!("timed samples: {}\n", options.samples))
}

/// Runs the report in a child process, passes its lines on, and judges it.
fn judge(options: Options) -> ExitCode {
    let mut child = match std::env::current_exe().and_then(|this| {
        let mut command = Command::new(this);
        command.args(["--report-only", "--samples", &options.samples.to_string()]);
        if options.early_exit_control {
            command.arg("--early-exit-control");
        }
        command.stdin(Stdio::null()).stdout(Stdio::piped()).spawn()
    }) {
        Ok(child) => child,
        Err(error) => {
            eprintln!("timing: cannot start the measuring run: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut lines = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        let mut echo = io::stdout();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // The report stays visible; losing it is harmless.
            let _ = writeln!(echo, "{line}");
            lines.push(line);
        }
    }
    match child.wait() {
        Ok(status) if status.success() => {}
        Ok(status) => {
            eprintln!("timing: the measuring run failed ({status})");
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!("timing: cannot wait for the measuring run: {error}");
            return ExitCode::FAILURE;
        }
    }
    match parse_output(&lines) {
        None => {
            eprintln!("timing: the timing test printed no `max t` result");
            ExitCode::FAILURE
        }
        Some(verdict) if verdict.passes() => print(&format!(
            "timing: {verdict}: |t| < {T_THRESHOLD}, no evidence of a timing leak\n"
        )),
        Some(verdict) => {
            eprintln!("timing: {}", verdict.leak());
            ExitCode::FAILURE
        }
    }
}

/// The result of one run.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Verdict {
    /// The largest |t| over dudect's tests, with its sign.
    max_t: f64,
    /// Samples in the test that gave `max_t` (dudect crops outliers).
    samples_in_test: u64,
    /// All timed samples.
    timed_samples: Option<u64>,
}

impl Verdict {
    fn passes(&self) -> bool {
        self.max_t.abs() < T_THRESHOLD
    }

    fn leak(&self) -> String {
        format!(
            "{self}: |t| >= {T_THRESHOLD}, the time to reject depends on where the \
             signature is wrong; rerun on a quiet machine to rule out noise"
        )
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "max t = {:+.3}", self.max_t)?;
        match self.timed_samples {
            Some(total) => write!(
                f,
                " over {total} timed samples ({} in the test with the largest |t|)",
                self.samples_in_test
            ),
            None => write!(f, " over {} samples", self.samples_in_test),
        }
    }
}

/// Reads dudect's result line,
/// `bench NAME ... : n == +0.998M, max t = +1.23456, max tau = ...`,
/// and the `timed samples: N` line.
fn parse_output(lines: &[String]) -> Option<Verdict> {
    let mut verdict = None;
    let mut timed_samples = None;
    for line in lines {
        if let Some(count) = line.strip_prefix("timed samples:") {
            timed_samples = count.trim().parse().ok();
        }
        let Some((_, result)) = line.split_once(": n == ") else {
            continue;
        };
        let mut fields = result.split(", ");
        let millions: f64 = fields.next()?.trim().trim_end_matches('M').parse().ok()?;
        let max_t: f64 = fields
            .next()?
            .strip_prefix("max t = ")?
            .trim()
            .parse()
            .ok()?;
        verdict = Some(Verdict {
            max_t,
            // dudect prints the count in millions with three decimals.
            samples_in_test: (millions * 1e6).round() as u64,
            timed_samples: None,
        });
    }
    verdict.map(|verdict| Verdict {
        timed_samples,
        ..verdict
    })
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

fn sample_count() -> usize {
    OPTIONS
        .get()
        .map_or(DEFAULT_SAMPLES, |options| options.samples)
}

fn verify_wrong_first_byte_vs_wrong_last_byte(runner: &mut CtRunner, rng: &mut BenchRng) {
    let setup = Setup::new(rng);
    let mut header = [0u8; 2 * SIGNATURE_LEN];
    for _ in 0..sample_count() {
        let (class, key) = setup.draw(rng, &mut header);
        let (key, body, header) = (&setup.keys[key], &setup.body, &header);
        runner.run_one(class, || key.verify(body, header));
    }
}

fn control_early_exit_compare(runner: &mut CtRunner, rng: &mut BenchRng) {
    let setup = Setup::new(rng);
    let mut header = [0u8; 2 * SIGNATURE_LEN];
    for _ in 0..sample_count() {
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

    fn strings(lines: &[&str]) -> Vec<String> {
        lines.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn sample_counts() {
        assert_eq!(samples("5000"), Ok(5000));
        assert_eq!(samples("100"), Ok(100));
        assert!(samples("10").is_err() && samples("many").is_err());
    }

    #[test]
    fn reads_dudects_result_line() {
        let output = strings(&[
            "",
            "running 1 bench",
            "bench verify_wrong_first_byte_vs_wrong_last_byte seeded with 0x9a3c5e7f00112233",
            "bench verify_wrong_first_byte_vs_wrong_last_byte ... : n == +0.998M, \
             max t = -1.23456, max tau = -0.00124, (5/tau)^2 = 16410000",
            "",
            "dudect benches complete",
            "",
            "timed samples: 1000000",
        ]);
        let verdict = parse_output(&output).expect("result");
        assert_eq!(
            verdict,
            Verdict {
                max_t: -1.23456,
                samples_in_test: 998_000,
                timed_samples: Some(1_000_000),
            }
        );
        assert!(verdict.passes());
        assert_eq!(
            verdict.to_string(),
            "max t = -1.235 over 1000000 timed samples (998000 in the test with the largest |t|)"
        );
        assert_eq!(parse_output(&output[..3]), None);
    }

    #[test]
    fn a_large_t_is_a_leak() {
        let verdict = Verdict {
            max_t: 12.0,
            samples_in_test: 100_000,
            timed_samples: None,
        };
        assert!(!verdict.passes());
        assert!(
            verdict
                .leak()
                .starts_with("max t = +12.000 over 100000 samples: |t| >= 4.5")
        );
    }
}
