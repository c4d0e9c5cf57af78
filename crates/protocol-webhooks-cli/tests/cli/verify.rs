//! `verify`: valid, mismatch, malformed, missing, and usage errors.

use crate::support::{Vector, cli, code, run, scratch_file, stderr, stdout, vector};

fn typical() -> Vector {
    vector("typical-secret-envelope")
}

const SECRET: &str = "whsec_test_4f9c2b7e";

fn verify(signature: &str, body: &[u8]) -> std::process::Output {
    run(
        &mut cli(["verify", "--signature", signature, "--secret", SECRET]),
        body,
    )
}

/// The signature that would have been valid must never be shown.
fn assert_no_leak(output: &std::process::Output, expected: &str) {
    for stream in [stdout(output), stderr(output)] {
        assert!(!stream.contains(expected), "leaked: {stream}");
        assert!(
            !stream.contains(&expected.to_ascii_uppercase()),
            "leaked: {stream}"
        );
        assert!(
            !stream.contains(&expected[..16]),
            "leaked a prefix: {stream}"
        );
    }
}

#[test]
fn valid_in_lower_and_upper_case() {
    let vector = typical();
    for signature in [
        vector.signature.clone(),
        vector.signature.to_ascii_uppercase(),
    ] {
        let output = verify(&signature, &vector.body);
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        assert_eq!(stdout(&output), "valid\n");
        assert_eq!(stderr(&output), "");
    }
}

#[test]
fn valid_with_the_body_from_a_file_and_the_secret_from_the_environment() {
    let case = vector("utf8-multibyte-body");
    let body = scratch_file("verify-body", &case.body);
    let output = run(
        cli([
            "verify".as_ref(),
            "--signature".as_ref(),
            case.signature.as_ref(),
            body.as_os_str(),
        ])
        .env("PROTOCOL_WEBHOOK_SECRET", SECRET),
        b"",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "valid\n");
}

#[test]
fn mismatch_is_exit_1_and_never_shows_the_expected_signature() {
    let case = typical();
    // A well-formed signature of another body, then the body with one byte
    // more: both are mismatches.
    let other = vector("ascii-json-envelope");
    let mut longer = case.body.clone();
    longer.push(b' ');
    let expected_for_longer = protocol_webhooks::sign(SECRET, &longer)
        .expect("key")
        .to_hex();
    for (signature, body, expected) in [
        (other.signature.as_str(), &case.body, case.signature.clone()),
        (
            case.signature.as_str(),
            &longer,
            expected_for_longer.to_string(),
        ),
    ] {
        let output = verify(signature, body);
        assert_eq!(code(&output), 1);
        assert!(stderr(&output).contains("mismatch"), "{}", stderr(&output));
        assert_eq!(stdout(&output), "");
        assert_no_leak(&output, &expected);
    }
}

#[test]
fn malformed_is_exit_1() {
    let vector = typical();
    for signature in [
        vector.signature[..63].to_owned(),
        format!("sha256={}", vector.signature),
        format!(" {}", vector.signature),
        "zz".repeat(32),
    ] {
        let output = verify(&signature, &vector.body);
        assert_eq!(code(&output), 1, "{signature}");
        assert!(stderr(&output).contains("malformed"), "{}", stderr(&output));
        assert_eq!(stdout(&output), "");
        assert_no_leak(&output, &vector.signature);
    }
}

#[test]
fn an_empty_signature_is_missing_and_exit_1() {
    let vector = typical();
    let output = verify("", &vector.body);
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("missing"), "{}", stderr(&output));
    assert_no_leak(&output, &vector.signature);
}

#[test]
fn missing_secret_or_signature_is_exit_2() {
    let vector = typical();
    let no_secret = run(
        &mut cli(["verify", "--signature", &vector.signature]),
        &vector.body,
    );
    assert_eq!(code(&no_secret), 2);
    assert!(
        stderr(&no_secret).contains("secret"),
        "{}",
        stderr(&no_secret)
    );
    let empty_secret = run(
        &mut cli(["verify", "--signature", &vector.signature, "--secret", ""]),
        &vector.body,
    );
    assert_eq!(code(&empty_secret), 2);
    let no_signature = run(&mut cli(["verify", "--secret", SECRET]), &vector.body);
    assert_eq!(code(&no_signature), 2);
    assert!(
        stderr(&no_signature).contains("--signature"),
        "{}",
        stderr(&no_signature)
    );
    for output in [no_secret, empty_secret, no_signature] {
        assert_eq!(stdout(&output), "");
        assert_no_leak(&output, &vector.signature);
    }
}
