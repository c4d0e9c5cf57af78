//! Handing stored events to the handler: leases, retries, shutdown.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use protocol_webhooks::dedup::{ClaimGuard, ClaimToken, Deduplicator, StoreError, Unclaimed};
use protocol_webhooks::events::Event;
use tokio::task::{Id, JoinHandle, JoinSet};

use crate::{AfterFailure, Backoff, Delivery, Inbox, InboxStore, Lease, Taken};

/// How many handlers run at once, by default.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// How many attempts an event gets before it is dead, by default.
pub const DEFAULT_ATTEMPTS: u32 = 8;
/// How long a taken entry is the worker's, by default: 60 seconds.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// How often an idle worker looks for due entries, by default: 1 second.
/// Events accepted through the same [`Inbox`] wake it at once.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long running handlers may finish after shutdown, by default: 30 s.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// The longest error text kept per entry; longer texts are cut.
const MAX_ERROR_LEN: usize = 4096;

/// Hands stored events to an async handler: at least once, with retries,
/// under leases. Made by [`Inbox::worker`]; run with [`run`](Self::run).
///
/// ```text
/// take (lease, attempt + 1) ─► handler ─ Ok ──► done
///                                 └──── Err ──► pending after a backoff delay,
///                                               or dead after the last attempt
/// ```
///
/// - **Leases.** A taken entry is this worker's for the lease. If the
///   worker dies, any worker takes the entry again once the lease ended.
///   A worker whose lease ended and was taken over cannot mark the entry
///   done or failed: the store checks its lease token. Make the lease
///   longer than the handler ever takes, or the event is handled twice.
/// - **Retries.** A failed attempt is retried after a random delay of
///   zero to `base × 2^(attempt−1)` (capped; full jitter), kept in the
///   store, so it survives restarts. After the last attempt the entry is
///   dead, with the last error and the attempt count, until an operator
///   retries it. A handler that panics has failed.
/// - **Shutdown.** Once the shutdown future completes, no entry is taken;
///   running handlers have the grace period to finish, then they are
///   stopped and their entries handed back (pending at once, the attempt
///   not counted).
/// - **Effects.** At least once: a handler may run again for an event it
///   already handled, when the worker dies after the handler's effect and
///   before the store marked the entry done, or when a handler outlives
///   its lease. [`dedup`](Self::dedup) narrows that window; it cannot
///   close it for effects outside the store.
/// - **Exactly-once effects.** Effects written in the inbox's own store,
///   together with the entry's done, are exactly once: in the inbox's
///   SQLite file, in the transaction that marks the entry done
///   (`SqliteStore::complete_in`, feature `sqlite`); in its Redis, as
///   commands of the script that marks it done (`RedisStore::complete_with`,
///   feature `redis`; its effects must be writes that cannot fail, since
///   Redis has no rollback). Both or neither are applied, and only the
///   attempt holding the lease can apply them. The worker then leaves the
///   entry to the handler. On SQLite, a handler that returns `Ok` after
///   rolling back the transaction it completed the entry in leaves the
///   entry in flight; it is taken again after its lease.
#[must_use = "a worker does nothing until it is run"]
pub struct Worker<H> {
    inbox: Inbox,
    handler: H,
    concurrency: usize,
    attempts: u32,
    lease: Duration,
    backoff: Backoff,
    poll_interval: Duration,
    grace: Duration,
    dedup: Option<Deduplicator>,
}

impl<H> Worker<H> {
    pub(crate) fn new(inbox: Inbox, handler: H) -> Self {
        Self {
            inbox,
            handler,
            concurrency: DEFAULT_CONCURRENCY,
            attempts: DEFAULT_ATTEMPTS,
            lease: DEFAULT_LEASE,
            backoff: Backoff::default(),
            poll_interval: DEFAULT_POLL_INTERVAL,
            grace: DEFAULT_GRACE,
            dedup: None,
        }
    }

    /// Runs at most `n` handlers at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Gives each event `n` attempts before it is dead (at least 1).
    pub fn attempts(mut self, n: u32) -> Self {
        self.attempts = n.max(1);
        self
    }

    /// How long a taken entry is this worker's (at least 1 ms): longer than
    /// the handler ever takes, short enough that a dead worker's events are
    /// taken over soon.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(1));
        self
    }

    /// Retry delays: full jitter from `base`, doubling, capped at `max`.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff = Backoff::new(base, max);
        self
    }

    /// How often an idle worker looks for due entries (at least 1 ms).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// How long running handlers may finish after shutdown.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Claims each event id in `dedup` around the handler: claim, handler,
    /// commit the claim, then mark the entry done. When the worker dies
    /// after the claim's commit but before the entry is marked done, the
    /// next attempt finds the id done and marks the entry done without
    /// running the handler again. The claim's lease is set to the worker's.
    ///
    /// What remains, honestly: a crash (or a lost claim) after the handler's
    /// effects and before the claim's commit runs the handler again, and
    /// so does a handler that outlives its lease. Only a handler that
    /// writes its effects and its done in one transaction is exactly-once
    /// (`SqliteStore::complete_in` or `RedisStore::complete_with`, with or
    /// without `dedup`); everything else is at-least-once with a window of
    /// one commit.
    pub fn dedup(mut self, dedup: Deduplicator) -> Self {
        self.dedup = Some(dedup);
        self
    }
}

impl<H> fmt::Debug for Worker<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("concurrency", &self.concurrency)
            .field("attempts", &self.attempts)
            .field("lease", &self.lease)
            .field("backoff", &self.backoff)
            .field("poll_interval", &self.poll_interval)
            .field("grace", &self.grace)
            .field("dedup", &self.dedup)
            .finish_non_exhaustive()
    }
}

/// How a worker's [`run`](Worker::run) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stopped {
    /// Entries whose handlers did not finish within the grace period and
    /// were handed back to the inbox.
    pub handed_back: usize,
}

/// What every handling task shares.
struct Shared<H> {
    store: Arc<dyn InboxStore>,
    handler: H,
    attempts: u32,
    backoff: Backoff,
    poll_interval: Duration,
    dedup: Option<Deduplicator>,
}

impl<H, Fut, E> Worker<H>
where
    H: Fn(Delivery) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
{
    /// Takes due entries and handles them until `shutdown` completes, then
    /// lets running handlers finish within the grace period and hands back
    /// the entries of those that do not. Store errors are logged and the
    /// worker keeps going: it never gives up on an inbox.
    ///
    /// Needs a tokio runtime; handlers run as tasks of their own.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Stopped {
        let Self {
            inbox,
            handler,
            concurrency,
            attempts,
            lease,
            backoff,
            poll_interval,
            grace,
            dedup,
        } = self;
        let store = Arc::clone(inbox.store());
        let shared = Arc::new(Shared {
            store: Arc::clone(&store),
            handler,
            attempts,
            backoff,
            poll_interval,
            dedup: dedup.map(|dedup| dedup.with_lease(lease)),
        });
        let mut tasks = JoinSet::new();
        let mut held: HashMap<Id, (String, ClaimToken)> = HashMap::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            while let Some(joined) = tasks.try_join_next_with_id() {
                held.remove(&joined_id(&joined));
            }
            let free = concurrency.saturating_sub(tasks.len());
            if free > 0 {
                match store.take(lease, free, attempts).await {
                    Ok(taken) => {
                        for entry in taken {
                            let key = (entry.id.clone(), entry.token.clone());
                            let handle = tasks.spawn(handle(Arc::clone(&shared), entry));
                            held.insert(handle.id(), key);
                        }
                    }
                    Err(error) => tracing::error!(
                        error = &error as &dyn std::error::Error,
                        "inbox worker could not take entries"
                    ),
                }
            }
            tokio::select! {
                () = &mut shutdown => break,
                Some(joined) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                    held.remove(&joined_id(&joined));
                }
                () = inbox.stored().notified(), if tasks.len() < concurrency => {}
                () = tokio::time::sleep(poll_interval) => {}
            }
        }
        let handed_back = stop(&*store, grace, tasks, held).await;
        Stopped { handed_back }
    }
}

/// Waits up to the grace period for running handlers, then stops the rest
/// and hands their entries back; how many were handed back.
async fn stop(
    store: &dyn InboxStore,
    grace: Duration,
    mut tasks: JoinSet<()>,
    mut held: HashMap<Id, (String, ClaimToken)>,
) -> usize {
    let mut grace = std::pin::pin!(tokio::time::sleep(grace));
    loop {
        tokio::select! {
            joined = tasks.join_next_with_id() => match joined {
                Some(joined) => { held.remove(&joined_id(&joined)); }
                None => break,
            },
            () = &mut grace => break,
        }
    }
    tasks.abort_all();
    while let Some(joined) = tasks.join_next_with_id().await {
        // A task that finished before its abort has settled its entry.
        if joined.is_ok() {
            held.remove(&joined_id(&joined));
        }
    }
    let mut handed_back = 0;
    for (id, token) in held.values() {
        // A stopped task may have completed or failed the entry just
        // before; the token check then makes this release do nothing.
        match store.release(id, token, Duration::ZERO).await {
            Ok(()) => {
                handed_back += 1;
                tracing::info!(event_id = %id, "inbox worker handed an entry back at shutdown");
            }
            Err(error) => tracing::error!(
                event_id = %id,
                error = &error as &dyn std::error::Error,
                "inbox worker could not hand an entry back; it is taken again when its lease ends"
            ),
        }
    }
    handed_back
}

fn joined_id(joined: &Result<(Id, ()), tokio::task::JoinError>) -> Id {
    match joined {
        Ok((id, ())) => *id,
        Err(error) => error.id(),
    }
}

/// Aborts the handler's task when the handling task is stopped, so a
/// handler never outlives the entry's hand-back.
struct AbortOnDrop(JoinHandle<Result<(), String>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One attempt at one entry.
async fn handle<H, Fut, E>(shared: Arc<Shared<H>>, taken: Taken)
where
    H: Fn(Delivery) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
{
    let store = &*shared.store;
    let (id, token, attempt) = (taken.id.as_str(), &taken.token, taken.attempt);
    let event = match Event::from_slice(&taken.body) {
        Ok(event) if event.id == taken.id => event,
        Ok(event) => {
            let error = format!(
                "the stored body has event id {:?}, not the entry's",
                event.id
            );
            return settle(store, id, token, Err(&error), AfterFailure::Dead).await;
        }
        // No later attempt parses it either.
        Err(error) => {
            let error = format!("the stored body is not a valid event: {error}");
            return settle(store, id, token, Err(&error), AfterFailure::Dead).await;
        }
    };
    let claim = match claim(&shared, id).await {
        Claim::Run(guard) => guard,
        Claim::AlreadyHandled => {
            tracing::info!(event_id = %id, "inbox: the event's claim is done already; marking it done without the handler");
            return settle(store, id, token, Ok(()), AfterFailure::Dead).await;
        }
        Claim::Later(delay) => {
            if let Err(error) = store.release(id, token, delay).await {
                log_store_error(id, &error);
            }
            return;
        }
    };
    let lease = Lease::new(taken.id.clone(), token.clone());
    let delivery = Delivery::new(event, attempt, taken.received_at, lease.clone());
    let handler_task = AbortOnDrop(tokio::spawn({
        let shared = Arc::clone(&shared);
        async move { (shared.handler)(delivery).await.map_err(|e| e.to_string()) }
    }));
    let outcome = match (&mut { handler_task }.0).await {
        Ok(outcome) => outcome,
        Err(join_error) if join_error.is_panic() => Err(panic_text(join_error)),
        // Cancelled: the runtime is shutting down; the lease hands it back.
        Err(_) => return,
    };
    match outcome {
        Ok(()) => {
            if let Some(guard) = claim
                && let Err(error) = guard.commit().await
            {
                tracing::warn!(event_id = %id, error = &error as &dyn std::error::Error,
                    "inbox: the handler succeeded but its claim could not be committed");
            }
            if lease.is_completed() {
                // The done is the handler's transaction's: committed with
                // its effects, or rolled back with them, and then the entry
                // is taken again after its lease. Completing here would
                // mark it done without the effects.
                tracing::debug!(event_id = %id, "inbox: completed in the handler's transaction");
            } else {
                settle(store, id, token, Ok(()), AfterFailure::Dead).await;
            }
        }
        Err(error) => {
            if let Some(guard) = claim {
                // Released so the retry can claim again; if this fails the
                // claim ends with its lease, before the retry is due or not.
                let _ = guard.release().await;
            }
            let after = if attempt >= shared.attempts {
                AfterFailure::Dead
            } else {
                AfterFailure::RetryAfter(shared.backoff.delay(attempt))
            };
            settle(store, id, token, Err(&truncate(error)), after).await;
        }
    }
}

enum Claim {
    /// Run the handler, holding this claim if de-duplicating.
    Run(Option<ClaimGuard>),
    /// A previous attempt's handler succeeded and committed its claim.
    AlreadyHandled,
    /// Hand the entry back for this long: another attempt holds the claim,
    /// or the claim store is unavailable.
    Later(Duration),
}

async fn claim<H>(shared: &Shared<H>, id: &str) -> Claim {
    let Some(dedup) = &shared.dedup else {
        return Claim::Run(None);
    };
    match dedup.claim_id(id).await {
        Ok(guard) => Claim::Run(Some(guard)),
        Err(Unclaimed::Duplicate { .. }) => Claim::AlreadyHandled,
        Err(Unclaimed::InProgress { retry_after, .. }) => Claim::Later(retry_after),
        Err(other) => {
            tracing::error!(event_id = %id, error = &other as &dyn std::error::Error,
                "inbox: the claim store is unavailable; handing the entry back");
            Claim::Later(shared.poll_interval)
        }
    }
}

/// Marks the entry done (`Ok`) or failed, logging what happened.
async fn settle(
    store: &dyn InboxStore,
    id: &str,
    token: &ClaimToken,
    outcome: Result<(), &str>,
    after: AfterFailure,
) {
    let result = match outcome {
        Ok(()) => store.complete(id, token).await,
        Err(error) => store.fail(id, token, error, after).await,
    };
    match (&result, outcome, after) {
        (Ok(()), Ok(()), _) => tracing::debug!(event_id = %id, "inbox: event handled"),
        (Ok(()), Err(error), AfterFailure::Dead) => {
            tracing::error!(event_id = %id, error, "inbox: event is dead: no attempt left");
        }
        (Ok(()), Err(error), AfterFailure::RetryAfter(delay)) => {
            tracing::warn!(event_id = %id, error, retry_in = ?delay, "inbox: handler failed; will retry");
        }
        (Err(error), _, _) => log_store_error(id, error),
    }
}

fn log_store_error(id: &str, error: &StoreError) {
    match error {
        StoreError::LostClaim => tracing::warn!(
            event_id = %id,
            "inbox: the lease ended and another worker took the entry; its outcome is theirs"
        ),
        other => tracing::error!(
            event_id = %id,
            error = other as &dyn std::error::Error,
            "inbox: could not record the outcome; the entry is taken again when its lease ends"
        ),
    }
}

fn panic_text(error: tokio::task::JoinError) -> String {
    let text = error.try_into_panic().ok().and_then(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
    });
    let text = text.unwrap_or_default();
    truncate(format!("the handler panicked: {text}"))
}

/// Cuts an error text to [`MAX_ERROR_LEN`] bytes, at a character boundary.
fn truncate(mut text: String) -> String {
    if text.len() > MAX_ERROR_LEN {
        let mut end = MAX_ERROR_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}
