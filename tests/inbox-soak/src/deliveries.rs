//! Signed events, delivered as Protocol delivers them: again and again until
//! the receiver answers 2xx.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use protocol_webhooks::Key;
use protocol_webhooks::events::EventType;
use protocol_webhooks::samples::sample_body;

use crate::SECRET;

/// How long a client waits before delivering an event again after no
/// answer or a 5xx.
const REDELIVERY_DELAY: Duration = Duration::from_millis(50);

/// The id of the `index`th event of a run.
#[must_use]
pub fn event_id(index: usize) -> String {
    format!("evt_soak_{index:06}")
}

/// One event to deliver: its id, exact body and signature.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The event id.
    pub id: String,
    body: Vec<u8>,
    signature: String,
}

/// A sample event of the `index`th type (cycling through the documented
/// types) with the id `id`, signed with [`SECRET`].
///
/// # Panics
/// Never: the secret is valid.
#[must_use]
pub fn signed_event(id: &str, index: usize) -> Delivery {
    let event_type = &EventType::KNOWN[index % EventType::KNOWN.len()];
    let body = sample_body(event_type, id);
    let signature = Key::new(SECRET)
        .expect("the secret")
        .sign(&body)
        .to_hex()
        .as_str()
        .to_owned();
    Delivery {
        id: id.to_owned(),
        body,
        signature,
    }
}

/// How an event was acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// The 2xx status: 202 stored now, 200 stored by an earlier delivery
    /// whose answer was lost.
    pub status: u16,
    /// Requests it took, the acknowledged one included.
    pub requests: u32,
}

/// One request of a delivery, as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// When the request was sent.
    pub sent: Instant,
    /// When its whole answer arrived, or it failed.
    pub answered: Instant,
    /// The status of a whole answer; `None` for no answer (refused,
    /// reset, cut off mid-answer, timed out).
    pub status: Option<u16>,
    /// Whether the answer had a `Retry-After` header.
    pub retry_after: bool,
}

/// A client delivering to one URL.
#[derive(Debug, Clone)]
pub struct Deliveries {
    client: reqwest::Client,
    url: String,
}

impl Deliveries {
    /// Deliveries to `url`.
    ///
    /// # Panics
    /// When the HTTP client cannot be built.
    #[must_use]
    pub fn new(url: &str) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        Self {
            client,
            url: url.to_owned(),
        }
    }

    /// Delivers `event` until a whole 2xx answer arrives. No answer (the
    /// receiver is down, or died mid-request) and a 5xx mean: deliver
    /// again shortly.
    ///
    /// # Errors
    /// Any other answer, which no valid delivery may get, or no 2xx by
    /// `deadline`.
    pub async fn deliver(&self, event: &Delivery, deadline: Instant) -> Result<Delivered, String> {
        self.deliver_observed(event, deadline, |_| {}).await
    }

    /// [`deliver`](Self::deliver), calling `observe` with every request's
    /// [`Answer`].
    ///
    /// # Errors
    /// As [`deliver`](Self::deliver).
    pub async fn deliver_observed(
        &self,
        event: &Delivery,
        deadline: Instant,
        mut observe: impl FnMut(Answer),
    ) -> Result<Delivered, String> {
        let mut requests = 0;
        loop {
            requests += 1;
            let started = Instant::now();
            let sent = self
                .client
                .post(&self.url)
                .header("content-type", "application/json")
                .header("x-protocol-signature", &event.signature)
                .body(event.body.clone())
                .send()
                .await;
            let mut answer = Answer {
                sent: started,
                answered: started,
                status: None,
                retry_after: false,
            };
            if let Ok(response) = sent {
                let status = response.status().as_u16();
                answer.retry_after = response
                    .headers()
                    .contains_key(reqwest::header::RETRY_AFTER);
                // Acknowledged only once the whole answer is in.
                let body = response.bytes().await;
                answer.answered = Instant::now();
                answer.status = body.is_ok().then_some(status);
                observe(answer);
                if let Ok(body) = body {
                    if (200..300).contains(&status) {
                        return Ok(Delivered { status, requests });
                    }
                    if status < 500 {
                        return Err(format!(
                            "{}: answered {status}: {}",
                            event.id,
                            String::from_utf8_lossy(&body)
                        ));
                    }
                }
            } else {
                answer.answered = Instant::now();
                observe(answer);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{}: no 2xx before the deadline, after {requests} requests",
                    event.id
                ));
            }
            tokio::time::sleep(REDELIVERY_DELAY).await;
        }
    }
}

/// What every delivery of a run ended in, by event id.
pub type Outcomes = Vec<(String, Result<Delivered, String>)>;

/// Every answer a run got, by event id, redeliveries included.
pub type Answers = Arc<Mutex<Vec<(String, Answer)>>>;

/// Delivers events `0..events` from `clients` concurrent clients, event
/// `i` to `receivers[i % receivers.len()]`, each again until a 2xx or
/// `deadline`, a client pausing `pace` after each event; every answer is
/// also recorded in `answers` when given.
///
/// # Panics
/// When `receivers` is empty, or a client task panics.
#[must_use]
pub fn deliver_all(
    receivers: &[Deliveries],
    events: usize,
    clients: usize,
    pace: Duration,
    deadline: Instant,
    answers: Option<&Answers>,
) -> Outcomes {
    assert!(!receivers.is_empty(), "deliveries need a receiver");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let next = Arc::new(AtomicUsize::new(0));
    let outcomes = Arc::new(Mutex::new(Vec::with_capacity(events)));
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (next, outcomes) = (Arc::clone(&next), Arc::clone(&outcomes));
            let (receivers, answers) = (receivers.to_vec(), answers.cloned());
            tasks.push(tokio::spawn(async move {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= events {
                        return;
                    }
                    let id = event_id(index);
                    let receiver = &receivers[index % receivers.len()];
                    let outcome = receiver
                        .deliver_observed(&signed_event(&id, index), deadline, |answer| {
                            if let Some(answers) = &answers {
                                answers.lock().expect("answers").push((id.clone(), answer));
                            }
                        })
                        .await;
                    outcomes.lock().expect("outcomes").push((id, outcome));
                    if !pace.is_zero() {
                        tokio::time::sleep(pace).await;
                    }
                }
            }));
        }
        for task in tasks {
            task.await.expect("a client task");
        }
    });
    let mut outcomes = outcomes.lock().expect("outcomes");
    std::mem::take(&mut *outcomes)
}
