//! `sign` against independently computed vectors.

use protocol_webhooks::events::EventType;
use protocol_webhooks::samples::sample_body;

use crate::support::{
    MESSAGE_UPDATED_FIXTURE, Vector, cli, code, run, scratch_file, stderr, stdout, vector, vectors,
};

/// Every secret an argument can carry is passed with `--secret`; one with a
/// NUL byte cannot be, by any program, and goes through `--secret-file`.
fn secret_args(vector: &Vector) -> Vec<std::ffi::OsString> {
    if vector.secret.contains(&0) {
        let path = scratch_file(&format!("sign-secret-{}", vector.name), &vector.secret);
        vec!["--secret-file".into(), path.into()]
    } else {
        let secret = String::from_utf8(vector.secret.clone()).expect("NUL-free secrets are UTF-8");
        vec!["--secret".into(), secret.into()]
    }
}

fn assert_signs(vector: &Vector, output: &std::process::Output, how: &str) {
    assert_eq!(
        code(output),
        0,
        "{} via {how}: {}",
        vector.name,
        stderr(output)
    );
    assert_eq!(
        stdout(output),
        format!("{}\n", vector.signature),
        "{} via {how}",
        vector.name
    );
}

#[test]
fn every_vector_via_stdin_and_via_file() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 18);
    let mut signed = 0;
    for vector in &vectors {
        if vector.secret.is_empty() {
            continue; // refused: see empty_secret_is_a_usage_error
        }
        let mut args = vec!["sign".into()];
        args.extend(secret_args(vector));
        let output = run(&mut cli(&args), &vector.body);
        assert_signs(vector, &output, "stdin");

        let body = scratch_file(&format!("sign-body-{}", vector.name), &vector.body);
        args.push(body.into());
        let output = run(&mut cli(&args), b"ignored when FILE is given");
        assert_signs(vector, &output, "FILE");
        signed += 1;
    }
    assert_eq!(signed, 17, "all but the empty-secret vector");
}

#[test]
fn every_vector_with_the_secret_from_a_file() {
    for vector in vectors().iter().filter(|vector| !vector.secret.is_empty()) {
        let secret = scratch_file(&format!("sign-file-secret-{}", vector.name), &vector.secret);
        let output = run(
            &mut cli([
                "sign".as_ref(),
                "--secret-file".as_ref(),
                secret.as_os_str(),
            ]),
            &vector.body,
        );
        assert_signs(vector, &output, "--secret-file");
    }
}

#[test]
fn secret_from_the_environment_and_dash_for_stdin() {
    let multibyte = vector("utf8-multibyte-body");
    let secret = String::from_utf8(multibyte.secret.clone()).expect("UTF-8");
    let output = run(
        cli(["sign", "-"]).env("PROTOCOL_WEBHOOK_SECRET", &secret),
        &multibyte.body,
    );
    assert_signs(&multibyte, &output, "env");
    // --secret-file takes precedence over the environment.
    let one_byte = vector("secret-1-byte");
    let secret_file = scratch_file("sign-env-vs-file", &one_byte.secret);
    let output = run(
        cli([
            "sign".as_ref(),
            "--secret-file".as_ref(),
            secret_file.as_os_str(),
        ])
        .env("PROTOCOL_WEBHOOK_SECRET", "whsec_test_4f9c2b7e"),
        &one_byte.body,
    );
    assert_signs(&one_byte, &output, "--secret-file over env");
}

#[test]
fn empty_secret_is_a_usage_error() {
    let empty = vector("secret-empty");
    let empty_file = scratch_file("sign-empty-secret", b"");
    let refused = [
        run(&mut cli(["sign", "--secret", ""]), &empty.body),
        run(
            cli(["sign"]).env("PROTOCOL_WEBHOOK_SECRET", ""),
            &empty.body,
        ),
        run(
            &mut cli([
                "sign".as_ref(),
                "--secret-file".as_ref(),
                empty_file.as_os_str(),
            ]),
            &empty.body,
        ),
        run(&mut cli(["sign"]), &empty.body),
    ];
    for output in &refused {
        assert_eq!(code(output), 2, "{output:?}");
        assert!(output.stdout.is_empty(), "{output:?}");
        assert!(stderr(output).contains("secret"), "{}", stderr(output));
    }
}

#[test]
fn the_message_updated_fixture_file_byte_for_byte() {
    let fixture = std::fs::read(MESSAGE_UPDATED_FIXTURE).expect("fixture");
    assert_eq!(
        fixture.last(),
        Some(&b'\n'),
        "the fixture ends in a newline, which is signed"
    );
    let expected = vector("fixture-message-updated");
    assert_eq!(fixture, expected.body);
    let output = run(
        &mut cli([
            "sign",
            "--secret",
            "whsec_test_4f9c2b7e",
            MESSAGE_UPDATED_FIXTURE,
        ]),
        b"",
    );
    assert_signs(&expected, &output, "fixture FILE");
}

#[test]
fn non_ascii_bodies_and_trailing_newlines_are_signed_as_is() {
    // The documented message text contains ’ (U+2019, three bytes in UTF-8).
    let body = sample_body(&EventType::MessageCreated, "evt_1");
    assert!(
        core::str::from_utf8(&body)
            .expect("UTF-8")
            .contains('\u{2019}')
    );
    let mut with_newline = body.clone();
    with_newline.push(b'\n');
    let mut seen = Vec::new();
    for body in [&body, &with_newline] {
        let output = run(&mut cli(["sign", "--secret", "whsec_test"]), body);
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        let expected = protocol_webhooks::sign("whsec_test", body)
            .expect("key")
            .to_hex();
        assert_eq!(stdout(&output), format!("{expected}\n"));
        seen.push(stdout(&output));
    }
    assert_ne!(seen[0], seen[1], "the trailing newline was not trimmed");
    let trailing = vector("ascii-json-envelope-trailing-newline");
    assert_eq!(trailing.body.last(), Some(&b'\n'));
    let output = run(&mut cli(["sign", "--secret", "secret"]), &trailing.body);
    assert_signs(&trailing, &output, "stdin");
}

#[cfg(unix)]
#[test]
fn a_secret_argument_is_used_as_raw_bytes() {
    use std::os::unix::ffi::OsStrExt as _;
    let secret = b"\xff\xfe not UTF-8 \xe2\x80";
    let output = run(
        &mut cli([
            std::ffi::OsStr::new("sign"),
            "--secret".as_ref(),
            std::ffi::OsStr::from_bytes(secret),
        ]),
        b"{}",
    );
    let expected = protocol_webhooks::sign(secret, b"{}")
        .expect("key")
        .to_hex();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("{expected}\n"));
}

#[test]
fn an_unreadable_file_is_exit_2() {
    let output = run(
        &mut cli(["sign", "--secret", "s", "/nonexistent/body.json"]),
        b"",
    );
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("/nonexistent/body.json"),
        "{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty());
}
