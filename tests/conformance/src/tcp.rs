//! The same suite over a real 127.0.0.1 socket, plus checks only a socket
//! can make.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{Harness, TestRequest, TestResponse, run};

/// Sends each request with a real HTTP client (reqwest) to a server
/// listening on `address`.
#[derive(Debug, Clone)]
pub struct TcpHarness {
    address: SocketAddr,
    client: reqwest::Client,
}

impl TcpHarness {
    /// A harness for a server listening on `address` (a loopback address).
    ///
    /// # Panics
    /// If the HTTP client cannot be built, which only a broken TLS-less
    /// build of reqwest would cause.
    #[must_use]
    pub fn new(address: SocketAddr) -> Self {
        assert!(
            address.ip().is_loopback(),
            "the suite only talks to loopback"
        );
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client builds");
        Self { address, client }
    }
}

impl Harness for TcpHarness {
    const IN_PROCESS: bool = false;

    async fn send(&self, request: TestRequest) -> TestResponse {
        let url = format!("http://{}{}", self.address, request.path);
        let mut builder = self.client.post(url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_slice());
        }
        builder = if request.chunked {
            let chunks = request.chunks();
            let stream =
                futures_util::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
            builder.body(reqwest::Body::wrap_stream(stream))
        } else {
            builder.body(request.body.clone())
        };
        match builder.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                let body = response
                    .bytes()
                    .await
                    .map(|b| b.to_vec())
                    .unwrap_or_default();
                TestResponse {
                    status,
                    content_type,
                    body,
                    retry_after,
                }
            }
            // A server that answers early (413) may close before the client
            // finishes sending; reqwest then reports an error with no
            // response. Report it as status 0 so the case fails visibly.
            Err(error) => TestResponse {
                status: 0,
                content_type: None,
                body: error.to_string().into_bytes(),
                retry_after: None,
            },
        }
    }
}

/// Runs the whole suite over TCP against `address`, then the socket-only
/// checks:
///
/// - a client that declares 1000 bytes, sends 10 and closes does not take
///   the server down: the next request is served;
/// - every check of [`run_hostile`](crate::run_hostile): a body declared
///   larger than the limit is refused with 413 before any of it is sent
///   (with and without `Expect: 100-continue`), a stalled body gets 408 at
///   the [`BODY_TIMEOUT`](crate::BODY_TIMEOUT), a signature header repeated
///   with a non-UTF-8 copy gets 401, broken chunk framing gets 400, and a
///   trickled head holds up no one.
///
/// # Panics
/// When any case or check fails.
pub async fn run_over_tcp(address: SocketAddr) {
    run(&TcpHarness::new(address)).await;
    truncated_body_does_not_disturb_the_server(address).await;
    crate::run_hostile(address).await;
}

/// A client that declares 1000 bytes, sends 10 and stalls gets 408 with
/// `Connection: close` within a second of the
/// [`BODY_TIMEOUT`](crate::BODY_TIMEOUT). Part of [`run_hostile`](crate::run_hostile).
///
/// # Panics
/// When it does not.
pub async fn stalled_body_is_refused_at_the_deadline(address: SocketAddr) {
    // 20 bytes of body: more than the 14 Rocket 0.5 reads before routing,
    // which it waits for with no deadline of its own, so that the request
    // reaches the adapter in every framework.
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nx-protocol-signature: {}\r\nContent-Length: 1000\r\n\r\n{{\"id\":\"evt_stalled\",",
        crate::EVENT_PATH,
        "0".repeat(64),
    );
    let started = std::time::Instant::now();
    let text = answer_head(address, &head, crate::BODY_TIMEOUT + Duration::from_secs(5)).await;
    let waited = started.elapsed();
    assert!(
        text.starts_with("HTTP/1.1 408"),
        "a stalled body must get 408, got {text:?} after {waited:?}"
    );
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "a 408 must carry Connection: close, got {text:?}"
    );
    assert!(
        waited >= crate::BODY_TIMEOUT && waited < crate::BODY_TIMEOUT + Duration::from_secs(1),
        "the 408 came after {waited:?}, the deadline is {:?}",
        crate::BODY_TIMEOUT
    );
}

async fn raw_exchange(address: SocketAddr, head: &str, body: &[u8], close: bool) -> Vec<u8> {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body).await.expect("write body");
    if close {
        stream.shutdown().await.expect("shutdown");
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    if read.is_err() {
        answer.extend_from_slice(b"<timed out>");
    }
    answer
}

/// Sends `request` on a new connection, leaves it open, and returns the
/// head of the answer that comes within `wait`, or what went wrong.
async fn answer_head(address: SocketAddr, request: &str, wait: Duration) -> String {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    match tokio::time::timeout(wait, read_head(&mut stream)).await {
        Ok(Ok(head)) => head,
        Ok(Err(error)) => format!("<read error {error}>"),
        Err(_) => String::from("<timed out>"),
    }
}

/// Reads a response head, up to the blank line (or the end of the stream).
async fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 512];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// A client that declares 1000 bytes, sends 10 and closes gets 400, and the
/// next request is served. Part of [`run_over_tcp`].
///
/// # Panics
/// When either does not hold.
pub async fn truncated_body_does_not_disturb_the_server(address: SocketAddr) {
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nx-protocol-signature: {}\r\nContent-Length: 1000\r\n\r\n",
        crate::EVENT_PATH,
        "0".repeat(64),
    );
    let answer = raw_exchange(address, &head, b"{\"id\":\"ev", true).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 400"),
        "a body cut short must get 400, got {answer:?}"
    );
    let request = crate::cases::cases()
        .into_iter()
        .find(|case| matches!(case.expected, crate::Expected::Event { .. }))
        .expect("an accepted case exists")
        .request;
    let response = TcpHarness::new(address).send(request).await;
    assert_eq!(
        response.status, 200,
        "server must keep serving after a truncated body, got {response:?}"
    );
}
