//! An inbox store in process memory, for tests: NOT durable.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use protocol_webhooks::dedup::{ClaimToken, StoreError, StoreFuture};

use super::{InboxStore, after};
use crate::{
    Accepted, AfterFailure, Clock, Entry, EntrySummary, NewEntry, State, Stats, SystemClock, Taken,
};

/// An inbox store in this process's memory, **for tests only**.
///
/// **It is NOT durable**: everything it holds is lost when the process
/// exits or crashes. An inbox on it would answer 202 for events that a
/// crash then loses, and Protocol does not send them again: that is worse
/// than no inbox. Serve webhooks with [`SqliteStore`](crate::SqliteStore)
/// (feature `sqlite`).
///
/// Clones share the same entries.
#[derive(Clone)]
pub struct MemoryStore {
    rows: Arc<Mutex<Rows>>,
    clock: Arc<dyn Clock>,
}

#[derive(Default)]
struct Rows {
    by_id: HashMap<String, Row>,
    /// Store order, for listing and fair taking.
    next_seq: u64,
}

struct Row {
    seq: u64,
    event_type: String,
    body: Vec<u8>,
    state: State,
    attempts: u32,
    due_at: SystemTime,
    token: Option<ClaimToken>,
    last_error: Option<String>,
    received_at: SystemTime,
    updated_at: SystemTime,
}

impl Row {
    fn summary(&self, id: &str) -> EntrySummary {
        EntrySummary::new(
            id.to_owned(),
            self.event_type.clone(),
            self.state,
            self.attempts,
            self.last_error.clone(),
            self.received_at,
            self.updated_at,
            self.due_at,
        )
    }

    fn held_by(&self, token: &ClaimToken) -> bool {
        self.state == State::InFlight && self.token.as_ref() == Some(token)
    }
}

impl MemoryStore {
    /// An empty store on the system clock.
    #[must_use]
    pub fn new() -> Self {
        Self {
            rows: Arc::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Reads the time from `clock`, e.g. a [`ManualClock`](crate::ManualClock).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    fn rows(&self) -> MutexGuard<'_, Rows> {
        // Every update below completes before it could panic, so a poisoned
        // lock still guards consistent rows.
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn held<'a>(rows: &'a mut Rows, id: &str, token: &ClaimToken) -> Option<&'a mut Row> {
        rows.by_id.get_mut(id).filter(|row| row.held_by(token))
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.rows().by_id.len())
            .finish_non_exhaustive()
    }
}

fn ready<T: Send + 'static>(result: Result<T, StoreError>) -> StoreFuture<'static, T> {
    Box::pin(std::future::ready(result))
}

impl InboxStore for MemoryStore {
    fn accept(&self, entry: NewEntry) -> StoreFuture<'_, Accepted> {
        let now = self.clock.now();
        let mut rows = self.rows();
        if rows.by_id.contains_key(&entry.id) {
            return ready(Ok(Accepted::AlreadyStored { event_id: entry.id }));
        }
        let seq = rows.next_seq;
        rows.next_seq += 1;
        rows.by_id.insert(
            entry.id.clone(),
            Row {
                seq,
                event_type: entry.event_type,
                body: entry.body,
                state: State::Pending,
                attempts: 0,
                due_at: now,
                token: None,
                last_error: None,
                received_at: now,
                updated_at: now,
            },
        );
        ready(Ok(Accepted::Stored { event_id: entry.id }))
    }

    fn take(
        &self,
        lease: Duration,
        limit: usize,
        max_attempts: u32,
    ) -> StoreFuture<'_, Vec<Taken>> {
        let now = self.clock.now();
        let token = match ClaimToken::random() {
            Ok(token) => token,
            Err(error) => return ready(Err(error)),
        };
        let mut rows = self.rows();
        let mut due: Vec<(SystemTime, u64, String)> = Vec::new();
        for (id, row) in &mut rows.by_id {
            let waiting = matches!(row.state, State::Pending | State::InFlight);
            if !waiting || row.due_at > now {
                continue;
            }
            if row.state == State::InFlight && row.attempts >= max_attempts {
                row.state = State::Dead;
                row.token = None;
                row.last_error = Some(String::from(crate::LEASE_EXPIRED_ON_LAST_ATTEMPT));
                row.updated_at = now;
                continue;
            }
            due.push((row.due_at, row.seq, id.clone()));
        }
        due.sort_unstable();
        let mut taken = Vec::new();
        for (_, _, id) in due.into_iter().take(limit) {
            if let Some(row) = rows.by_id.get_mut(&id) {
                row.state = State::InFlight;
                row.token = Some(token.clone());
                row.attempts = row.attempts.saturating_add(1);
                row.due_at = after(now, lease);
                row.updated_at = now;
                taken.push(Taken::new(
                    id,
                    row.event_type.clone(),
                    row.body.clone(),
                    row.attempts,
                    token.clone(),
                    row.received_at,
                ));
            }
        }
        ready(Ok(taken))
    }

    fn complete<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        let now = self.clock.now();
        let mut rows = self.rows();
        let Some(row) = Self::held(&mut rows, id, token) else {
            return ready(Err(StoreError::LostClaim));
        };
        row.state = State::Done;
        row.token = None;
        row.updated_at = now;
        ready(Ok(()))
    }

    fn fail<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
        error: &'a str,
        after_failure: AfterFailure,
    ) -> StoreFuture<'a, ()> {
        let now = self.clock.now();
        let mut rows = self.rows();
        let Some(row) = Self::held(&mut rows, id, token) else {
            return ready(Err(StoreError::LostClaim));
        };
        row.token = None;
        row.last_error = Some(error.to_owned());
        row.updated_at = now;
        match after_failure {
            AfterFailure::RetryAfter(delay) => {
                row.state = State::Pending;
                row.due_at = after(now, delay);
            }
            AfterFailure::Dead => row.state = State::Dead,
        }
        ready(Ok(()))
    }

    fn release<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
        delay: Duration,
    ) -> StoreFuture<'a, ()> {
        let now = self.clock.now();
        let mut rows = self.rows();
        if let Some(row) = Self::held(&mut rows, id, token) {
            row.state = State::Pending;
            row.token = None;
            row.attempts = row.attempts.saturating_sub(1);
            row.due_at = after(now, delay);
            row.updated_at = now;
        }
        ready(Ok(()))
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        let mut stats = Stats::default();
        for row in self.rows().by_id.values() {
            stats.add(row.state, 1);
        }
        ready(Ok(stats))
    }

    fn list(&self, state: Option<State>, limit: usize) -> StoreFuture<'_, Vec<EntrySummary>> {
        let rows = self.rows();
        let mut matching: Vec<(u64, EntrySummary)> = rows
            .by_id
            .iter()
            .filter(|(_, row)| state.is_none_or(|wanted| row.state == wanted))
            .map(|(id, row)| (row.seq, row.summary(id)))
            .collect();
        matching.sort_unstable_by_key(|(seq, _)| *seq);
        ready(Ok(matching
            .into_iter()
            .take(limit)
            .map(|(_, summary)| summary)
            .collect()))
    }

    fn show<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Entry>> {
        let rows = self.rows();
        let entry = rows
            .by_id
            .get(id)
            .map(|row| Entry::new(row.summary(id), row.body.clone()));
        ready(Ok(entry))
    }

    fn retry<'a>(&'a self, id: &'a str) -> StoreFuture<'a, bool> {
        let now = self.clock.now();
        let mut rows = self.rows();
        let Some(row) = rows
            .by_id
            .get_mut(id)
            .filter(|row| row.state == State::Dead)
        else {
            return ready(Ok(false));
        };
        revive(row, now);
        ready(Ok(true))
    }

    fn retry_all_dead(&self) -> StoreFuture<'_, u64> {
        let now = self.clock.now();
        let mut count = 0;
        for row in self.rows().by_id.values_mut() {
            if row.state == State::Dead {
                revive(row, now);
                count += 1;
            }
        }
        ready(Ok(count))
    }

    fn purge_dead(&self, older_than: Duration) -> StoreFuture<'_, u64> {
        ready(Ok(self.purge(State::Dead, older_than)))
    }

    fn purge_done(&self, older_than: Duration) -> StoreFuture<'_, u64> {
        ready(Ok(self.purge(State::Done, older_than)))
    }
}

impl MemoryStore {
    fn purge(&self, state: State, older_than: Duration) -> u64 {
        let now = self.clock.now();
        let mut rows = self.rows();
        let before = rows.by_id.len();
        rows.by_id
            .retain(|_, row| row.state != state || after(row.updated_at, older_than) > now);
        u64::try_from(before - rows.by_id.len()).unwrap_or(u64::MAX)
    }
}

fn revive(row: &mut Row, now: SystemTime) {
    row.state = State::Pending;
    row.attempts = 0;
    row.due_at = now;
    row.updated_at = now;
}
