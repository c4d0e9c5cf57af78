//! `events`, `example`, `--help` and `--version`.

use protocol_webhooks::events::{Action, EventType};
use protocol_webhooks::samples::sample_payload;
use serde_json::Value;

use crate::support::{cli, code, run, stderr, stdout};

#[test]
fn events_lists_the_15_types_with_their_descriptions() {
    let output = run(&mut cli(["events"]), b"");
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 15, "{text}");
    for (line, event_type) in lines.iter().zip(EventType::KNOWN) {
        let (name, description) = line.split_once(' ').expect("two columns");
        assert_eq!(name, event_type.as_str());
        assert_eq!(Some(description.trim()), event_type.description());
    }
}

#[test]
fn example_prints_json_for_every_type() {
    for event_type in EventType::KNOWN {
        let output = run(&mut cli(["example", event_type.as_str()]), b"");
        assert_eq!(code(&output), 0, "{event_type}: {}", stderr(&output));
        let payload: Value = serde_json::from_str(&stdout(&output))
            .unwrap_or_else(|error| panic!("{event_type}: {error}"));
        let documented: Value =
            serde_json::from_str(sample_payload(&event_type).expect("documented")).expect("json");
        if event_type.action() == Some(Action::Deleted) {
            // Only the id, as `send` delivers deletions.
            assert_eq!(
                payload,
                serde_json::json!({ "id": documented["id"] }),
                "{event_type}"
            );
        } else {
            assert_eq!(payload, documented, "{event_type}");
        }
    }
}

#[test]
fn an_unknown_type_is_exit_2_listing_the_valid_ones() {
    for unknown in ["message.pinned", "Message.Created", ""] {
        let output = run(&mut cli(["example", unknown]), b"");
        assert_eq!(code(&output), 2, "{unknown}");
        assert_eq!(stdout(&output), "");
        let message = stderr(&output);
        for event_type in EventType::KNOWN {
            assert!(message.contains(event_type.as_str()), "{message}");
        }
    }
    let missing = run(&mut cli(["example"]), b"");
    assert_eq!(code(&missing), 2);
}

#[test]
fn help_on_every_subcommand_and_version() {
    for args in [
        &["--help"][..],
        &["sign", "--help"],
        &["verify", "--help"],
        &["send", "--help"],
        &["events", "--help"],
        &["example", "--help"],
        &["help", "send"],
    ] {
        let output = run(&mut cli(args), b"");
        assert_eq!(code(&output), 0, "{args:?}");
        assert!(
            stdout(&output).contains("Usage: protocol-webhooks"),
            "{args:?}"
        );
    }
    let send_help = stdout(&run(&mut cli(["send", "--help"]), b""));
    assert!(send_help.contains("http://"), "{send_help}");
    let example_help = stdout(&run(&mut cli(["example", "--help"]), b""));
    assert!(
        example_help.contains("A new message was created."),
        "{example_help}"
    );

    let version = run(&mut cli(["--version"]), b"");
    assert_eq!(code(&version), 0);
    assert_eq!(
        stdout(&version),
        format!("protocol-webhooks {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_never_shows_the_secret_from_the_environment() {
    let output = run(
        cli(["sign", "--help"]).env("PROTOCOL_WEBHOOK_SECRET", "whsec_do_not_print"),
        b"",
    );
    assert_eq!(code(&output), 0);
    assert!(stdout(&output).contains("PROTOCOL_WEBHOOK_SECRET"));
    assert!(!stdout(&output).contains("whsec_do_not_print"));
}

#[test]
fn no_arguments_shows_usage_and_exit_2() {
    let output = run(&mut cli::<_, &str>([]), b"");
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("Usage"), "{}", stderr(&output));
}

#[test]
fn output_is_plain_when_piped() {
    for args in [
        &["events"][..],
        &["example", "message.created"],
        &["--help"],
    ] {
        let output = run(&mut cli(args), b"");
        assert!(
            !output.stdout.contains(&0x1b),
            "escape sequence in {args:?}"
        );
    }
}
