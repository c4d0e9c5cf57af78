//! A tiny webhook receiver on the core crate, for `send` to talk to: one
//! HTTP/1.1 request per connection, bodies sized by Content-Length.

use alloc::sync::Arc;
use core::net::SocketAddr;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;
use std::thread::JoinHandle;

use protocol_webhooks::{Answer, Rejection, WebhookConfig};

/// What the receiver saw and answered.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) content_type: Option<String>,
    pub(crate) signature: Option<String>,
    pub(crate) body: Vec<u8>,
    pub(crate) status: u16,
}

/// A receiver running on a thread until dropped.
pub(crate) struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Listens on a free loopback port and verifies with `secret`.
    pub(crate) fn start(secret: &str) -> Self {
        Self::with_config(Some(WebhookConfig::new(secret).expect("secret")))
    }

    /// A broken receiver that answers 200 without checking signatures.
    pub(crate) fn careless() -> Self {
        Self::with_config(None)
    }

    fn with_config(config: Option<WebhookConfig>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let received = Arc::clone(&received);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    serve(stream, config.as_ref(), &received);
                }
            })
        };
        Self {
            addr,
            received,
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/webhooks", self.addr)
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the blocked accept so that the thread sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request, records it, answers it as every adapter does (or,
/// without a config, always with 200), and closes. The record comes first:
/// a client that has its answer may look at `received` at once.
fn serve(
    stream: TcpStream,
    config: Option<&WebhookConfig>,
    received: &Mutex<Vec<Received>>,
) -> Option<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();

    let (mut content_type, mut signature, mut length) = (None, None, 0usize);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let value = value.trim().to_owned();
        match name.to_ascii_lowercase().as_str() {
            "content-type" => content_type = Some(value),
            "x-protocol-signature" => signature = Some(value),
            "content-length" => length = value.parse().ok()?,
            _ => {}
        }
    }

    let limit = config.map_or(
        protocol_webhooks::DEFAULT_BODY_LIMIT,
        WebhookConfig::body_limit,
    );
    let (status, answer, body) = if length > limit {
        // Drained unread, so that closing the socket afterwards does not
        // reset the connection before the client reads the answer.
        std::io::copy(&mut (&mut reader).take(length as u64), &mut std::io::sink()).ok()?;
        let rejection = Answer::from(Rejection::PayloadTooLarge { limit });
        (rejection.status(), rejection.body(), Vec::new())
    } else {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        let Some(config) = config else {
            let request = Received {
                method,
                path,
                content_type,
                signature,
                body,
                status: 200,
            };
            received.lock().expect("lock").push(request);
            return respond(stream, 200, "{}").then_some(());
        };
        match config.verify_event(&body, signature.as_deref().map(str::as_bytes)) {
            Ok(event) => {
                let answer = serde_json::json!({
                    "id": event.id,
                    "type": event.event_type.as_str(),
                    "resource_id": event.resource_id(),
                });
                (200, answer.to_string(), body)
            }
            Err(rejection) => {
                let rejection = Answer::from(rejection);
                (rejection.status(), rejection.body(), body)
            }
        }
    };

    let request = Received {
        method,
        path,
        content_type,
        signature,
        body,
        status,
    };
    received.lock().expect("lock").push(request);
    respond(stream, status, &answer).then_some(())
}

/// Writes a JSON answer; false when the client has gone.
fn respond(mut stream: TcpStream, status: u16, answer: &str) -> bool {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        _ => "Payload Too Large",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{answer}",
        answer.len()
    )
    .and_then(|()| stream.flush())
    .is_ok()
}
