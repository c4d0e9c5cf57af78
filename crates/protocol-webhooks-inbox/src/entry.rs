//! What an inbox keeps about one event, and what its operations answer.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use protocol_webhooks::Answer;
use protocol_webhooks::dedup::ClaimToken;

/// Where an entry is in its life.
///
/// `Pending` → (taken) `InFlight` → `Done`, or back to `Pending` with a
/// later due time after a failure, or `Dead` after the last attempt. An
/// operator's retry makes a `Dead` entry `Pending` again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Waiting to be taken, once its due time has come.
    Pending,
    /// Taken by a worker under a lease; taken again by any worker once the
    /// lease expired.
    InFlight,
    /// The handler succeeded.
    Done,
    /// Every attempt failed; kept with the last error until retried or
    /// purged.
    Dead,
}

impl State {
    /// Every state, in life order.
    pub const ALL: [Self; 4] = [Self::Pending, Self::InFlight, Self::Done, Self::Dead];

    /// `pending`, `in_flight`, `done` or `dead`: the name stores keep.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InFlight => "in_flight",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state name that is not one of [`State::as_str`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownState(pub String);

impl fmt::Display for UnknownState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown inbox state {:?}: expected pending, in_flight, done or dead",
            self.0
        )
    }
}

impl std::error::Error for UnknownState {}

impl FromStr for State {
    type Err = UnknownState;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
            .ok_or_else(|| UnknownState(name.to_owned()))
    }
}

/// An authentic event to store: its id and type, parsed by the core, and
/// the exact body bytes whose signature was checked.
#[derive(Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// The event's id; an inbox holds at most one entry per id.
    pub id: String,
    /// The event's type, e.g. `message.created`, for listing.
    pub event_type: String,
    /// The verified body, exactly as received.
    pub body: Vec<u8>,
}

impl fmt::Debug for NewEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewEntry")
            .field("id", &self.id)
            .field("event_type", &self.event_type)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What [`InboxStore::accept`](crate::InboxStore::accept) did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Accepted {
    /// The event is new and stored: the store's durable commit returned.
    Stored {
        /// The event's id.
        event_id: String,
    },
    /// An event with this id is in the inbox already, in any state; nothing
    /// new was stored.
    AlreadyStored {
        /// The event's id.
        event_id: String,
    },
}

impl Accepted {
    /// The event's id.
    #[must_use]
    pub fn event_id(&self) -> &str {
        match self {
            Self::Stored { event_id } | Self::AlreadyStored { event_id } => event_id,
        }
    }

    /// The HTTP answer, decided by the core: 202 `stored` for a new event,
    /// 200 `already_stored` for one the inbox holds already (the sender must
    /// not send it again either way).
    pub fn answer(self) -> Answer {
        Answer::from(self)
    }
}

impl From<Accepted> for Answer {
    fn from(accepted: Accepted) -> Self {
        match accepted {
            Accepted::Stored { event_id } => Answer::stored(event_id),
            Accepted::AlreadyStored { event_id } => Answer::already_stored(event_id),
        }
    }
}

/// An entry a worker took: run the handler, then complete, fail or release
/// it with [`token`](Self::token).
#[derive(Clone)]
#[non_exhaustive]
pub struct Taken {
    /// The event's id.
    pub id: String,
    /// The event's type.
    pub event_type: String,
    /// The verified body, exactly as received.
    pub body: Vec<u8>,
    /// This attempt's number, from 1.
    pub attempt: u32,
    /// Proof of this lease: only its holder completes, fails or releases
    /// the entry.
    pub token: ClaimToken,
    /// When the entry was stored.
    pub received_at: SystemTime,
}

impl Taken {
    /// An entry as a store hands it out.
    #[must_use]
    pub fn new(
        id: String,
        event_type: String,
        body: Vec<u8>,
        attempt: u32,
        token: ClaimToken,
        received_at: SystemTime,
    ) -> Self {
        Self {
            id,
            event_type,
            body,
            attempt,
            token,
            received_at,
        }
    }
}

impl fmt::Debug for Taken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Taken")
            .field("id", &self.id)
            .field("event_type", &self.event_type)
            .field("body_len", &self.body.len())
            .field("attempt", &self.attempt)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// One entry as an operator sees it in a list: everything but the body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EntrySummary {
    /// The event's id.
    pub id: String,
    /// The event's type.
    pub event_type: String,
    /// Where the entry is in its life.
    pub state: State,
    /// How many attempts were made (taken and not handed back).
    pub attempts: u32,
    /// The last failure's text, kept until the handler succeeds.
    pub last_error: Option<String>,
    /// When the entry was stored.
    pub received_at: SystemTime,
    /// When the entry last changed state.
    pub updated_at: SystemTime,
    /// `Pending`: when it may be taken; `InFlight`: when its lease ends;
    /// otherwise when it was last due.
    pub due_at: SystemTime,
}

impl EntrySummary {
    /// A summary as a store reads it.
    #[allow(clippy::too_many_arguments)]
    #[must_use]
    pub fn new(
        id: String,
        event_type: String,
        state: State,
        attempts: u32,
        last_error: Option<String>,
        received_at: SystemTime,
        updated_at: SystemTime,
        due_at: SystemTime,
    ) -> Self {
        Self {
            id,
            event_type,
            state,
            attempts,
            last_error,
            received_at,
            updated_at,
            due_at,
        }
    }
}

/// One entry with its body, as [`InboxStore::show`](crate::InboxStore::show)
/// answers.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// Everything but the body.
    pub summary: EntrySummary,
    /// The verified body, exactly as received.
    pub body: Vec<u8>,
}

impl Entry {
    /// An entry as a store reads it.
    #[must_use]
    pub fn new(summary: EntrySummary, body: Vec<u8>) -> Self {
        Self { summary, body }
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("summary", &self.summary)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// How many entries are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Waiting, including those waiting for a retry.
    pub pending: u64,
    /// Taken by a worker (some may have an expired lease).
    pub in_flight: u64,
    /// Handled.
    pub done: u64,
    /// Out of attempts.
    pub dead: u64,
}

impl Stats {
    /// The count for one state.
    #[must_use]
    pub fn get(&self, state: State) -> u64 {
        match state {
            State::Pending => self.pending,
            State::InFlight => self.in_flight,
            State::Done => self.done,
            State::Dead => self.dead,
        }
    }

    /// Adds `count` to one state's count.
    pub fn add(&mut self, state: State, count: u64) {
        let slot = match state {
            State::Pending => &mut self.pending,
            State::InFlight => &mut self.in_flight,
            State::Done => &mut self.done,
            State::Dead => &mut self.dead,
        };
        *slot = slot.saturating_add(count);
    }

    /// Every entry.
    #[must_use]
    pub fn total(&self) -> u64 {
        State::ALL
            .into_iter()
            .fold(0u64, |sum, state| sum.saturating_add(self.get(state)))
    }
}

/// How a failed attempt ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Pending again, due once this delay from the store's now has passed.
    RetryAfter(Duration),
    /// Dead: no attempt is left.
    Dead,
}
