//! Accepts in batches: the accepts that arrive while one script call is on
//! its way to Redis go together in the next one. Redis then runs one script
//! and the connection carries one request and one reply for many accepts,
//! which is most of what an accept costs both of them; each caller is still
//! answered only once Redis has applied its entry.

use std::error::Error;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use protocol_webhooks::dedup::StoreError;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::Connected;
use super::error::TimedOut;
use crate::{Accepted, NewEntry};

/// The most accepts in one script call.
const MAX_BATCH: usize = 64;
/// The most body bytes in one script call, unless its first entry alone is
/// larger: a batch of large bodies stays a short script.
const MAX_BATCH_BYTES: usize = 1 << 20;
/// Script calls of accepts under way at once.
const IN_FLIGHT: usize = 4;
/// Accepts waiting for the next call; past it, callers wait for room within
/// their time limit.
const QUEUE: usize = 4_096;

/// Where a store's accepts wait for the batcher, a task started on the
/// first accept (and again should its runtime have gone).
pub(super) struct AcceptQueue {
    sender: Mutex<Option<mpsc::Sender<Pending>>>,
}

/// One accept waiting for its batch.
struct Pending {
    entry: NewEntry,
    answer: oneshot::Sender<Result<Accepted, StoreError>>,
}

impl AcceptQueue {
    pub(super) fn new() -> Self {
        Self {
            sender: Mutex::new(None),
        }
    }

    /// Stores `entry` with the next batch, within the store's time limit.
    ///
    /// Dropped, or out of time, while the entry waits for its batch, the
    /// entry is not stored: the batch leaves out the accepts nobody waits
    /// for. Once its batch is on its way to Redis it may still be stored
    /// (Redis cannot be asked to undo it), and a redelivery then answers
    /// `AlreadyStored`.
    pub(super) async fn accept(
        &self,
        connected: &Connected,
        entry: NewEntry,
    ) -> Result<Accepted, StoreError> {
        let limit = connected.accept_limit();
        let (answer, answered) = oneshot::channel();
        let sender = self.sender(connected);
        let queued_and_answered = async {
            if sender.send(Pending { entry, answer }).await.is_err() {
                // The batcher's runtime is gone: the next accept starts another.
                self.forget(&sender);
                return Err(StoreError::unavailable(BatcherStopped));
            }
            answered
                .await
                .unwrap_or_else(|_| Err(StoreError::unavailable(BatcherStopped)))
        };
        tokio::time::timeout(limit, queued_and_answered)
            .await
            .unwrap_or_else(|_| Err(StoreError::unavailable(TimedOut(limit))))
    }

    /// The batcher's queue, starting the batcher when there is none or the
    /// last one stopped.
    fn sender(&self, connected: &Connected) -> mpsc::Sender<Pending> {
        let mut sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        match &*sender {
            Some(running) if !running.is_closed() => running.clone(),
            _ => {
                let (queue, pending) = mpsc::channel(QUEUE);
                tokio::spawn(run_batches(connected.clone(), pending));
                *sender = Some(queue.clone());
                queue
            }
        }
    }

    fn forget(&self, stopped: &mpsc::Sender<Pending>) {
        let mut sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        if sender
            .as_ref()
            .is_some_and(|current| current.same_channel(stopped))
        {
            *sender = None;
        }
    }
}

/// Takes what is queued, up to a batch, and stores it with one script call
/// that answers each caller; up to [`IN_FLIGHT`] calls at once, so Redis
/// runs one batch while the next is being gathered and sent. Ends when
/// every store clone is gone, once the calls under way have answered.
async fn run_batches(connected: Connected, mut pending: mpsc::Receiver<Pending>) {
    let calls = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut carried = None;
    loop {
        let Ok(call) = Arc::clone(&calls).acquire_owned().await else {
            return;
        };
        let first = match carried.take() {
            Some(first) => first,
            None => match pending.recv().await {
                Some(first) => first,
                None => return,
            },
        };
        // A woken task runs next on its worker thread: without letting the
        // other ready tasks run first, every batch would hold one accept.
        tokio::task::yield_now().await;
        let mut bytes = first.entry.body.len();
        let mut batch = Vec::with_capacity(MAX_BATCH);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            let Ok(next) = pending.try_recv() else { break };
            bytes = bytes.saturating_add(next.entry.body.len());
            if bytes > MAX_BATCH_BYTES {
                carried = Some(next);
                break;
            }
            batch.push(next);
        }
        let connected = connected.clone();
        tokio::spawn(async move {
            store(&connected, batch).await;
            drop(call);
        });
    }
}

/// Stores the batch and answers its callers, leaving out the accepts whose
/// callers have gone: they were not answered 2xx, and their time limit has
/// passed or they stopped waiting, so writing them would only make a
/// refused event look stored.
async fn store(connected: &Connected, mut batch: Vec<Pending>) {
    batch.retain(|pending| !pending.answer.is_closed());
    if batch.is_empty() {
        return;
    }
    let (entries, answers): (Vec<NewEntry>, Vec<_>) = batch
        .into_iter()
        .map(|pending| (pending.entry, pending.answer))
        .unzip();
    match connected.accept_batch(&entries).await {
        Ok(outcomes) => {
            for (answer, outcome) in answers.into_iter().zip(outcomes) {
                // A caller that gave up while the call was under way is
                // answered by the redelivery.
                let _ = answer.send(Ok(outcome));
            }
        }
        Err(error) => {
            let cause = BatchFailed::from(error);
            for answer in answers {
                let _ = answer.send(Err(StoreError::unavailable(cause.clone())));
            }
        }
    }
}

/// The batcher stopped: its runtime shut down.
#[derive(Debug)]
struct BatcherStopped;

impl fmt::Display for BatcherStopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Redis accept batcher stopped with its runtime")
    }
}

impl Error for BatcherStopped {}

/// Why a batch failed, given to each of its callers: the cause of the
/// store's error, shared, and shown as that cause itself.
#[derive(Debug, Clone)]
struct BatchFailed(Arc<StoreError>);

impl BatchFailed {
    fn cause(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

impl From<StoreError> for BatchFailed {
    fn from(error: StoreError) -> Self {
        Self(Arc::new(error))
    }
}

impl fmt::Display for BatchFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cause() {
            Some(cause) => fmt::Display::fmt(cause, f),
            None => fmt::Display::fmt(&*self.0, f),
        }
    }
}

impl Error for BatchFailed {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause().and_then(Error::source)
    }
}
