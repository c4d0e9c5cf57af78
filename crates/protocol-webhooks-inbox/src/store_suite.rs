//! A conformance suite for [`InboxStore`] implementations (feature
//! `store-suite`).
//!
//! It runs every rule of the [`InboxStore`] table against a real store, so
//! each backend is checked the same way. It needs no particular async
//! runtime: the caller passes how to let time pass for the store.
//!
//! ```
//! use std::time::Duration;
//! use protocol_webhooks_inbox::{ManualClock, MemoryStore, store_suite};
//!
//! let clock = ManualClock::new();
//! let store = MemoryStore::new().with_clock(clock.clone());
//! let elapse = |by: Duration| {
//!     clock.advance(by);
//!     std::future::ready(())
//! };
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(
//! store_suite::run(&store, elapse)
//! # );
//! # Ok::<(), std::io::Error>(())
//! ```

use std::time::Duration;

use protocol_webhooks::dedup::store_suite::join_all;
use protocol_webhooks::dedup::{ClaimToken, StoreError};

use crate::{
    Accepted, AfterFailure, InboxStore, LEASE_EXPIRED_ON_LAST_ATTEMPT, NewEntry, State, Taken,
};

/// A lease that must stay live for the rest of a check.
const LONG: Duration = Duration::from_secs(600);
/// A lease or delay meant to end during a check.
const SHORT: Duration = Duration::from_millis(200);
/// Waited after a [`SHORT`] lease or delay, with margin.
const PAST_SHORT: Duration = Duration::from_millis(500);
/// Enough attempts that no check runs out unless it means to.
const MANY: u32 = 100;
/// How many accepts of one id race in the concurrency check.
const RACERS: usize = 50;

/// Runs every check against `store`, on fresh random event ids.
///
/// The store must have nothing due when the suite starts (an empty store
/// is simplest): the checks take every due entry and expect only their
/// own. Each check leaves nothing due behind it.
///
/// `elapse(d)` must return once at least `d` has passed for the store: a
/// runtime's `sleep` for a store on the system clock, or advancing a
/// [`ManualClock`](crate::ManualClock) the store reads.
///
/// # Panics
/// On the first rule the store breaks, with a message naming it.
pub async fn run<S, F, Fut>(store: &S, elapse: F)
where
    S: InboxStore + ?Sized,
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    accept_stores_once(store).await;
    take_leases_and_complete_finishes(store).await;
    take_hands_out_the_oldest_first_up_to_the_limit(store).await;
    an_expired_lease_is_taken_over_and_the_old_token_is_stale(store, &elapse).await;
    a_failure_is_retried_no_earlier_than_its_delay(store, &elapse).await;
    the_last_failed_attempt_is_dead_with_its_error(store).await;
    a_lease_ending_on_the_last_attempt_is_dead(store, &elapse).await;
    release_hands_back_without_counting(store, &elapse).await;
    a_dead_entry_can_be_retried(store).await;
    purge_removes_old_dead_and_done_entries(store, &elapse).await;
    list_show_and_stats(store).await;
    concurrent_accepts_store_once(store).await;
}

fn fresh_id(check: &str) -> String {
    match ClaimToken::random() {
        Ok(token) => format!("store-suite-{check}-{}", token.to_hex()),
        Err(error) => panic!("store suite: no randomness for event ids: {error}"),
    }
}

fn new_entry(id: &str, body: &str) -> NewEntry {
    NewEntry {
        id: id.to_owned(),
        event_type: String::from("message.created"),
        body: body.as_bytes().to_vec(),
    }
}

fn forged_token() -> ClaimToken {
    ClaimToken::random().unwrap_or_else(|error| panic!("store suite: no randomness: {error}"))
}

async fn stored<S: InboxStore + ?Sized>(store: &S, id: &str) {
    match store.accept(new_entry(id, "{}")).await {
        Ok(Accepted::Stored { event_id }) => assert_eq!(event_id, id, "store suite: accept"),
        other => panic!("store suite: a new id must be stored, got {other:?}"),
    }
}

async fn take<S: InboxStore + ?Sized>(
    store: &S,
    lease: Duration,
    limit: usize,
    max: u32,
) -> Vec<Taken> {
    store
        .take(lease, limit, max)
        .await
        .unwrap_or_else(|error| panic!("store suite: take failed: {error:?}"))
}

/// Takes exactly one entry, which must be `id`.
async fn take_one<S: InboxStore + ?Sized>(
    store: &S,
    id: &str,
    lease: Duration,
    rule: &str,
) -> Taken {
    let mut taken = take(store, lease, 10, MANY).await;
    let ids: Vec<&str> = taken.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        [id],
        "store suite: {rule}: take must hand out exactly this entry"
    );
    taken.remove(0)
}

async fn nothing_due<S: InboxStore + ?Sized>(store: &S, rule: &str) {
    let taken = take(store, LONG, 10, MANY).await;
    assert!(
        taken.is_empty(),
        "store suite: {rule}: nothing may be due, took {taken:?}"
    );
}

async fn state_of<S: InboxStore + ?Sized>(store: &S, id: &str) -> (State, u32, Option<String>) {
    match store.show(id).await {
        Ok(Some(entry)) => (
            entry.summary.state,
            entry.summary.attempts,
            entry.summary.last_error,
        ),
        other => panic!("store suite: show({id}) must find the entry, got {other:?}"),
    }
}

async fn complete<S: InboxStore + ?Sized>(store: &S, taken: &Taken, rule: &str) {
    if let Err(error) = store.complete(&taken.id, &taken.token).await {
        panic!("store suite: {rule}: the holder's complete failed: {error:?}");
    }
}

async fn fail<S: InboxStore + ?Sized>(store: &S, taken: &Taken, error: &str, after: AfterFailure) {
    if let Err(store_error) = store.fail(&taken.id, &taken.token, error, after).await {
        panic!("store suite: the holder's fail failed: {store_error:?}");
    }
}

fn assert_lost(result: &Result<(), StoreError>, rule: &str) {
    assert!(
        matches!(result, Err(StoreError::LostClaim)),
        "store suite: {rule}: must fail with LostClaim, got {result:?}"
    );
}

async fn accept_stores_once<S: InboxStore + ?Sized>(store: &S) {
    let id = fresh_id("accept");
    let body = r#"{"id":"x","type":"message.created","payload":{"id":"m"}}"#;
    match store.accept(new_entry(&id, body)).await {
        Ok(Accepted::Stored { .. }) => {}
        other => panic!("store suite: a new id must be stored, got {other:?}"),
    }
    match store.accept(new_entry(&id, "other bytes")).await {
        Ok(Accepted::AlreadyStored { event_id }) => assert_eq!(event_id, id),
        other => panic!("store suite: a known id must be AlreadyStored, got {other:?}"),
    }
    let entry = store
        .show(&id)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("store suite: the stored entry must be shown"));
    assert_eq!(
        entry.body,
        body.as_bytes(),
        "store suite: the first body is kept, byte for byte"
    );
    assert_eq!(entry.summary.state, State::Pending);
    assert_eq!(entry.summary.attempts, 0);
    assert_eq!(entry.summary.event_type, "message.created");
    let taken = take_one(store, &id, LONG, "accept").await;
    assert_eq!(
        taken.body,
        body.as_bytes(),
        "store suite: take hands out the exact body"
    );
    complete(store, &taken, "accept").await;
}

async fn take_leases_and_complete_finishes<S: InboxStore + ?Sized>(store: &S) {
    let rule = "take and complete";
    let id = fresh_id("take");
    stored(store, &id).await;
    let taken = take_one(store, &id, LONG, rule).await;
    assert_eq!(taken.attempt, 1, "store suite: the first take is attempt 1");
    assert_eq!(state_of(store, &id).await.0, State::InFlight);
    nothing_due(store, "a leased entry is not taken again").await;
    assert_lost(
        &store.complete(&id, &forged_token()).await,
        "a forged token cannot complete",
    );
    complete(store, &taken, rule).await;
    assert_eq!(state_of(store, &id).await.0, State::Done);
    assert_lost(
        &store.complete(&id, &taken.token).await,
        "a second complete",
    );
    assert_lost(
        &store
            .fail(&id, &taken.token, "late", AfterFailure::Dead)
            .await,
        "a fail after complete",
    );
    assert_eq!(
        state_of(store, &id).await.0,
        State::Done,
        "store suite: done stays done"
    );
    match store.accept(new_entry(&id, "{}")).await {
        Ok(Accepted::AlreadyStored { .. }) => {}
        other => panic!("store suite: a done id is AlreadyStored, got {other:?}"),
    }
    nothing_due(store, "a done entry is not taken").await;
    assert_lost(
        &store.complete("store-suite-unknown", &taken.token).await,
        "complete of an unknown id",
    );
}

async fn take_hands_out_the_oldest_first_up_to_the_limit<S: InboxStore + ?Sized>(store: &S) {
    let ids: Vec<String> = (0..3).map(|n| fresh_id(&format!("order{n}"))).collect();
    for id in &ids {
        stored(store, id).await;
    }
    let first = take(store, LONG, 2, MANY).await;
    let first_ids: Vec<&str> = first.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        first.len(),
        2,
        "store suite: take hands out at most `limit` entries"
    );
    for id in &ids[..2] {
        assert!(
            first_ids.contains(&id.as_str()),
            "store suite: the oldest due entries come first"
        );
    }
    let rest = take_one(store, &ids[2], LONG, "the rest").await;
    for taken in first.iter().chain([&rest]) {
        complete(store, taken, "order").await;
    }
}

async fn an_expired_lease_is_taken_over_and_the_old_token_is_stale<S, F, Fut>(store: &S, elapse: &F)
where
    S: InboxStore + ?Sized,
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    let rule = "lease expiry";
    let id = fresh_id("lease");
    stored(store, &id).await;
    let stale = take_one(store, &id, SHORT, rule).await;
    elapse(PAST_SHORT).await;
    let current = take_one(store, &id, LONG, "an expired lease is taken again").await;
    assert_eq!(
        current.attempt, 2,
        "store suite: a takeover is the next attempt"
    );
    assert_ne!(
        current.token, stale.token,
        "store suite: every take gets a new token"
    );
    assert_lost(
        &store.complete(&id, &stale.token).await,
        "the old holder cannot complete",
    );
    assert_lost(
        &store
            .fail(&id, &stale.token, "stale", AfterFailure::Dead)
            .await,
        "the old holder cannot fail",
    );
    if let Err(error) = store.release(&id, &stale.token, Duration::ZERO).await {
        panic!("store suite: a stale release is a no-op, not an error: {error:?}");
    }
    assert_eq!(
        state_of(store, &id).await.0,
        State::InFlight,
        "store suite: the old holder cannot release the new lease"
    );
    nothing_due(store, "the new lease holds").await;
    complete(store, &current, rule).await;
}

async fn a_failure_is_retried_no_earlier_than_its_delay<S, F, Fut>(store: &S, elapse: &F)
where
    S: InboxStore + ?Sized,
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    let id = fresh_id("retry-delay");
    stored(store, &id).await;
    let first = take_one(store, &id, LONG, "retry delay").await;
    fail(store, &first, "boom 1", AfterFailure::RetryAfter(SHORT)).await;
    let (state, attempts, error) = state_of(store, &id).await;
    assert_eq!(
        (state, attempts),
        (State::Pending, 1),
        "store suite: a failure is pending again"
    );
    assert_eq!(
        error.as_deref(),
        Some("boom 1"),
        "store suite: the error text is kept"
    );
    nothing_due(store, "a retry is not taken before its time").await;
    elapse(PAST_SHORT).await;
    let second = take_one(store, &id, LONG, "a retry is taken once due").await;
    assert_eq!(second.attempt, 2);
    complete(store, &second, "retry delay").await;
}

async fn the_last_failed_attempt_is_dead_with_its_error<S: InboxStore + ?Sized>(store: &S) {
    let id = fresh_id("dead");
    stored(store, &id).await;
    for attempt in 1..=3 {
        let mut taken = take(store, LONG, 10, 3).await;
        assert_eq!(
            taken.len(),
            1,
            "store suite: attempt {attempt} must be taken"
        );
        let taken = taken.remove(0);
        assert_eq!(taken.attempt, attempt);
        let after = if attempt < 3 {
            AfterFailure::RetryAfter(Duration::ZERO)
        } else {
            AfterFailure::Dead
        };
        fail(store, &taken, &format!("error {attempt}"), after).await;
    }
    let (state, attempts, error) = state_of(store, &id).await;
    assert_eq!(
        (state, attempts),
        (State::Dead, 3),
        "store suite: dead after the last attempt"
    );
    assert_eq!(
        error.as_deref(),
        Some("error 3"),
        "store suite: the last error is kept"
    );
    nothing_due(store, "a dead entry is not taken").await;
    finish_dead(store, &id).await;
}

/// Retries a dead entry and completes it, so it leaves nothing behind.
async fn finish_dead<S: InboxStore + ?Sized>(store: &S, id: &str) {
    assert!(
        matches!(store.retry(id).await, Ok(true)),
        "store suite: retry of a dead entry"
    );
    let taken = take_one(store, id, LONG, "a retried entry is due").await;
    complete(store, &taken, "retried").await;
}

async fn a_lease_ending_on_the_last_attempt_is_dead<S, F, Fut>(store: &S, elapse: &F)
where
    S: InboxStore + ?Sized,
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    let id = fresh_id("last-lease");
    stored(store, &id).await;
    let taken = take(store, SHORT, 10, 1).await;
    assert_eq!(taken.len(), 1, "store suite: the only attempt is taken");
    elapse(PAST_SHORT).await;
    let again = take(store, LONG, 10, 1).await;
    assert!(
        again.is_empty(),
        "store suite: no attempt is left after the lease, took {again:?}"
    );
    let (state, attempts, error) = state_of(store, &id).await;
    assert_eq!(
        (state, attempts),
        (State::Dead, 1),
        "store suite: a lease ending on the last attempt is dead"
    );
    assert_eq!(error.as_deref(), Some(LEASE_EXPIRED_ON_LAST_ATTEMPT));
    finish_dead(store, &id).await;
}

async fn release_hands_back_without_counting<S, F, Fut>(store: &S, elapse: &F)
where
    S: InboxStore + ?Sized,
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    let id = fresh_id("release");
    stored(store, &id).await;
    let first = take_one(store, &id, LONG, "release").await;
    if let Err(error) = store.release(&id, &forged_token(), Duration::ZERO).await {
        panic!("store suite: a forged release is a no-op: {error:?}");
    }
    nothing_due(store, "a forged release changes nothing").await;
    if let Err(error) = store.release(&id, &first.token, Duration::ZERO).await {
        panic!("store suite: release failed: {error:?}");
    }
    assert_eq!(state_of(store, &id).await.0, State::Pending);
    assert_lost(
        &store.complete(&id, &first.token).await,
        "a released lease cannot complete",
    );
    let second = take_one(store, &id, LONG, "a released entry is due at once").await;
    assert_eq!(
        second.attempt, 1,
        "store suite: a released attempt is not counted"
    );
    if let Err(error) = store.release(&id, &second.token, SHORT).await {
        panic!("store suite: release failed: {error:?}");
    }
    nothing_due(store, "a release with a delay is not due before it").await;
    elapse(PAST_SHORT).await;
    let third = take_one(store, &id, LONG, "a delayed release is due after it").await;
    complete(store, &third, "release").await;
}

async fn a_dead_entry_can_be_retried<S: InboxStore + ?Sized>(store: &S) {
    let ids = [
        fresh_id("retry-a"),
        fresh_id("retry-b"),
        fresh_id("retry-c"),
    ];
    for id in &ids {
        stored(store, id).await;
    }
    for taken in take(store, LONG, 10, MANY).await {
        fail(store, &taken, "fatal", AfterFailure::Dead).await;
    }
    for id in &ids {
        assert_eq!(state_of(store, id).await.0, State::Dead);
    }
    assert!(
        matches!(store.retry(&ids[0]).await, Ok(true)),
        "store suite: retry of a dead entry"
    );
    let (state, attempts, error) = state_of(store, &ids[0]).await;
    assert_eq!(
        (state, attempts),
        (State::Pending, 0),
        "store suite: a retried entry starts over"
    );
    assert_eq!(
        error.as_deref(),
        Some("fatal"),
        "store suite: retry keeps the last error"
    );
    assert!(
        matches!(store.retry(&ids[0]).await, Ok(false)),
        "store suite: retry of a pending entry"
    );
    assert!(
        matches!(store.retry("store-suite-unknown").await, Ok(false)),
        "store suite: retry of an unknown id"
    );
    let taken = take_one(store, &ids[0], LONG, "a retried entry is due").await;
    assert_eq!(taken.attempt, 1);
    complete(store, &taken, "retry").await;
    match store.retry_all_dead().await {
        Ok(count) => assert!(count >= 2, "store suite: retry_all_dead counted {count}"),
        Err(error) => panic!("store suite: retry_all_dead failed: {error:?}"),
    }
    for taken in take(store, LONG, 10, MANY).await {
        complete(store, &taken, "retry all").await;
    }
    for id in &ids {
        assert_eq!(state_of(store, id).await.0, State::Done);
    }
}

async fn purge_removes_old_dead_and_done_entries<S, F, Fut>(store: &S, elapse: &F)
where
    S: InboxStore + ?Sized,
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    let dead = fresh_id("purge-dead");
    let done = fresh_id("purge-done");
    stored(store, &dead).await;
    stored(store, &done).await;
    for taken in take(store, LONG, 10, MANY).await {
        if taken.id == dead {
            fail(store, &taken, "fatal", AfterFailure::Dead).await;
        } else {
            complete(store, &taken, "purge").await;
        }
    }
    assert!(
        matches!(store.purge_dead(LONG).await, Ok(0)),
        "store suite: young dead entries stay"
    );
    elapse(PAST_SHORT).await;
    match store.purge_dead(SHORT).await {
        Ok(count) => assert!(count >= 1, "store suite: purge_dead counted {count}"),
        Err(error) => panic!("store suite: purge_dead failed: {error:?}"),
    }
    assert!(
        matches!(store.show(&dead).await, Ok(None)),
        "store suite: a purged entry is gone"
    );
    assert_eq!(
        state_of(store, &done).await.0,
        State::Done,
        "store suite: purge_dead keeps done entries"
    );
    match store.purge_done(SHORT).await {
        Ok(count) => assert!(count >= 1, "store suite: purge_done counted {count}"),
        Err(error) => panic!("store suite: purge_done failed: {error:?}"),
    }
    assert!(
        matches!(store.show(&done).await, Ok(None)),
        "store suite: a purged entry is gone"
    );
    // A purged id is unknown again.
    stored(store, &dead).await;
    let taken = take_one(store, &dead, LONG, "a purged id is stored again").await;
    complete(store, &taken, "purge").await;
}

async fn list_show_and_stats<S: InboxStore + ?Sized>(store: &S) {
    let before = store
        .stats()
        .await
        .unwrap_or_else(|error| panic!("store suite: stats failed: {error:?}"));
    let ids = [
        fresh_id("list-pending"),
        fresh_id("list-flight"),
        fresh_id("list-dead"),
    ];
    for id in &ids {
        stored(store, id).await;
    }
    let taken = take(store, LONG, 10, MANY).await;
    assert_eq!(taken.len(), 3);
    for t in &taken {
        if t.id == ids[0] {
            let _ = store.release(&t.id, &t.token, LONG).await;
        } else if t.id == ids[2] {
            fail(store, t, "fatal", AfterFailure::Dead).await;
        }
    }
    let after = store
        .stats()
        .await
        .unwrap_or_else(|error| panic!("store suite: stats failed: {error:?}"));
    assert_eq!(
        after.pending,
        before.pending + 1,
        "store suite: stats pending"
    );
    assert_eq!(
        after.in_flight,
        before.in_flight + 1,
        "store suite: stats in flight"
    );
    assert_eq!(after.dead, before.dead + 1, "store suite: stats dead");
    assert_eq!(after.done, before.done, "store suite: stats done");
    for (state, id) in [
        (State::Pending, &ids[0]),
        (State::InFlight, &ids[1]),
        (State::Dead, &ids[2]),
    ] {
        let listed = store
            .list(Some(state), 10_000)
            .await
            .unwrap_or_else(|error| panic!("store suite: list failed: {error:?}"));
        assert!(
            listed.iter().any(|e| &e.id == id),
            "store suite: list({state}) shows {id}"
        );
        assert!(
            listed.iter().all(|e| e.state == state),
            "store suite: list({state}) shows only {state}"
        );
    }
    let all = store
        .list(None, 10_000)
        .await
        .unwrap_or_else(|error| panic!("store suite: list failed: {error:?}"));
    let positions: Vec<usize> = ids
        .iter()
        .filter_map(|id| all.iter().position(|e| &e.id == id))
        .collect();
    assert_eq!(
        positions.len(),
        3,
        "store suite: list(None) shows every state"
    );
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "store suite: list is in store order"
    );
    let limited = store.list(None, 1).await.map(|list| list.len());
    assert!(
        matches!(limited, Ok(1)),
        "store suite: list honours its limit, got {limited:?}"
    );
    assert!(matches!(store.show("store-suite-unknown").await, Ok(None)));
    // Leave nothing due: finish all three.
    for t in taken {
        if t.id == ids[1] {
            complete(store, &t, "list").await;
        }
    }
    let _ = store.retry(&ids[2]).await;
    let revived = take(store, LONG, 10, MANY).await;
    for t in &revived {
        complete(store, t, "list").await;
    }
    // The released one stays pending, due only after LONG.
    assert_eq!(state_of(store, &ids[0]).await.0, State::Pending);
}

async fn concurrent_accepts_store_once<S: InboxStore + ?Sized>(store: &S) {
    let id = fresh_id("race");
    let accepts = (0..RACERS)
        .map(|_| store.accept(new_entry(&id, "{}")))
        .collect();
    let outcomes = join_all(accepts).await;
    let mut stored_count = 0;
    for outcome in &outcomes {
        match outcome {
            Ok(Accepted::Stored { .. }) => stored_count += 1,
            Ok(Accepted::AlreadyStored { .. }) => {}
            Err(error) => panic!("store suite: racing accepts: {error:?}"),
        }
    }
    assert_eq!(
        stored_count, 1,
        "store suite: {RACERS} racing accepts of one id store it once"
    );
    let takes = (0..4).map(|_| store.take(LONG, 10, MANY)).collect();
    let taken: Vec<Taken> = join_all(takes)
        .await
        .into_iter()
        .flat_map(|result| {
            result.unwrap_or_else(|error| panic!("store suite: take failed: {error:?}"))
        })
        .collect();
    assert_eq!(
        taken.len(),
        1,
        "store suite: racing takes hand an entry out once"
    );
    complete(store, &taken[0], "race").await;
}
