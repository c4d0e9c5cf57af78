//! `send` end to end over loopback, against the receiver in `receiver.rs`.

use std::collections::HashSet;
use std::process::Output;

use protocol_webhooks::events::{Event, EventType};
use protocol_webhooks::samples::MESSAGE_UPDATED;
use serde_json::Value;

use crate::receiver::Receiver;
use crate::support::{MESSAGE_UPDATED_FIXTURE, cli, code, run, scratch_file, stderr, stdout};

const SECRET: &str = "whsec_send_test";

/// One report line, split as documented: type, status, latency, `ms`, body.
#[derive(Debug)]
struct Line {
    label: String,
    status: String,
    body: String,
}

fn lines(output: &Output) -> Vec<Line> {
    stdout(output)
        .lines()
        .map(|line| {
            assert_eq!(line, line.trim_end(), "no trailing whitespace");
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert!(fields.len() >= 4, "{line}");
            assert!(fields[2].parse::<u64>().is_ok(), "latency in {line}");
            assert_eq!(fields[3], "ms", "{line}");
            Line {
                label: fields[0].to_owned(),
                status: fields[1].to_owned(),
                body: fields[4..].join(" "),
            }
        })
        .collect()
}

fn send(receiver: &Receiver, args: &[&str]) -> Output {
    let url = receiver.url();
    let mut all = vec!["send", url.as_str(), "--secret", SECRET];
    all.extend_from_slice(args);
    run(&mut cli(all), b"")
}

#[test]
fn all_15_are_accepted_each_with_a_fresh_id() {
    let receiver = Receiver::start(SECRET);
    let output = send(&receiver, &["--all"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let lines = lines(&output);
    assert_eq!(lines.len(), 15);
    for (line, event_type) in lines.iter().zip(EventType::KNOWN) {
        assert_eq!(line.label, event_type.as_str());
        assert_eq!(line.status, "200", "{line:?}");
        assert!(line.body.starts_with(r#"{"id":"evt_"#), "{line:?}");
        assert!(line.body.chars().count() <= 83, "{line:?}");
    }

    let received = receiver.received();
    assert_eq!(received.len(), 15);
    let mut ids = HashSet::new();
    for (request, event_type) in received.iter().zip(EventType::KNOWN) {
        assert_eq!(request.status, 200);
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/webhooks");
        assert_eq!(request.content_type.as_deref(), Some("application/json"));
        let signature = request.signature.as_deref().expect("signed");
        assert_eq!(signature.len(), 64);
        assert_eq!(signature, signature.to_ascii_lowercase());
        let event = Event::from_slice(&request.body).expect("an event");
        assert_eq!(event.event_type, event_type);
        assert!(event.id.starts_with("evt_"), "{}", event.id);
        ids.insert(event.id);
    }
    assert_eq!(ids.len(), 15, "unique ids");
}

#[test]
fn tampered_is_refused_with_401_as_expected() {
    let receiver = Receiver::start(SECRET);
    let output = send(&receiver, &["--event", "message.created", "--tamper"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let lines = lines(&output);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].label, "message.created");
    assert_eq!(lines[0].status, "401");
    assert!(lines[0].body.contains("does not match"), "{:?}", lines[0]);

    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].status, 401);
    assert!(received[0].signature.is_some(), "still signed");
    // The body is still an event: only the signature is wrong.
    assert!(Event::from_slice(&received[0].body).is_ok());
}

#[test]
fn unsigned_is_refused_with_401_as_expected_and_needs_no_secret() {
    let receiver = Receiver::start(SECRET);
    let url = receiver.url();
    let output = run(
        &mut cli(["send", &url, "--event", "contact.deleted", "--unsigned"]),
        b"",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let lines = lines(&output);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].status, "401");
    assert!(lines[0].body.contains("missing"), "{:?}", lines[0]);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].signature, None);
}

#[test]
fn tamper_catches_a_receiver_that_skips_verification() {
    let careless = Receiver::careless();
    for flag in ["--tamper", "--unsigned"] {
        let output = send(&careless, &["--event", "message.created", flag]);
        assert_eq!(code(&output), 1, "{flag}");
        assert_eq!(lines(&output)[0].status, "200", "{flag}");
        let message = stderr(&output);
        assert!(
            message.contains("1 of 1") && message.contains("401"),
            "{message}"
        );
    }
    // Against a receiver with another secret every tampered request is
    // refused, as it should be.
    let strict = Receiver::start("whsec_other");
    let output = send(&strict, &["--all", "--tamper"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(lines(&output).len(), 15);
    assert!(lines(&output).iter().all(|line| line.status == "401"));
}

#[test]
fn message_updated_carries_the_documented_update() {
    let receiver = Receiver::start(SECRET);
    let output = send(&receiver, &["--event", "message.updated"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let lines = lines(&output);
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0].label.as_str(), lines[0].status.as_str()),
        ("message.updated", "200")
    );

    let received = receiver.received();
    let body: Value = serde_json::from_slice(&received[0].body).expect("json");
    let documented: Value = serde_json::from_str(MESSAGE_UPDATED).expect("json");
    assert_eq!(body["type"], "message.updated");
    assert_eq!(body["payload"], documented);
}

#[test]
fn a_file_is_sent_byte_for_byte() {
    let fixture = std::fs::read(MESSAGE_UPDATED_FIXTURE).expect("fixture");
    let receiver = Receiver::start(SECRET);
    let output = send(&receiver, &["--file", MESSAGE_UPDATED_FIXTURE]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let lines = lines(&output);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].label, "message.updated", "the file's own type");
    assert_eq!(lines[0].status, "200");
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].body, fixture,
        "pretty-printing and trailing newline kept"
    );
    let expected = protocol_webhooks::sign(SECRET, &fixture)
        .expect("key")
        .to_hex();
    assert_eq!(received[0].signature.as_deref(), Some(expected.as_str()));
}

#[test]
fn a_file_that_is_not_an_event_gets_the_receivers_400() {
    let receiver = Receiver::start(SECRET);
    let path = scratch_file("send-not-an-event", b"not json\n");
    let url = receiver.url();
    let output = run(
        &mut cli([
            "send".as_ref(),
            url.as_ref(),
            "--secret".as_ref(),
            SECRET.as_ref(),
            "--file".as_ref(),
            path.as_os_str(),
        ]),
        b"",
    );
    assert_eq!(code(&output), 1);
    let lines = lines(&output);
    assert_eq!(
        (lines[0].label.as_str(), lines[0].status.as_str()),
        ("file", "400")
    );
    assert!(stderr(&output).contains("1 of 1"), "{}", stderr(&output));
    assert_eq!(receiver.received()[0].body, b"not json\n");
}

#[test]
fn an_oversized_file_gets_the_receivers_413() {
    let receiver = Receiver::start(SECRET);
    let path = scratch_file(
        "send-oversized",
        &vec![b' '; protocol_webhooks::DEFAULT_BODY_LIMIT + 1],
    );
    let url = receiver.url();
    let output = run(
        &mut cli([
            "send".as_ref(),
            url.as_ref(),
            "--secret".as_ref(),
            SECRET.as_ref(),
            "--file".as_ref(),
            path.as_os_str(),
        ]),
        b"",
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let lines = lines(&output);
    assert_eq!(
        (lines[0].label.as_str(), lines[0].status.as_str()),
        ("file", "413")
    );
    assert!(
        lines[0].body.contains("larger than the limit"),
        "{:?}",
        lines[0]
    );
}

#[test]
fn a_wrong_secret_is_unexpected_401_and_exit_1() {
    let receiver = Receiver::start("whsec_the_receivers_secret");
    let output = send(&receiver, &["--event", "group.created"]);
    assert_eq!(code(&output), 1);
    let lines = lines(&output);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].status, "401");
    let message = stderr(&output);
    assert!(
        message.contains("1 of 1") && message.contains("2xx"),
        "{message}"
    );
}

#[test]
fn a_closed_port_is_exit_1_with_a_clear_message() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let url = format!("http://127.0.0.1:{port}/webhooks");
    let output = run(&mut cli(["send", &url, "--secret", SECRET, "--all"]), b"");
    assert_eq!(code(&output), 1);
    let message = stderr(&output);
    assert!(
        message.contains(&url) && message.contains("connection refused"),
        "{message}"
    );
    assert!(message.contains("14 more not sent"), "{message}");
    let lines = lines(&output);
    assert_eq!(
        lines.len(),
        1,
        "stops at the first request without an answer"
    );
    assert_eq!(lines[0].status, "---");
}

#[test]
fn usage_errors_are_exit_2() {
    for args in [
        &[
            "send",
            "https://127.0.0.1/webhooks",
            "--secret",
            SECRET,
            "--all",
        ][..],
        &[
            "send",
            "127.0.0.1:3000/webhooks",
            "--secret",
            SECRET,
            "--all",
        ],
        &["send", "http://127.0.0.1:9/webhooks", "--secret", SECRET],
        &[
            "send",
            "http://127.0.0.1:9/webhooks",
            "--secret",
            SECRET,
            "--all",
            "--event",
            "group.created",
        ],
        &[
            "send",
            "http://127.0.0.1:9/webhooks",
            "--secret",
            SECRET,
            "--all",
            "--tamper",
            "--unsigned",
        ],
        &[
            "send",
            "http://127.0.0.1:9/webhooks",
            "--secret",
            SECRET,
            "--event",
            "group.archived",
        ],
        &["send", "http://127.0.0.1:9/webhooks", "--all"],
    ] {
        let output = run(&mut cli(args), b"");
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        assert_eq!(stdout(&output), "", "nothing sent for {args:?}");
    }
}
