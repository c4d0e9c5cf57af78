//! A conformance suite for [`EventStore`] implementations (feature
//! `store-suite`).
//!
//! It runs every rule of the [`EventStore`] table against a real store, so a
//! new backend is checked the same way as [`MemoryStore`](super::MemoryStore).
//! It needs no particular async runtime: the caller passes how to let time
//! pass.
//!
//! ```
//! use std::time::Duration;
//! use protocol_webhooks::dedup::{ManualClock, MemoryStore, store_suite};
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
//!
//! A networked store would pass its runtime's sleep instead, e.g.
//! `store_suite::run(&store, tokio::time::sleep)`.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use super::{ClaimOutcome, ClaimToken, EventStore, StoreError};

/// The lease for claims that must stay live for the rest of a check.
const LONG: Duration = Duration::from_secs(30);
/// A lease or retention meant to expire during a check.
const SHORT: Duration = Duration::from_millis(200);
/// Waited after a [`SHORT`] lease or retention, with margin for clock skew
/// between the test and a networked store.
const PAST_SHORT: Duration = Duration::from_millis(500);
/// How many claims race in the concurrency check.
const RACERS: usize = 100;

/// Runs every check against `store`, each on fresh random event ids, so it
/// can be run again on a store that keeps data.
///
/// `elapse(d)` must return once at least `d` has passed for the store: a
/// runtime's `sleep` for a real store, or advancing a
/// [`ManualClock`](super::ManualClock) the store reads.
///
/// # Panics
/// On the first rule the store breaks, with a message naming it.
pub async fn run<S, F, Fut>(store: &S, elapse: F)
where
    S: EventStore + ?Sized,
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    claim_then_commit_is_done(store).await;
    claim_then_release_can_be_claimed_again(store).await;
    a_live_claim_is_in_progress_for_its_remaining_lease(store).await;
    only_the_holder_can_commit_or_release(store).await;
    ids_are_independent(store).await;
    a_released_claim_cannot_be_committed(store).await;
    release_detached_releases(store, &elapse).await;
    an_expired_lease_can_be_claimed_and_the_old_holder_cannot_commit(store, &elapse).await;
    an_expired_retention_can_be_claimed_again(store, &elapse).await;
    concurrent_claims_have_one_winner(store).await;
}

/// A fresh, random event id, so runs never see each other's entries.
fn fresh_id(check: &str) -> String {
    match ClaimToken::random() {
        Ok(token) => format!("store-suite-{check}-{}", token.to_hex()),
        Err(error) => panic!("store suite: no randomness for event ids: {error}"),
    }
}

fn forged_token() -> ClaimToken {
    match ClaimToken::random() {
        Ok(token) => token,
        Err(error) => panic!("store suite: no randomness for a token: {error}"),
    }
}

async fn claimed<S: EventStore + ?Sized>(store: &S, id: &str, lease: Duration) -> ClaimToken {
    match store.claim(id, lease).await {
        Ok(ClaimOutcome::Claimed(token)) => token,
        other => panic!("store suite: claiming a free id must succeed, got {other:?}"),
    }
}

async fn assert_outcome<S: EventStore + ?Sized>(store: &S, id: &str, expected: &str, rule: &str) {
    let outcome = store.claim(id, LONG).await;
    let matches = matches!(
        (&outcome, expected),
        (Ok(ClaimOutcome::Done), "done")
            | (Ok(ClaimOutcome::InProgress { .. }), "in progress")
            | (Ok(ClaimOutcome::Claimed(_)), "claimed")
    );
    assert!(
        matches,
        "store suite: {rule}: expected {expected}, got {outcome:?}"
    );
}

async fn commit<S: EventStore + ?Sized>(store: &S, id: &str, token: &ClaimToken, rule: &str) {
    if let Err(error) = store.commit(id, token, LONG).await {
        panic!("store suite: {rule}: the holder's commit failed: {error:?}");
    }
}

async fn release<S: EventStore + ?Sized>(store: &S, id: &str, token: &ClaimToken, rule: &str) {
    if let Err(error) = store.release(id, token).await {
        panic!("store suite: {rule}: release failed: {error:?}");
    }
}

async fn assert_lost_claim<S: EventStore + ?Sized>(
    store: &S,
    id: &str,
    token: &ClaimToken,
    rule: &str,
) {
    let result = store.commit(id, token, LONG).await;
    assert!(
        matches!(result, Err(StoreError::LostClaim)),
        "store suite: {rule}: commit must fail with LostClaim, got {result:?}"
    );
}

async fn claim_then_commit_is_done<S: EventStore + ?Sized>(store: &S) {
    let rule = "a committed id is done";
    let id = fresh_id("commit");
    let token = claimed(store, &id, LONG).await;
    commit(store, &id, &token, rule).await;
    assert_outcome(store, &id, "done", rule).await;
    assert_outcome(store, &id, "done", rule).await;
    // The holder's own release after the commit must not undo it.
    release(store, &id, &token, rule).await;
    assert_outcome(
        store,
        &id,
        "done",
        "a release after the commit changes nothing",
    )
    .await;
}

async fn claim_then_release_can_be_claimed_again<S: EventStore + ?Sized>(store: &S) {
    let rule = "a released id can be claimed again";
    let id = fresh_id("release");
    let first = claimed(store, &id, LONG).await;
    release(store, &id, &first, rule).await;
    let second = claimed(store, &id, LONG).await;
    assert_ne!(first, second, "store suite: every claim gets a new token");
    commit(store, &id, &second, rule).await;
    assert_outcome(store, &id, "done", rule).await;
}

async fn a_live_claim_is_in_progress_for_its_remaining_lease<S: EventStore + ?Sized>(store: &S) {
    let id = fresh_id("in-progress");
    claimed(store, &id, LONG).await;
    match store.claim(&id, LONG).await {
        Ok(ClaimOutcome::InProgress { retry_after }) => assert!(
            retry_after <= LONG && retry_after > LONG - Duration::from_secs(10),
            "store suite: retry_after must be the remaining lease (at most {LONG:?}), \
             got {retry_after:?}"
        ),
        other => panic!("store suite: a claimed id must be in progress, got {other:?}"),
    }
}

async fn only_the_holder_can_commit_or_release<S: EventStore + ?Sized>(store: &S) {
    let rule = "only the holder commits or releases";
    let id = fresh_id("holder");
    let token = claimed(store, &id, LONG).await;
    let forged = forged_token();
    assert_lost_claim(store, &id, &forged, rule).await;
    assert_outcome(store, &id, "in progress", "a forged commit changes nothing").await;
    release(store, &id, &forged, rule).await;
    assert_outcome(
        store,
        &id,
        "in progress",
        "a forged release changes nothing",
    )
    .await;
    commit(store, &id, &token, rule).await;
    assert_lost_claim(store, &id, &forged, "a forged commit after the commit").await;
    release(store, &id, &forged, rule).await;
    assert_outcome(
        store,
        &id,
        "done",
        "a forged release after the commit changes nothing",
    )
    .await;
}

async fn ids_are_independent<S: EventStore + ?Sized>(store: &S) {
    let rule = "ids are independent";
    let first = fresh_id("first");
    let second = fresh_id("second");
    let first_token = claimed(store, &first, LONG).await;
    let second_token = claimed(store, &second, LONG).await;
    assert_lost_claim(
        store,
        &second,
        &first_token,
        "a token is only good for its id",
    )
    .await;
    commit(store, &first, &first_token, rule).await;
    assert_outcome(store, &second, "in progress", rule).await;
    release(store, &second, &second_token, rule).await;
    assert_outcome(store, &first, "done", rule).await;
}

async fn a_released_claim_cannot_be_committed<S: EventStore + ?Sized>(store: &S) {
    let id = fresh_id("released");
    let token = claimed(store, &id, LONG).await;
    release(store, &id, &token, "release").await;
    assert_lost_claim(store, &id, &token, "a released claim cannot be committed").await;
    assert_outcome(store, &id, "claimed", "a failed commit leaves the id free").await;
}

async fn release_detached_releases<S, F, Fut>(store: &S, elapse: &F)
where
    S: EventStore + ?Sized,
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    let id = fresh_id("detached");
    let token = claimed(store, &id, LONG).await;
    store.release_detached(id.clone(), forged_token());
    store.release_detached(id.clone(), token);
    // A networked store releases in the background: give it a few seconds,
    // far less than the lease, so only the release can free the id.
    for _ in 0..100 {
        match store.claim(&id, LONG).await {
            Ok(ClaimOutcome::Claimed(_)) => return,
            Ok(ClaimOutcome::InProgress { .. }) => elapse(Duration::from_millis(50)).await,
            other => panic!("store suite: release_detached: unexpected {other:?}"),
        }
    }
    panic!("store suite: release_detached did not release the claim within 5 s");
}

async fn an_expired_lease_can_be_claimed_and_the_old_holder_cannot_commit<S, F, Fut>(
    store: &S,
    elapse: &F,
) where
    S: EventStore + ?Sized,
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    let rule = "an expired lease";
    let id = fresh_id("lease");
    let stale = claimed(store, &id, SHORT).await;
    elapse(PAST_SHORT).await;
    let current = claimed(store, &id, LONG).await;
    assert_lost_claim(
        store,
        &id,
        &stale,
        "the holder of an expired lease cannot commit",
    )
    .await;
    release(store, &id, &stale, rule).await;
    assert_outcome(
        store,
        &id,
        "in progress",
        "the holder of an expired lease cannot release the new claim",
    )
    .await;
    commit(store, &id, &current, rule).await;
    assert_outcome(store, &id, "done", rule).await;

    let unclaimed = fresh_id("lease-unclaimed");
    let expired = claimed(store, &unclaimed, SHORT).await;
    elapse(PAST_SHORT).await;
    assert_lost_claim(
        store,
        &unclaimed,
        &expired,
        "a commit after the lease expired",
    )
    .await;
    assert_outcome(
        store,
        &unclaimed,
        "claimed",
        "an expired lease frees the id",
    )
    .await;
}

async fn an_expired_retention_can_be_claimed_again<S, F, Fut>(store: &S, elapse: &F)
where
    S: EventStore + ?Sized,
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    let id = fresh_id("retention");
    let token = claimed(store, &id, LONG).await;
    if let Err(error) = store.commit(&id, &token, SHORT).await {
        panic!("store suite: commit with a short retention failed: {error:?}");
    }
    assert_outcome(store, &id, "done", "within the retention").await;
    elapse(PAST_SHORT).await;
    assert_outcome(store, &id, "claimed", "an expired retention frees the id").await;
}

async fn concurrent_claims_have_one_winner<S: EventStore + ?Sized>(store: &S) {
    let id = fresh_id("race");
    let claims = (0..RACERS).map(|_| store.claim(&id, LONG)).collect();
    let outcomes = join_all(claims).await;
    let mut winners = 0;
    for outcome in &outcomes {
        match outcome {
            Ok(ClaimOutcome::Claimed(_)) => winners += 1,
            Ok(ClaimOutcome::InProgress { .. }) => {}
            other => panic!("store suite: racing claims: unexpected {other:?}"),
        }
    }
    assert_eq!(
        winners, 1,
        "store suite: {RACERS} concurrent claims of one id must have exactly one winner"
    );
}

/// Runs `futures` together on the current task and returns their outputs
/// in order, so that a networked store sees the requests in flight at the
/// same time. Written here to keep store suites (this one and those of
/// other stores, such as an inbox's) free of runtime and utility
/// dependencies.
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    JoinAll::new(futures).await
}

/// Polls every future in turn until all are ready.
struct JoinAll<F: Future> {
    pending: Vec<Option<Pin<Box<F>>>>,
    outputs: Vec<Option<F::Output>>,
}

impl<F: Future> JoinAll<F> {
    fn new(futures: Vec<F>) -> Self {
        let outputs = futures.iter().map(|_| None).collect();
        Self {
            pending: futures.into_iter().map(|f| Some(Box::pin(f))).collect(),
            outputs,
        }
    }
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut all_ready = true;
        for (slot, output) in this.pending.iter_mut().zip(this.outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => all_ready = false,
                }
            }
        }
        if all_ready {
            Poll::Ready(this.outputs.iter_mut().filter_map(Option::take).collect())
        } else {
            Poll::Pending
        }
    }
}

// `JoinAll` only moves boxed futures and plain outputs, never pinned data.
impl<F: Future> Unpin for JoinAll<F> {}
