//! Requests no well-behaved sender makes, written byte for byte on a raw
//! socket: a length over the limit with no body behind it, a signature
//! header repeated with a value that is not UTF-8, broken chunked framing,
//! and a head trickled a byte at a time.
//!
//! Where the core answers, each check requires its exact answer: status,
//! JSON body and `Connection: close` when the body was left unread. Where
//! the HTTP library refuses the request before the adapter sees it (an
//! unreadable chunk size, in some libraries), its own 400 is accepted. A
//! 2xx, a 401 or a 5xx is never accepted for broken framing, nor a 2xx or a
//! 5xx for any of these requests.

use core::fmt;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use protocol_webhooks::{Answer, DEFAULT_BODY_LIMIT, Key, Rejection, SignatureError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::Harness as _;
use crate::{EVENT_PATH, RAW_PATH, SECRET, TcpHarness};

/// How soon a declared length over the limit must be refused.
const EARLY: Duration = Duration::from_secs(1);

/// How long a check waits for an answer that needs no deadline to pass.
const PROMPT: Duration = Duration::from_secs(5);

/// The chunk-size lines that are not a chunk size: not hex, negative, and
/// more hex digits than a 64-bit size holds.
pub const BROKEN_CHUNK_SIZES: [&str; 3] = ["zz", "-5", "ffffffffffffffffff"];

/// Runs every hostile check against a server listening on `address`; part
/// of [`run_over_tcp`](crate::run_over_tcp).
///
/// - [`declared_length_over_limit_is_refused_before_the_body`] and
///   [`declared_length_over_limit_is_refused_without_100_continue`];
/// - [`stalled_body_is_refused_at_the_deadline`](crate::stalled_body_is_refused_at_the_deadline);
/// - [`repeated_signature_with_a_non_utf8_copy_is_refused`];
/// - [`broken_chunk_framing_is_refused`] and [`chunk_size_overflow_is_refused`];
/// - [`trickled_head_holds_up_no_one`].
///
/// # Panics
/// When any check fails.
pub async fn run_hostile(address: SocketAddr) {
    declared_length_over_limit_is_refused_before_the_body(address).await;
    declared_length_over_limit_is_refused_without_100_continue(address).await;
    crate::stalled_body_is_refused_at_the_deadline(address).await;
    repeated_signature_with_a_non_utf8_copy_is_refused(address).await;
    broken_chunk_framing_is_refused(address).await;
    chunk_size_overflow_is_refused(address).await;
    trickled_head_holds_up_no_one(address).await;
}

/// A request declaring twice the limit, of which no body byte is ever
/// sent, gets the core's 413 with `Connection: close` within a second.
///
/// # Panics
/// When it does not.
pub async fn declared_length_over_limit_is_refused_before_the_body(address: SocketAddr) {
    refuse_declared_length(address, false).await;
}

/// The same request with `Expect: 100-continue`: the server must not ask
/// for the body with `100 Continue` before refusing it, so that the sender
/// never starts sending it. The first answer is the core's 413, within a
/// second.
///
/// # Panics
/// When it is not.
pub async fn declared_length_over_limit_is_refused_without_100_continue(address: SocketAddr) {
    refuse_declared_length(address, true).await;
}

async fn refuse_declared_length(address: SocketAddr, expect_continue: bool) {
    let expect = if expect_continue {
        "Expect: 100-continue\r\n"
    } else {
        ""
    };
    let head = format!(
        "POST {EVENT_PATH} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nx-protocol-signature: {}\r\nContent-Length: {}\r\n{expect}\r\n",
        "0".repeat(64),
        2 * DEFAULT_BODY_LIMIT,
    );
    let started = Instant::now();
    let mut stream = connect(address).await;
    stream.write_all(head.as_bytes()).await.expect("write head");
    let answer = RawAnswer::read(&mut stream, EARLY).await;
    let waited = started.elapsed();
    let what = if expect_continue {
        "with Expect: 100-continue"
    } else {
        "with no body sent"
    };
    assert!(
        answer.status != 100,
        "a declared Content-Length over the limit {what} must be refused, not answered 100 Continue: {answer:?}"
    );
    answer.assert_core(
        &Answer::from(Rejection::PayloadTooLarge {
            limit: DEFAULT_BODY_LIMIT,
        }),
        &format!("a declared Content-Length over the limit {what} (after {waited:?})"),
    );
}

/// The signature header twice, once with bytes that are not UTF-8 (`0xff`,
/// `0xfe`) and once with the valid signature, in either order, gets the
/// core's 401 for a repeated header: any repeat is refused, whatever the
/// values, so a value the HTTP layer cannot read must not make the other
/// one count alone.
///
/// # Panics
/// When it does not.
pub async fn repeated_signature_with_a_non_utf8_copy_is_refused(address: SocketAddr) {
    let body = br#"{"id":"evt_hostile_repeated","type":"ping"}"#;
    let signature = signature(body);
    let unreadable: &[u8] = b"\xff\xfe";
    for (first, second) in [
        (unreadable, signature.as_bytes()),
        (signature.as_bytes(), unreadable),
    ] {
        let mut request = format!(
            "POST {EVENT_PATH} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len(),
        )
        .into_bytes();
        for value in [first, second] {
            request.extend_from_slice(b"x-protocol-signature: ");
            request.extend_from_slice(value);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(body);
        let answer = exchange(address, &request).await;
        let order = if first == unreadable {
            "non-UTF-8 copy first"
        } else {
            "non-UTF-8 copy second"
        };
        answer.assert_core(
            &Answer::from(SignatureError::Repeated),
            &format!("a repeated signature header, {order}"),
        );
    }
}

/// A chunked body whose chunk-size line is not a size (`zz`, `-5`) is
/// refused with 400, both as the first chunk and after a valid one. The
/// signature is valid for the bytes before the broken line, so a server
/// that took the broken framing for the end of the body would answer 200.
///
/// # Panics
/// When it is answered anything but 400.
pub async fn broken_chunk_framing_is_refused(address: SocketAddr) {
    for size in &BROKEN_CHUNK_SIZES[..2] {
        refuse_chunk_size(address, size).await;
    }
}

/// A chunk size of more hex digits than 64 bits hold
/// (`ffffffffffffffffff`) is refused with 400, as the first chunk and after
/// a valid one.
///
/// # Panics
/// When it is answered anything but 400.
pub async fn chunk_size_overflow_is_refused(address: SocketAddr) {
    refuse_chunk_size(address, BROKEN_CHUNK_SIZES[2]).await;
}

async fn refuse_chunk_size(address: SocketAddr, size: &str) {
    // Rocket reads 14 bytes of every body before routing: a first chunk
    // longer than that is read by the adapter, a broken first chunk by
    // Rocket's own read.
    let valid = br#"{"id":"evt_hostile_chunked","type":"ping"}"#;
    for before in [&b""[..], valid] {
        let mut request = format!(
            "POST {RAW_PATH} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nx-protocol-signature: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            signature(before),
        )
        .into_bytes();
        if !before.is_empty() {
            request.extend_from_slice(format!("{:x}\r\n", before.len()).as_bytes());
            request.extend_from_slice(before);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(format!("{size}\r\n{{}}\r\n0\r\n\r\n").as_bytes());
        let answer = exchange(address, &request).await;
        let what = format!(
            "chunk size {size:?} after {} valid body bytes",
            before.len()
        );
        assert_eq!(
            answer.status, 400,
            "{what} must be refused with 400 (never 2xx, 401 or 5xx): {answer:?}"
        );
        if answer.is_json() {
            answer.assert_core(&Answer::from(Rejection::IncompleteBody), &what);
        }
        // Otherwise the HTTP library refused the framing itself, before
        // the adapter read the body (hyper answers such a request 400 with
        // an empty body): its 400 is the right status, with its own body.
    }
}

/// A client that sends its head one byte every 200 ms holds up no one: a
/// signed request on a new connection is answered 200 meanwhile, and the
/// trickling connection is never answered 2xx or 5xx, whether the server
/// gives up on the head or reads it to its end.
///
/// How long a head may take is a setting of the server (hyper's and
/// actix-web's header timeouts), which the application owns, not the
/// adapter: this check trickles for 3 s and requires no answer of its own.
///
/// # Panics
/// When the server stops answering others or answers the trickle 2xx or 5xx.
pub async fn trickled_head_holds_up_no_one(address: SocketAddr) {
    const TRICKLED: usize = 15;
    let body = br#"{"id":"evt_hostile_trickled","type":"ping"}"#;
    let head = format!(
        "POST {EVENT_PATH} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nx-protocol-signature: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        "0".repeat(64),
        body.len(),
    );
    let (trickled, rest) = head.as_bytes().split_at(TRICKLED);
    let mut stream = connect(address).await;
    let trickle = async {
        for byte in trickled {
            if stream.write_all(&[*byte]).await.is_err() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        true
    };
    let others = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        signed_request_is_served(address, "while another client trickles its head").await;
    };
    let (open, ()) = futures_util::future::join(trickle, others).await;

    // The rest of the head and the body at once: the signature is wrong,
    // so nothing but a refusal, or a connection the server already gave
    // up on, is right.
    let answer = if open {
        let mut request = rest.to_vec();
        request.extend_from_slice(body);
        match stream.write_all(&request).await {
            Ok(()) => RawAnswer::read(&mut stream, PROMPT).await,
            Err(error) => RawAnswer::none(format!("<write error {error}>")),
        }
    } else {
        RawAnswer::read(&mut stream, PROMPT).await
    };
    assert!(
        !(200..300).contains(&answer.status) && !(500..600).contains(&answer.status),
        "a trickled head with a wrong signature got {answer:?}"
    );
    signed_request_is_served(address, "after a client trickled its head").await;
}

async fn signed_request_is_served(address: SocketAddr, when: &str) {
    let request = crate::cases::cases()
        .into_iter()
        .find(|case| matches!(case.expected, crate::Expected::Event { .. }))
        .expect("an accepted case exists")
        .request;
    let response = tokio::time::timeout(PROMPT, TcpHarness::new(address).send(request)).await;
    assert!(
        response
            .as_ref()
            .is_ok_and(|response| response.status == 200),
        "a signed request {when} must be served, got {response:?}"
    );
}

fn signature(body: &[u8]) -> String {
    Key::new(SECRET)
        .expect("non-empty secret")
        .sign(body)
        .to_hex()
        .as_str()
        .to_owned()
}

async fn connect(address: SocketAddr) -> TcpStream {
    assert!(
        address.ip().is_loopback(),
        "the suite only talks to loopback"
    );
    TcpStream::connect(address).await.expect("connect")
}

/// Writes `request` on a new connection and reads the answer.
async fn exchange(address: SocketAddr, request: &[u8]) -> RawAnswer {
    let mut stream = connect(address).await;
    match stream.write_all(request).await {
        Ok(()) => RawAnswer::read(&mut stream, PROMPT).await,
        // A server may refuse and close before all of it is written.
        Err(error) => RawAnswer::read(&mut stream, PROMPT)
            .await
            .or_else(|| format!("<write error {error}>")),
    }
}

/// The first answer on a connection, read off the wire.
struct RawAnswer {
    /// 0 when there was none: `head` says why.
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl RawAnswer {
    fn none(why: String) -> Self {
        Self {
            status: 0,
            head: why,
            body: Vec::new(),
        }
    }

    /// This if it is an answer, otherwise none for the reason `why` gives.
    fn or_else(self, why: impl FnOnce() -> String) -> Self {
        if self.status == 0 {
            Self::none(format!("{} ({})", self.head, why()))
        } else {
            self
        }
    }

    /// Reads one answer (a `100 Continue` counts as one) within `wait`.
    async fn read(stream: &mut TcpStream, wait: Duration) -> Self {
        let mut received = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        let head_end = loop {
            if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            match read_more(stream, &mut received, deadline).await {
                Ok(0) => {
                    return Self::none(format!(
                        "<closed after {:?}>",
                        String::from_utf8_lossy(&received)
                    ));
                }
                Ok(_) => {}
                Err(why) => {
                    return Self::none(format!(
                        "<{why} after {:?}>",
                        String::from_utf8_lossy(&received)
                    ));
                }
            }
        };
        let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
        let status = head
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let mut answer = Self {
            status,
            head,
            body: received.split_off(head_end),
        };
        if status == 100 {
            return answer;
        }
        let length = answer
            .header("content-length")
            .and_then(|value| value.parse::<usize>().ok());
        let chunked = answer
            .header("transfer-encoding")
            .is_some_and(|value| value.eq_ignore_ascii_case("chunked"));
        loop {
            let done = match length {
                Some(length) => answer.body.len() >= length,
                None if chunked => answer.body.ends_with(b"0\r\n\r\n"),
                None => false,
            };
            if done {
                break;
            }
            match read_more(stream, &mut answer.body, deadline).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        if chunked {
            answer.body = dechunk(&answer.body);
        }
        answer
    }

    /// The value of the header `name` (lower case), if present.
    fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|line| {
            let (field, value) = line.split_once(':')?;
            field
                .trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }

    fn is_json(&self) -> bool {
        self.header("content-type")
            .is_some_and(|value| value.starts_with("application/json"))
    }

    /// Requires exactly `expected`: its status, its JSON body (and so its
    /// `type`), and `Connection: close` when it closes the connection.
    fn assert_core(&self, expected: &Answer, what: &str) {
        assert_eq!(
            self.status,
            expected.status(),
            "{what}: expected the core's {} answer, got {self:?}",
            expected.reason()
        );
        assert!(
            self.is_json(),
            "{what}: the {} answer must be JSON, got {self:?}",
            expected.reason()
        );
        let got: serde_json::Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("{what}: body is not JSON ({error}): {self:?}"));
        let wanted: serde_json::Value =
            serde_json::from_str(&expected.body()).expect("the core's body is JSON");
        assert_eq!(
            got,
            wanted,
            "{what}: not the core's {} answer (type {:?})",
            expected.reason(),
            expected.error_type()
        );
        if expected.closes_connection() {
            assert!(
                self.header("connection")
                    .is_some_and(|value| value.eq_ignore_ascii_case("close")),
                "{what}: the {} answer must carry Connection: close, got {self:?}",
                expected.reason()
            );
        }
    }
}

impl fmt::Debug for RawAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawAnswer")
            .field("status", &self.status)
            .field("head", &self.head)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

/// Reads what arrives before `deadline`: the byte count, 0 at the end of
/// the stream.
async fn read_more(
    stream: &mut TcpStream,
    into: &mut Vec<u8>,
    deadline: tokio::time::Instant,
) -> Result<usize, String> {
    let mut buffer = [0u8; 1024];
    match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
        Ok(Ok(read)) => {
            into.extend_from_slice(&buffer[..read]);
            Ok(read)
        }
        Ok(Err(error)) => Err(format!("read error {error}")),
        Err(_) => Err(String::from("timed out")),
    }
}

/// The data of a chunked body, as far as it is well formed.
fn dechunk(mut wire: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    while let Some(line_end) = wire.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&wire[..line_end])
            .ok()
            .and_then(|line| usize::from_str_radix(line.split(';').next()?.trim(), 16).ok());
        let Some(size) = size.filter(|size| *size > 0) else {
            break;
        };
        let start = line_end + 2;
        let Some(chunk) = wire.get(start..start + size) else {
            break;
        };
        data.extend_from_slice(chunk);
        wire = wire.get(start + size + 2..).unwrap_or_default();
    }
    data
}
