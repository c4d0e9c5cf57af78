//! `listen` end to end: the real binary on a free port, driven by `send`
//! and by raw HTTP requests, forwarding to the receiver in `receiver.rs`.

use core::time::Duration;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use protocol_webhooks::events::{Event, EventType};
use protocol_webhooks::{Answer, Rejection, SignatureError};
use serde_json::Value;

use crate::receiver::Receiver;
use crate::support::{MESSAGE_UPDATED_FIXTURE, cli, code, run, stderr, stdout};

const SECRET: &str = "whsec_listen_test";
/// Longest wait for a line or an exit: generous, for a loaded machine.
const PATIENCE: Duration = Duration::from_secs(20);

/// A running `listen`, killed if a test fails before stopping it.
struct Listen {
    child: Child,
    /// `http://127.0.0.1:PORT`, without the trailing slash.
    base: String,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

/// Sends each line of `stream` to the returned channel, from a thread.
fn lines_of(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

impl Listen {
    /// Starts `listen --port 0 --secret SECRET` with `args` and waits for
    /// its ready line.
    fn start(args: &[&str]) -> Self {
        let mut all = vec!["listen", "--port", "0", "--secret", SECRET];
        all.extend_from_slice(args);
        let mut child = cli(all)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = lines_of(child.stdout.take().expect("piped stdout"));
        let stderr = lines_of(child.stderr.take().expect("piped stderr"));
        let ready = stderr.recv_timeout(PATIENCE).expect("a ready line");
        let url = ready
            .strip_prefix("Ready: listening on ")
            .and_then(|rest| rest.strip_suffix(" (Ctrl-C to stop)"))
            .unwrap_or_else(|| panic!("unexpected ready line {ready:?}"));
        let base = url.strip_suffix('/').expect("URL ends in /").to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        let port: u16 = base["http://127.0.0.1:".len()..].parse().expect("a port");
        assert_ne!(port, 0);
        Self {
            child,
            base,
            stdout,
            stderr,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn address(&self) -> &str {
        &self.base["http://".len()..]
    }

    /// The next line on standard output.
    fn next_line(&self) -> String {
        self.stdout
            .recv_timeout(PATIENCE)
            .expect("a line for the request")
    }

    /// The next line on standard error after the ready line.
    fn next_notice(&self) -> String {
        self.stderr.recv_timeout(PATIENCE).expect("a notice")
    }

    /// Interrupts as Ctrl-C does and waits for the exit; returns the exit
    /// status and what was still unread on both outputs.
    #[cfg(unix)]
    fn interrupt(mut self) -> (ExitStatus, Vec<String>, Vec<String>) {
        let pid = self.child.id().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(started.elapsed() < PATIENCE, "still running after Ctrl-C");
            std::thread::sleep(Duration::from_millis(20));
        };
        let rest = |lines: &mpsc::Receiver<String>| {
            let mut all = Vec::new();
            while let Ok(line) = lines.recv_timeout(Duration::from_secs(2)) {
                all.push(line);
            }
            all
        };
        (status, rest(&self.stdout), rest(&self.stderr))
    }
}

impl Drop for Listen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A text line split on whitespace, checked against the documented grammar.
#[derive(Debug)]
struct Line {
    event_type: String,
    id: String,
    resource_id: String,
    /// `accepted`, or `refused <reason>`.
    verdict: String,
    /// What follows `→`, if anything.
    forward: Option<String>,
}

fn parse(line: &str) -> Line {
    assert_eq!(line, line.trim_end(), "no trailing whitespace");
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert!(fields.len() >= 5, "{line}");
    assert_rfc3339(fields[0]);
    let (verdict, rest) = match fields[4] {
        "accepted" => (String::from("accepted"), &fields[5..]),
        "refused" => (format!("refused {}", fields[5]), &fields[6..]),
        other => panic!("verdict {other} in {line}"),
    };
    let forward = match rest {
        [] => None,
        ["→", forward] => Some((*forward).to_owned()),
        other => panic!("unexpected {other:?} in {line}"),
    };
    Line {
        event_type: fields[1].to_owned(),
        id: fields[2].to_owned(),
        resource_id: fields[3].to_owned(),
        verdict,
        forward,
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, today or so.
fn assert_rfc3339(time: &str) {
    let bytes = time.as_bytes();
    assert_eq!(bytes.len(), 20, "{time}");
    for (at, byte) in bytes.iter().enumerate() {
        let expected = match at {
            4 | 7 => b'-',
            10 => b'T',
            13 | 16 => b':',
            19 => b'Z',
            _ => {
                assert!(byte.is_ascii_digit(), "{time}");
                continue;
            }
        };
        assert_eq!(*byte, expected, "{time}");
    }
    let year: u32 = time[..4].parse().expect("year");
    assert!((2024..3000).contains(&year), "{time}");
}

fn send(listen: &Listen, args: &[&str]) -> std::process::Output {
    let url = listen.url("/webhooks");
    let mut all = vec!["send", url.as_str(), "--secret", SECRET];
    all.extend_from_slice(args);
    run(&mut cli(all), b"")
}

/// A raw HTTP/1.1 answer.
#[derive(Debug)]
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Sends one request with `connection: close` and reads the whole answer.
fn raw(address: &str, method: &str, headers: &[(&str, &str)], body: &[u8]) -> Raw {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let mut request = format!(
        "{method} /hooks/any HTTP/1.1\r\nhost: {address}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("write head");
    // A refusal of an oversized body may come before the body is sent.
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8(answer).expect("UTF-8 answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|status| status.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Raw {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn signature(body: &[u8]) -> String {
    protocol_webhooks::sign(SECRET, body)
        .expect("key")
        .to_hex()
        .to_string()
}

#[test]
fn signed_events_are_accepted_and_printed_with_type_and_ids() {
    let listen = Listen::start(&[]);
    let output = send(&listen, &["--all"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    for event_type in EventType::KNOWN {
        let line = parse(&listen.next_line());
        assert_eq!(line.event_type, event_type.as_str());
        assert_eq!(line.verdict, "accepted");
        assert!(
            line.id.starts_with("evt_") && line.id.len() == 20,
            "{line:?}"
        );
        assert_ne!(line.resource_id, "-", "{line:?}");
        assert_eq!(line.forward, None);
    }

    let fixture = std::fs::read(MESSAGE_UPDATED_FIXTURE).expect("fixture");
    let event = Event::from_slice(&fixture).expect("an event");
    let output = send(&listen, &["--file", MESSAGE_UPDATED_FIXTURE]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let line = parse(&listen.next_line());
    assert_eq!(line.event_type, "message.updated");
    assert_eq!(line.id, event.id);
    assert_eq!(Some(line.resource_id.as_str()), event.resource_id());
    assert_eq!(line.verdict, "accepted");
    // `send` shows the answer: the event's summary, with status 200.
    let sent = stdout(&output);
    assert!(sent.contains(" 200 "), "{sent}");
    assert!(
        sent.contains(&format!(r#"{{"id":"{}""#, event.id)),
        "{sent}"
    );
}

#[test]
fn a_wrong_signature_is_refused_with_the_cores_401() {
    let listen = Listen::start(&[]);
    // `send --tamper` expects 401 and exits 0 when it gets it.
    let output = send(&listen, &["--event", "message.created", "--tamper"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let line = parse(&listen.next_line());
    assert_eq!(line.verdict, "refused signature_mismatch");
    assert_eq!(
        (
            line.event_type.as_str(),
            line.id.as_str(),
            line.resource_id.as_str()
        ),
        ("-", "-", "-"),
        "unauthenticated bytes are not parsed"
    );

    let body = br#"{"id":"evt_1","type":"contact.deleted","payload":{"id":"c1"}}"#;
    let wrong = "0".repeat(64);
    let answer = raw(
        listen.address(),
        "POST",
        &[
            ("content-type", "application/json"),
            ("x-protocol-signature", &wrong),
        ],
        body,
    );
    let expected = Answer::from(Rejection::from(SignatureError::Mismatch));
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body, expected.body());
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let line = parse(&listen.next_line());
    assert_eq!(line.verdict, "refused signature_mismatch");

    // Neither the secret nor the signature that would have matched is shown.
    #[cfg(unix)]
    {
        let (status, out, err) = listen.interrupt();
        assert!(status.success(), "{status:?} {err:?}");
        assert!(out.is_empty(), "{out:?}");
        for text in [out.join("\n"), err.join("\n")] {
            assert!(!text.contains(SECRET), "{text}");
            assert!(!text.contains(&signature(body)), "{text}");
        }
    }
}

#[test]
fn every_refusal_gets_the_cores_answer_and_reason() {
    let listen = Listen::start(&[]);
    let address = listen.address().to_owned();

    let unsigned = raw(&address, "POST", &[], b"{}");
    assert_eq!(unsigned.status, 401);
    assert_eq!(
        parse(&listen.next_line()).verdict,
        "refused signature_missing"
    );

    let malformed = raw(&address, "POST", &[("x-protocol-signature", "zz")], b"{}");
    assert_eq!(malformed.status, 401);
    assert_eq!(
        parse(&listen.next_line()).verdict,
        "refused signature_malformed"
    );

    // Authentic, but not an event: the `Webhook` extractor's 400.
    let not_an_event = b"not json";
    let answer = raw(
        &address,
        "POST",
        &[("x-protocol-signature", &signature(not_an_event))],
        not_an_event,
    );
    assert_eq!(answer.status, 400);
    assert!(
        answer
            .body
            .starts_with(r#"{"type":"invalid_request","message":"invalid event"#)
    );
    assert_eq!(parse(&listen.next_line()).verdict, "refused invalid_event");

    let too_large = vec![b' '; protocol_webhooks::DEFAULT_BODY_LIMIT + 1];
    let answer = raw(
        &address,
        "POST",
        &[("x-protocol-signature", &signature(&too_large))],
        &too_large,
    );
    let expected = Answer::from(Rejection::PayloadTooLarge {
        limit: protocol_webhooks::DEFAULT_BODY_LIMIT,
    });
    assert_eq!(answer.status, 413);
    assert_eq!(answer.body, expected.body());
    assert_eq!(answer.header("connection"), Some("close"));
    assert_eq!(
        parse(&listen.next_line()).verdict,
        "refused payload_too_large"
    );

    let get = raw(&address, "GET", &[], b"");
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    assert_eq!(
        parse(&listen.next_line()).verdict,
        "refused method_not_allowed"
    );

    // A signed event on any path is accepted, whatever its content type.
    let body = br#"{"id":"evt_raw","type":"group.created","payload":{"id":"g1"}}"#;
    let answer = raw(
        &address,
        "POST",
        &[("x-protocol-signature", &signature(body))],
        body,
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let summary: Value = serde_json::from_str(&answer.body).expect("json");
    assert_eq!(
        summary,
        serde_json::json!({"id": "evt_raw", "type": "group.created", "resource_id": "g1"})
    );
    let line = parse(&listen.next_line());
    assert_eq!(
        (
            line.event_type.as_str(),
            line.id.as_str(),
            line.resource_id.as_str()
        ),
        ("group.created", "evt_raw", "g1")
    );
}

#[test]
fn json_lines_have_every_field() {
    let listen = Listen::start(&["--json"]);
    let output = send(&listen, &["--event", "contact.created"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = send(&listen, &["--event", "contact.created", "--tamper"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));

    let accepted: Value = serde_json::from_str(&listen.next_line()).expect("a JSON line");
    let refused: Value = serde_json::from_str(&listen.next_line()).expect("a JSON line");
    for object in [&accepted, &refused] {
        let keys: Vec<&str> = object
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "forward_error",
                "forward_status",
                "id",
                "reason",
                "resource_id",
                "status",
                "time",
                "type",
                "verdict"
            ]
        );
        assert_rfc3339(object["time"].as_str().expect("time"));
        assert!(object["forward_status"].is_null() && object["forward_error"].is_null());
    }
    assert_eq!(accepted["verdict"], "accepted");
    assert_eq!(accepted["type"], "contact.created");
    assert!(accepted["id"].as_str().expect("id").starts_with("evt_"));
    assert!(accepted["resource_id"].is_string());
    assert!(accepted["reason"].is_null());
    assert_eq!(accepted["status"], 200);
    assert_eq!(refused["verdict"], "refused");
    assert_eq!(refused["reason"], "signature_mismatch");
    assert_eq!(refused["status"], 401);
    assert!(refused["type"].is_null() && refused["id"].is_null());
}

#[test]
fn accepted_webhooks_are_forwarded_byte_for_byte() {
    let receiver = Receiver::start(SECRET);
    let target = receiver.url();
    let listen = Listen::start(&["--forward-to", &target]);
    assert_eq!(
        listen.next_notice(),
        format!("Forwarding accepted webhooks to {target}")
    );

    let fixture = std::fs::read(MESSAGE_UPDATED_FIXTURE).expect("fixture");
    let output = send(&listen, &["--file", MESSAGE_UPDATED_FIXTURE]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let line = parse(&listen.next_line());
    assert_eq!(line.verdict, "accepted");
    assert_eq!(line.forward.as_deref(), Some("200"));

    // Refused requests are not forwarded.
    let output = send(&listen, &["--event", "message.created", "--tamper"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let line = parse(&listen.next_line());
    assert_eq!(line.verdict, "refused signature_mismatch");
    assert_eq!(line.forward, None);

    // The content type goes along as received.
    let body = br#"{"id":"evt_ct","type":"group.created","payload":{"id":"g1"}}"#;
    let answer = raw(
        listen.address(),
        "POST",
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("x-protocol-signature", &signature(body)),
        ],
        body,
    );
    assert_eq!(answer.status, 200);
    assert_eq!(parse(&listen.next_line()).forward.as_deref(), Some("200"));

    let received = receiver.received();
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(received[0].method, "POST");
    assert_eq!(received[0].path, "/webhooks");
    assert_eq!(received[0].body, fixture, "byte for byte");
    assert_eq!(
        received[0].signature.as_deref(),
        Some(signature(&fixture).as_str())
    );
    assert_eq!(
        received[0].content_type.as_deref(),
        Some("application/json")
    );
    assert_eq!(received[0].status, 200, "the signature still verifies");
    assert_eq!(received[1].body, body);
    assert_eq!(
        received[1].content_type.as_deref(),
        Some("application/json; charset=utf-8")
    );
}

#[test]
fn the_forward_targets_refusal_is_shown() {
    // A receiver with another secret refuses what `listen` accepted.
    let receiver = Receiver::start("whsec_another_secret");
    let listen = Listen::start(&["--forward-to", &receiver.url()]);
    let output = send(&listen, &["--event", "group.updated"]);
    assert_eq!(code(&output), 0, "the sender gets listen's own 200");
    let line = parse(&listen.next_line());
    assert_eq!(line.verdict, "accepted");
    assert_eq!(line.forward.as_deref(), Some("401"));
}

#[test]
fn a_forward_target_that_is_down_is_a_clear_error_and_the_sender_still_gets_its_answer() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let target = format!("http://127.0.0.1:{port}/webhooks");
    let listen = Listen::start(&["--forward-to", &target, "--json"]);
    let _forwarding = listen.next_notice();

    let output = send(&listen, &["--event", "message.created"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stdout(&output).contains(" 200 "), "{}", stdout(&output));

    let line: Value = serde_json::from_str(&listen.next_line()).expect("a JSON line");
    assert_eq!(line["verdict"], "accepted");
    assert!(line["forward_status"].is_null());
    assert_eq!(line["forward_error"], "connection_refused");
    let warning = listen.next_notice();
    assert!(
        warning.contains(&target) && warning.contains("connection refused"),
        "{warning}"
    );

    // It keeps serving.
    let output = send(&listen, &["--event", "contact.created"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let line: Value = serde_json::from_str(&listen.next_line()).expect("a JSON line");
    assert_eq!(line["forward_error"], "connection_refused");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_gracefully() {
    let listen = Listen::start(&[]);
    let output = send(&listen, &["--event", "message.created"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let _line = listen.next_line();
    // An idle kept-alive connection does not hold the stop up.
    let idle = TcpStream::connect(listen.address()).expect("connect");
    let address = listen.address().to_owned();
    let (status, out, err) = listen.interrupt();
    assert_eq!(status.code(), Some(0), "{err:?}");
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(err, ["Stopped"]);
    drop(idle);
    assert!(TcpStream::connect(&address).is_err(), "no longer listening");
}

#[test]
fn a_taken_port_is_exit_1_and_a_missing_secret_exit_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port().to_string();
    let output = run(
        &mut cli(["listen", "--port", &port, "--secret", SECRET]),
        b"",
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{message}"
    );
    assert_eq!(stdout(&output), "");

    for args in [
        &["listen", "--port", "0"][..],
        &[
            "listen",
            "--port",
            "0",
            "--secret",
            SECRET,
            "--forward-to",
            "https://127.0.0.1/",
        ],
        &["listen", "--port", "65536", "--secret", SECRET],
    ] {
        let output = run(&mut cli(args), b"");
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        assert_eq!(stdout(&output), "");
    }
}
