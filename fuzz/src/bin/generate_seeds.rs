//! Writes the committed seed corpora under `fuzz/seeds/<target>/`.
//!
//! Run from the repository root with
//! `cargo run --manifest-path fuzz/Cargo.toml --features seeds --bin generate-seeds`.
//!
//! Sources: every body and signature header of the conformance suite's
//! cases, the documented example objects wrapped as events, the docs'
//! `message.updated` event, and a few hand-picked headers. The structured
//! targets get those bodies encoded as their `arbitrary` inputs, signed with
//! the suite's secret. Bodies over [`MAX_SEED_LEN`] are left out, because
//! libFuzzer sizes its mutations after the largest input in the corpus; the
//! deep-nesting cases are kept in a shorter form instead.
//!
//! Files this generator writes start with `gen-`; it deletes only those
//! before writing, so hand-added regression seeds (`regression-*`) stay.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

use protocol_webhooks::events::EventType;
use protocol_webhooks::samples;
use protocol_webhooks::{Key, SIGNATURE_HEADER};
use protocol_webhooks_conformance::{SECRET, cases};
use protocol_webhooks_fuzz::{
    HeaderChoice, VerifyInput, VerifyThenParseInput, decode, encode_verify,
    encode_verify_then_parse,
};

/// Larger bodies would raise libFuzzer's maximum input length for the whole
/// run and slow every mutation down.
const MAX_SEED_LEN: usize = 8 * 1024;

/// Nesting depth of the shortened deep-nesting seeds: past serde_json's
/// recursion limit of 128, well under [`MAX_SEED_LEN`].
const SEED_DEPTH: usize = 3_000;

const PREFIX: &str = "gen-";

/// A body with the header it was sent with and a file-name stem.
struct Sample {
    stem: String,
    body: Vec<u8>,
    header: Option<Vec<u8>>,
}

fn main() -> io::Result<()> {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let samples = samples();
    let headers = headers(&samples);

    let mut written = BTreeMap::new();
    let mut write = |target: &str, files: Vec<(String, Vec<u8>)>| -> io::Result<()> {
        let dir = seeds.join(target);
        clear_generated(&dir)?;
        let mut count = 0usize;
        let mut seen = BTreeSet::new();
        for (stem, bytes) in files {
            // Identical inputs add nothing to a corpus.
            if seen.insert(bytes.clone()) {
                fs::write(dir.join(format!("{PREFIX}{stem}")), bytes)?;
                count += 1;
            }
        }
        written.insert(target.to_owned(), count);
        Ok(())
    };

    write("signature_header", headers)?;
    write(
        "event_parse",
        samples
            .iter()
            .map(|sample| (format!("{}.json", sample.stem), sample.body.clone()))
            .collect(),
    )?;
    write("verify", verify_seeds(&samples))?;
    write("verify_then_parse", verify_then_parse_seeds(&samples))?;

    let mut out = io::stdout().lock();
    for (target, count) in written {
        writeln!(out, "{count:4} seeds in {}", seeds.join(target).display())?;
    }
    Ok(())
}

fn clear_generated(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(PREFIX) {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn samples() -> Vec<Sample> {
    let mut samples: Vec<Sample> = cases()
        .into_iter()
        .filter(|case| case.request.body.len() <= MAX_SEED_LEN)
        .map(|case| Sample {
            stem: format!("case-{}", slug(&case.name)),
            header: case.request.header(SIGNATURE_HEADER).map(<[u8]>::to_vec),
            body: case.request.body,
        })
        .collect();

    // The conformance cases already carry every sample event; the docs'
    // pretty-printed event and the raw example objects are added as sent.
    let fixtures = [
        (
            "fixture-message.updated-event",
            samples::MESSAGE_UPDATED_EVENT,
        ),
        ("fixture-contact", samples::CONTACT),
        ("fixture-conversation", samples::CONVERSATION),
        ("fixture-message", samples::MESSAGE),
        ("fixture-message.updated", samples::MESSAGE_UPDATED),
        ("fixture-group", samples::GROUP),
        ("fixture-attachment", samples::ATTACHMENT),
    ];
    for (stem, text) in fixtures {
        samples.push(signed(stem, text.as_bytes().to_vec()));
    }
    for event_type in EventType::KNOWN {
        let stem = format!("sample-{event_type}");
        samples.push(signed(&stem, samples::sample_body(&event_type, "evt_seed")));
    }

    let mut deep_payload = br#"{"id":"evt_deep","type":"contact.created","payload":"#.to_vec();
    deep_payload.extend(std::iter::repeat_n(b'[', SEED_DEPTH));
    deep_payload.extend(std::iter::repeat_n(b']', SEED_DEPTH));
    deep_payload.push(b'}');
    samples.push(signed("extra-deep-payload", deep_payload));
    let mut deep_unknown = br#"{"id":"evt_deep","type":"invoice.paid","payload":"#.to_vec();
    // Around serde_json's recursion limit of 128, where it starts refusing.
    deep_unknown.extend_from_slice(br#"{"a":"#);
    deep_unknown.extend(std::iter::repeat_n(b'[', 125));
    deep_unknown.extend(std::iter::repeat_n(b']', 125));
    deep_unknown.extend_from_slice(b"}}");
    samples.push(signed("extra-unknown-payload-depth-limit", deep_unknown));
    let mut deep_top = std::iter::repeat_n(b'[', SEED_DEPTH).collect::<Vec<u8>>();
    deep_top.extend(std::iter::repeat_n(b']', SEED_DEPTH));
    samples.push(signed("extra-deep-top", deep_top));
    samples
}

fn signed(stem: &str, body: Vec<u8>) -> Sample {
    let header = sign(&body).into_bytes();
    Sample {
        stem: stem.to_owned(),
        body,
        header: Some(header),
    }
}

fn sign(body: &[u8]) -> String {
    Key::new(SECRET)
        .expect("the suite's secret is non-empty")
        .sign(body)
        .to_hex()
        .to_string()
}

/// Every header the cases send, and a few more shapes.
fn headers(samples: &[Sample]) -> Vec<(String, Vec<u8>)> {
    let mut headers: Vec<(String, Vec<u8>)> = samples
        .iter()
        .filter_map(|sample| {
            let header = sample.header.clone()?;
            Some((sample.stem.clone(), header))
        })
        .collect();
    let valid = sign(b"{}");
    let mut mixed = valid.clone().into_bytes();
    for byte in mixed.iter_mut().step_by(2) {
        byte.make_ascii_uppercase();
    }
    let mut non_ascii = valid.clone().into_bytes();
    non_ascii[63] = 0xc3;
    let extra: [(&str, Vec<u8>); 8] = [
        ("extra-lower", valid.clone().into_bytes()),
        ("extra-upper", valid.to_ascii_uppercase().into_bytes()),
        ("extra-mixed-case", mixed),
        ("extra-non-ascii-last", non_ascii),
        ("extra-trailing-newline", format!("{valid}\n").into_bytes()),
        ("extra-leading-space", format!(" {valid}").into_bytes()),
        ("extra-all-f", vec![b'f'; 64]),
        ("extra-nul", vec![0; 64]),
    ];
    headers.extend(
        extra
            .into_iter()
            .map(|(stem, value)| (stem.to_owned(), value)),
    );
    headers
}

fn verify_seeds(samples: &[Sample]) -> Vec<(String, Vec<u8>)> {
    let long_secret = vec![b'k'; 100];
    let mut seeds = Vec::new();
    for (index, sample) in samples.iter().enumerate() {
        let split = u16::try_from(index * 37).unwrap_or(u16::MAX);
        let given = VerifyInput {
            use_correct: false,
            upper_case: false,
            split,
            secret: SECRET.as_bytes(),
            header: sample.header.as_deref().unwrap_or_default(),
            body: &sample.body,
        };
        seeds.push((sample.stem.clone(), verify_bytes(&given)));
        // A few variants, not one per sample: they differ only in flags.
        if index % 8 == 0 {
            let upper = VerifyInput {
                use_correct: true,
                upper_case: true,
                ..given.clone()
            };
            seeds.push((
                format!("{}-correct-upper", sample.stem),
                verify_bytes(&upper),
            ));
            let long = VerifyInput {
                use_correct: true,
                secret: &long_secret,
                ..given.clone()
            };
            seeds.push((
                format!("{}-secret-over-block", sample.stem),
                verify_bytes(&long),
            ));
        }
    }
    let empty_secret = VerifyInput {
        use_correct: true,
        upper_case: false,
        split: 0,
        secret: b"",
        header: b"",
        body: b"{}",
    };
    seeds.push(("extra-empty-secret".to_owned(), verify_bytes(&empty_secret)));
    seeds
}

fn verify_then_parse_seeds(samples: &[Sample]) -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    for (index, sample) in samples.iter().enumerate() {
        let given = VerifyThenParseInput {
            header_choice: if sample.header.is_some() {
                HeaderChoice::Given
            } else {
                HeaderChoice::Missing
            },
            small_limit: None,
            secret: SECRET.as_bytes(),
            header: sample.header.as_deref().unwrap_or_default(),
            body: &sample.body,
        };
        seeds.push((sample.stem.clone(), verify_then_parse_bytes(&given)));
        if index % 8 == 0 {
            // Just under and just over a small limit.
            let len = u16::try_from(sample.body.len()).unwrap_or(u16::MAX);
            for (suffix, limit) in [("at-limit", len), ("over-limit", len.saturating_sub(1))] {
                let limited = VerifyThenParseInput {
                    header_choice: HeaderChoice::CorrectLower,
                    small_limit: Some(limit),
                    ..given.clone()
                };
                seeds.push((
                    format!("{}-{suffix}", sample.stem),
                    verify_then_parse_bytes(&limited),
                ));
            }
        }
    }
    seeds
}

/// The bytes of a `verify` input, checked to decode back to it.
fn verify_bytes(input: &VerifyInput<'_>) -> Vec<u8> {
    let bytes = encode_verify(input);
    assert_eq!(
        decode::<VerifyInput<'_>>(&bytes).ok().as_ref(),
        Some(input),
        "the seed encoding drifted from arbitrary's format"
    );
    bytes
}

/// The bytes of a `verify_then_parse` input, checked to decode back to it.
fn verify_then_parse_bytes(input: &VerifyThenParseInput<'_>) -> Vec<u8> {
    let bytes = encode_verify_then_parse(input);
    assert_eq!(
        decode::<VerifyThenParseInput<'_>>(&bytes).ok().as_ref(),
        Some(input),
        "the seed encoding drifted from arbitrary's format"
    );
    bytes
}

/// A file-name-safe form of a case name.
fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_owned()
}
