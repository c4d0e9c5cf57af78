//! A raw HTTP/1.1 client on tokio sockets, with keep-alive.
//!
//! A general HTTP client hides exactly what these tests look at: whether
//! the answer arrived before the server closed a connection the client was
//! still writing to, how much of a body the server read after answering,
//! and whether it stopped reading at all. Here the request is written and
//! the answer read at the same time on one socket, and both sides are
//! accounted for separately.

use core::fmt;
use core::net::SocketAddr;
use core::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use core::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::EVENT_PATH;

/// Bodies are written in pieces of this size, and the generated body of a
/// streamed request is one static piece of this size sent over and over,
/// so the client never holds more than this of it.
pub(crate) const CHUNK: usize = 64 * 1024;

static SPACES: [u8; CHUNK] = [b' '; CHUNK];

/// An answer's head larger than this is a broken server, not a slow one.
const MAX_HEAD: usize = 64 * 1024;

/// Answers are small JSON documents; this is a guard, not an expectation.
const MAX_BODY: usize = 1024 * 1024;

/// A request body.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outgoing<'a> {
    /// These bytes, sent with their `Content-Length`.
    Sized(&'a [u8]),
    /// This many spaces, generated [`CHUNK`] bytes at a time and sent with
    /// `Transfer-Encoding: chunked`, one HTTP chunk per piece.
    ChunkedSpaces(u64),
}

/// How the client stopped writing a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteEnd {
    /// The whole request was written: the server read (or at least took
    /// into its socket buffers) every byte.
    Complete,
    /// Writing failed, typically because the server closed or reset the
    /// connection.
    Failed(String),
    /// The server stopped taking bytes but kept the connection open.
    Stalled,
    /// The client stopped by itself: once the answer arrived, or when the
    /// time it allows for writing after the answer ran out.
    Stopped,
}

impl fmt::Display for WriteEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Complete => f.write_str("the whole body was written"),
            Self::Failed(error) => write!(f, "writing failed: {error}"),
            Self::Stalled => f.write_str("the server stopped reading but kept the connection open"),
            Self::Stopped => f.write_str("the client stopped writing"),
        }
    }
}

/// Time limits of one exchange.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// For the whole answer, from the first byte written.
    pub(crate) answer: Duration,
    /// For one piece of the request to be taken by the socket.
    pub(crate) stall: Duration,
    /// Keep writing the rest of the body after the answer arrived, for at
    /// most this long, to see whether the server keeps reading it. `None`
    /// stops writing as soon as the answer is in.
    pub(crate) after_answer: Option<Duration>,
}

/// An answer read in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    /// Whether the server keeps the connection open for another request.
    pub(crate) keep_alive: bool,
    /// Whether the answer said `Connection: close`.
    pub(crate) close_announced: bool,
    pub(crate) body: Vec<u8>,
}

/// An answer that did not arrive in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadFailure {
    /// The status, when the status line arrived before the failure.
    pub(crate) status: Option<u16>,
    pub(crate) error: String,
}

impl fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "{} after status {status}", self.error),
            None => f.write_str(&self.error),
        }
    }
}

/// What happened to one request.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub(crate) response: Result<Response, ReadFailure>,
    /// Body bytes written when the answer was complete (or had failed).
    pub(crate) sent_at_answer: u64,
    /// Body bytes written in all.
    pub(crate) sent: u64,
    pub(crate) write: WriteEnd,
    /// Whether the connection may carry another request.
    pub(crate) reusable: bool,
}

impl Exchange {
    /// The status, whether or not the rest of the answer arrived.
    pub(crate) fn status(&self) -> Option<u16> {
        match &self.response {
            Ok(response) => Some(response.status),
            Err(failure) => failure.status,
        }
    }
}

/// One client connection to a loopback server.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: TcpStream,
    /// Bytes read but not yet consumed.
    buffer: Vec<u8>,
}

impl Connection {
    /// Connects to `address`, which must be a loopback address.
    pub(crate) async fn open(address: SocketAddr, within: Duration) -> Result<Self, String> {
        Ok(Self {
            stream: connect(address, within).await?,
            buffer: Vec::with_capacity(8 * 1024),
        })
    }

    /// Writes the request and reads the answer at the same time.
    ///
    /// Writing stops when the answer is complete, unless
    /// [`Timeouts::after_answer`] asks to go on; a write error does not
    /// end the exchange while the answer may still arrive, since a server
    /// that answers early and closes is behaving as intended.
    pub(crate) async fn exchange(
        &mut self,
        head: &[u8],
        body: Outgoing<'_>,
        timeouts: Timeouts,
    ) -> Exchange {
        let sent = AtomicU64::new(0);
        let status = AtomicU16::new(0);
        let (response, sent_at_answer, write) = {
            let (mut reader, mut writer) = self.stream.split();
            let write = write_request(&mut writer, head, body, &sent, timeouts.stall);
            let read = timeout(
                timeouts.answer,
                read_response(&mut reader, &mut self.buffer, &status),
            );
            tokio::pin!(write, read);
            let mut written = None;
            let response = loop {
                tokio::select! {
                    biased;
                    answer = &mut read => break answer.unwrap_or_else(|_| {
                        Err(format!("no complete answer within {:?}", timeouts.answer))
                    }),
                    end = &mut write, if written.is_none() => written = Some(end),
                }
            };
            let sent_at_answer = sent.load(Ordering::Relaxed);
            let write = match (written, timeouts.after_answer) {
                (Some(end), _) => end,
                (None, Some(limit)) if response.is_ok() => {
                    timeout(limit, write).await.unwrap_or(WriteEnd::Stopped)
                }
                (None, _) => WriteEnd::Stopped,
            };
            (response, sent_at_answer, write)
        };
        let response = response.map_err(|error| ReadFailure {
            status: seen(&status),
            error,
        });
        // A 413 refuses a body the server has not read. Whether it then
        // drains the body or closes is its choice, and hyper-based servers
        // close without saying so in the answer, so the connection is not
        // trusted with another request whatever the answer claims.
        let reusable = write == WriteEnd::Complete
            && self.buffer.is_empty()
            && response
                .as_ref()
                .is_ok_and(|response| response.keep_alive && response.status != 413);
        Exchange {
            response,
            sent_at_answer,
            sent: sent.load(Ordering::Relaxed),
            write,
            reusable,
        }
    }
}

/// Connects with `TCP_NODELAY`: a request head and body written separately
/// must not wait for the server's delayed ACK.
pub(crate) async fn connect(address: SocketAddr, within: Duration) -> Result<TcpStream, String> {
    if !address.ip().is_loopback() {
        return Err(format!("{address} is not a loopback address"));
    }
    let stream = timeout(within, TcpStream::connect(address))
        .await
        .map_err(|_| format!("connecting to {address} took over {within:?}"))?
        .map_err(|error| format!("cannot connect to {address}: {error}"))?;
    stream
        .set_nodelay(true)
        .map_err(|error| format!("cannot set TCP_NODELAY: {error}"))?;
    Ok(stream)
}

/// The head of a `POST` to [`EVENT_PATH`] with the framing of `body`.
pub(crate) fn head(address: SocketAddr, signature: Option<&str>, body: Outgoing<'_>) -> Vec<u8> {
    let mut head = format!(
        "POST {EVENT_PATH} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n"
    );
    if let Some(signature) = signature {
        head.push_str("x-protocol-signature: ");
        head.push_str(signature);
        head.push_str("\r\n");
    }
    match body {
        Outgoing::Sized(bytes) => {
            head.push_str(&format!("Content-Length: {}\r\n", bytes.len()));
        }
        Outgoing::ChunkedSpaces(_) => head.push_str("Transfer-Encoding: chunked\r\n"),
    }
    head.push_str("\r\n");
    head.into_bytes()
}

async fn write_request<W: AsyncWrite + Unpin>(
    writer: &mut W,
    head: &[u8],
    body: Outgoing<'_>,
    sent: &AtomicU64,
    stall: Duration,
) -> WriteEnd {
    match write_all_parts(writer, head, body, sent, stall).await {
        Ok(()) => WriteEnd::Complete,
        Err(end) => end,
    }
}

async fn write_all_parts<W: AsyncWrite + Unpin>(
    writer: &mut W,
    head: &[u8],
    body: Outgoing<'_>,
    sent: &AtomicU64,
    stall: Duration,
) -> Result<(), WriteEnd> {
    match body {
        // One write for a small request: the usual case, one segment.
        Outgoing::Sized(bytes) if bytes.len() <= CHUNK => {
            let whole = [head, bytes].concat();
            piece(writer, &whole, stall).await?;
            sent.store(bytes.len() as u64, Ordering::Relaxed);
        }
        Outgoing::Sized(bytes) => {
            piece(writer, head, stall).await?;
            for part in bytes.chunks(CHUNK) {
                piece(writer, part, stall).await?;
                sent.fetch_add(part.len() as u64, Ordering::Relaxed);
            }
        }
        Outgoing::ChunkedSpaces(total) => {
            piece(writer, head, stall).await?;
            let mut left = total;
            while left > 0 {
                let size = usize::try_from(left).map_or(CHUNK, |left| left.min(CHUNK));
                piece(writer, format!("{size:x}\r\n").as_bytes(), stall).await?;
                piece(writer, &SPACES[..size], stall).await?;
                piece(writer, b"\r\n", stall).await?;
                sent.fetch_add(size as u64, Ordering::Relaxed);
                left -= size as u64;
            }
            piece(writer, b"0\r\n\r\n", stall).await?;
        }
    }
    match timeout(stall, writer.flush()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(WriteEnd::Failed(error.to_string())),
        Err(_) => Err(WriteEnd::Stalled),
    }
}

async fn piece<W: AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
    stall: Duration,
) -> Result<(), WriteEnd> {
    match timeout(stall, writer.write_all(bytes)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(WriteEnd::Failed(error.to_string())),
        Err(_) => Err(WriteEnd::Stalled),
    }
}

/// The status published by [`read_response`], if its line arrived.
pub(crate) fn seen(status: &AtomicU16) -> Option<u16> {
    Some(status.load(Ordering::Relaxed)).filter(|&status| status != 0)
}

/// Reads one answer, skipping interim 1xx answers. The status is published
/// in `status` (0 until then) as soon as its line is parsed, so a failure
/// later in the answer still tells what the server said.
pub(crate) async fn read_response<R: AsyncRead + Unpin>(
    reader: &mut R,
    buffer: &mut Vec<u8>,
    status: &AtomicU16,
) -> Result<Response, String> {
    loop {
        let head_end = loop {
            if let Some(at) = find(buffer, b"\r\n\r\n") {
                break at + 4;
            }
            if buffer.len() > MAX_HEAD {
                return Err(String::from("answer head over 64 KiB"));
            }
            if fill(reader, buffer).await? == 0 {
                return Err(String::from(if buffer.is_empty() {
                    "connection closed without an answer"
                } else {
                    "connection closed inside the answer head"
                }));
            }
        };
        let head = Head::parse(buffer.get(..head_end).unwrap_or_default())?;
        buffer.drain(..head_end);
        if (100..200).contains(&head.status) {
            continue;
        }
        status.store(head.status, Ordering::Relaxed);
        let mut keep_alive = head.keep_alive;
        let body = if head.status == 204 || head.status == 304 {
            Vec::new()
        } else if head.chunked {
            read_chunked(reader, buffer).await?
        } else if let Some(length) = head.content_length {
            if length > MAX_BODY {
                return Err(format!("answer body of {length} bytes"));
            }
            ensure(reader, buffer, length).await?;
            buffer.drain(..length).collect()
        } else {
            // Delimited by the close: nothing can follow on this connection.
            keep_alive = false;
            while fill(reader, buffer).await? > 0 {
                if buffer.len() > MAX_BODY {
                    return Err(String::from("answer body over 1 MiB"));
                }
            }
            core::mem::take(buffer)
        };
        return Ok(Response {
            status: head.status,
            keep_alive,
            close_announced: head.close_announced,
            body,
        });
    }
}

/// What the client needs from an answer's head.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    status: u16,
    keep_alive: bool,
    close_announced: bool,
    chunked: bool,
    content_length: Option<usize>,
}

impl Head {
    fn parse(bytes: &[u8]) -> Result<Self, String> {
        let text =
            core::str::from_utf8(bytes).map_err(|_| String::from("answer head is not UTF-8"))?;
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        let status = parts
            .next()
            .and_then(|code| code.parse::<u16>().ok())
            .filter(|_| version.starts_with("HTTP/1."))
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let mut head = Self {
            status,
            keep_alive: version == "HTTP/1.1",
            close_announced: false,
            chunked: false,
            content_length: None,
        };
        for line in lines.filter(|line| !line.is_empty()) {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| format!("bad header line {line:?}"))?;
            let value = value.trim();
            let tokens = || value.split(',').map(str::trim);
            if name.eq_ignore_ascii_case("content-length") {
                let length = value
                    .parse()
                    .map_err(|_| format!("bad Content-Length {value:?}"))?;
                head.content_length = Some(length);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                head.chunked = tokens().any(|token| token.eq_ignore_ascii_case("chunked"));
            } else if name.eq_ignore_ascii_case("connection") {
                if tokens().any(|token| token.eq_ignore_ascii_case("close")) {
                    head.keep_alive = false;
                    head.close_announced = true;
                } else if tokens().any(|token| token.eq_ignore_ascii_case("keep-alive")) {
                    head.keep_alive = true;
                }
            }
        }
        Ok(head)
    }
}

async fn read_chunked<R: AsyncRead + Unpin>(
    reader: &mut R,
    buffer: &mut Vec<u8>,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader, buffer).await?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(reader, buffer).await?.is_empty() {}
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(String::from("answer body over 1 MiB"));
        }
        ensure(reader, buffer, size + 2).await?;
        body.extend(buffer.drain(..size));
        buffer.drain(..2);
    }
}

async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut R,
    buffer: &mut Vec<u8>,
) -> Result<String, String> {
    loop {
        if let Some(at) = find(buffer, b"\r\n") {
            let line = String::from_utf8_lossy(&buffer[..at]).into_owned();
            buffer.drain(..at + 2);
            return Ok(line);
        }
        if buffer.len() > MAX_HEAD {
            return Err(String::from("chunk line over 64 KiB"));
        }
        if fill(reader, buffer).await? == 0 {
            return Err(String::from("connection closed inside a chunked answer"));
        }
    }
}

/// Reads until `buffer` holds at least `len` bytes.
async fn ensure<R: AsyncRead + Unpin>(
    reader: &mut R,
    buffer: &mut Vec<u8>,
    len: usize,
) -> Result<(), String> {
    while buffer.len() < len {
        if fill(reader, buffer).await? == 0 {
            return Err(String::from("connection closed inside the answer body"));
        }
    }
    Ok(())
}

/// Reads what is available into `buffer`; 0 at the end of the stream.
async fn fill<R: AsyncRead + Unpin>(reader: &mut R, buffer: &mut Vec<u8>) -> Result<usize, String> {
    buffer.reserve(8 * 1024);
    reader
        .read_buf(buffer)
        .await
        .map_err(|error| format!("reading the answer failed: {error}"))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_heads() {
        let head = Head::parse(
            b"HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n",
        )
        .expect("head");
        assert_eq!(
            head,
            Head {
                status: 413,
                keep_alive: false,
                close_announced: true,
                chunked: false,
                content_length: Some(12),
            }
        );
        let head =
            Head::parse(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").expect("head");
        assert!(head.keep_alive && head.chunked && !head.close_announced);
        let head = Head::parse(b"HTTP/1.0 200 OK\r\n\r\n").expect("head");
        assert!(!head.keep_alive);
        assert!(Head::parse(b"SSH-2.0 hello\r\n\r\n").is_err());
        assert!(Head::parse(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").is_err());
    }

    fn read_all(bytes: &'static [u8]) -> (Result<Response, String>, Option<u16>, Vec<u8>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let mut reader = bytes;
            let mut buffer = Vec::new();
            let status = AtomicU16::new(0);
            let result = read_response(&mut reader, &mut buffer, &status).await;
            (result, seen(&status), buffer)
        })
    }

    #[test]
    fn reads_sized_chunked_and_interim_answers() {
        let (result, _, rest) = read_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokNEXT");
        let response = result.expect("sized");
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"ok"[..])
        );
        assert!(response.keep_alive);
        assert_eq!(rest, b"NEXT");

        let (result, _, rest) = read_all(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: 1\r\n\r\n",
        );
        let response = result.expect("chunked");
        assert_eq!(
            (response.status, response.body.as_slice()),
            (401, &b"abcde"[..])
        );
        assert!(rest.is_empty());

        let (result, _, _) = read_all(b"HTTP/1.1 400 Bad Request\r\n\r\nuntil close");
        let response = result.expect("close-delimited");
        assert_eq!(response.body, b"until close");
        assert!(!response.keep_alive);
    }

    #[test]
    fn a_cut_answer_keeps_its_status() {
        let (result, status, _) =
            read_all(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 10\r\n\r\nabc");
        assert!(result.is_err());
        assert_eq!(status, Some(413));
        let (result, status, _) = read_all(b"");
        assert_eq!(
            result.expect_err("nothing"),
            "connection closed without an answer"
        );
        assert_eq!(status, None);
    }

    #[test]
    fn heads_carry_the_framing() {
        let address: SocketAddr = "127.0.0.1:9".parse().expect("address");
        let sized =
            String::from_utf8(head(address, Some("ab"), Outgoing::Sized(b"{}"))).expect("text");
        assert_eq!(
            sized,
            "POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1:9\r\nContent-Type: application/json\r\nx-protocol-signature: ab\r\nContent-Length: 2\r\n\r\n"
        );
        let chunked =
            String::from_utf8(head(address, None, Outgoing::ChunkedSpaces(5))).expect("text");
        assert!(chunked.ends_with("Transfer-Encoding: chunked\r\n\r\n"));
        assert!(!chunked.contains("x-protocol-signature"));
    }
}
