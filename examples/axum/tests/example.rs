//! The example binary as a user or a demo runner drives it: environment in,
//! one `listening on` line out, HTTP answers, a clean stop on SIGTERM.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

use protocol_webhooks_axum::protocol_webhooks::testing::SignedRequest;

const BIN: &str = env!("CARGO_BIN_EXE_example-axum");
const SECRET: &str = "whsec_example_test";

fn run_without_serving(secret: Option<&str>, port: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command
        .env_remove("PROTOCOL_WEBHOOK_SECRET")
        .env_remove("PORT");
    if let Some(secret) = secret {
        command.env("PROTOCOL_WEBHOOK_SECRET", secret);
    }
    if let Some(port) = port {
        command.env("PORT", port);
    }
    command.output().expect("the example runs")
}

#[test]
fn a_missing_or_empty_secret_is_a_usage_error() {
    for secret in [None, Some("")] {
        let output = run_without_serving(secret, None);
        assert_eq!(output.status.code(), Some(2), "secret {secret:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("PROTOCOL_WEBHOOK_SECRET"), "{stderr}");
    }
}

#[test]
fn a_port_that_is_not_a_port_number_is_a_usage_error() {
    for port in ["http", "65536", "-1", ""] {
        let output = run_without_serving(Some(SECRET), Some(port));
        assert_eq!(output.status.code(), Some(2), "port {port:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("PORT must be a port number"), "{stderr}");
    }
}

/// Kills the server if a failed assertion unwinds past it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 exchange on a fresh connection: status and body.
fn post(address: &str, path: &str, body: &[u8], signature: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("connect to the example");
    let signature = signature
        .map(|value| format!("x-protocol-signature: {value}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n{signature}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read answer");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[cfg(unix)]
#[test]
fn serves_verified_events_and_stops_on_sigterm() {
    let child = Command::new(BIN)
        .env("PROTOCOL_WEBHOOK_SECRET", SECRET)
        .env("PORT", "0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let mut server = Server(child);
    let stdout = server.0.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split_once("listening on http://")
                .map(|(_, address)| address.trim().to_owned())
        })
        .expect("a `listening on` line");
    assert!(address.starts_with("127.0.0.1:"), "{address}");

    let signed = SignedRequest::new(
        SECRET,
        br#"{"id":"evt_1","type":"contact.created","payload":{"id":"WAz8eIbvDR60rouK"}}"#.to_vec(),
    )
    .expect("signed");
    let (status, body) = post(
        &address,
        "/webhooks",
        signed.body(),
        Some(signed.signature()),
    );
    assert_eq!(status, 200, "{body}");
    let summary: serde_json::Value = serde_json::from_str(&body).expect("JSON answer");
    assert_eq!(
        summary,
        serde_json::json!({"id": "evt_1", "type": "contact.created", "resource_id": "WAz8eIbvDR60rouK"})
    );

    let ping =
        SignedRequest::new(SECRET, br#"{"id":"evt_2","type":"ping"}"#.to_vec()).expect("signed");
    let (status, body) = post(&address, "/webhooks", ping.body(), Some(ping.signature()));
    assert_eq!(status, 200, "{body}");
    let summary: serde_json::Value = serde_json::from_str(&body).expect("JSON answer");
    assert_eq!(
        summary,
        serde_json::json!({"id": "evt_2", "type": "ping", "resource_id": null})
    );

    let (status, _) = post(&address, "/webhooks", signed.body(), None);
    assert_eq!(status, 401);

    // The exactly-once route: the first delivery is handled, a redelivery
    // of the same event id is answered as a duplicate.
    let once = SignedRequest::new(
        SECRET,
        br#"{"id":"evt_once","type":"contact.created","payload":{"id":"WAz8eIbvDR60rouK"}}"#
            .to_vec(),
    )
    .expect("signed");
    let (status, body) = post(
        &address,
        "/webhooks/once",
        once.body(),
        Some(once.signature()),
    );
    assert_eq!(status, 200, "{body}");
    let summary: serde_json::Value = serde_json::from_str(&body).expect("JSON answer");
    assert_eq!(summary["id"], "evt_once");
    let (status, body) = post(
        &address,
        "/webhooks/once",
        once.body(),
        Some(once.signature()),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        r#"{"type":"duplicate","message":"event evt_once already processed"}"#
    );
    let (status, _) = post(&address, "/webhooks/once", once.body(), None);
    assert_eq!(status, 401);

    let terminated = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(terminated.success());
    let exit = server.0.wait().expect("the example exits");
    assert!(exit.success(), "{exit:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|line| line.contains("stopped")), "{rest:?}");
}
