//! The lease a delivery's attempt holds on its entry, so that a handler
//! can mark the entry done inside its own transaction.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use protocol_webhooks::dedup::ClaimToken;

/// The entry's lease for one attempt: its event id and the token that
/// proves the lease.
///
/// Only a store can use it: `SqliteStore::complete_in` (feature `sqlite`)
/// marks the entry done inside the handler's own SQLite transaction, and
/// `RedisStore::complete_with` (feature `redis`) in the script that runs
/// the handler's Redis writes. The
/// token never leaves the crate and is not shown by `Debug`, so a log line
/// cannot be used to complete someone else's attempt.
///
/// Clones share one "completed in the handler's transaction" flag: the
/// worker reads it on its own clone after the handler returned.
#[derive(Clone)]
pub struct Lease {
    event_id: String,
    token: ClaimToken,
    completed: Arc<AtomicBool>,
}

impl Lease {
    pub(crate) fn new(event_id: String, token: ClaimToken) -> Self {
        Self {
            event_id,
            token,
            completed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The id of the event, and of the entry, this lease is on.
    #[must_use]
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    #[cfg_attr(
        not(any(feature = "sqlite", feature = "redis")),
        expect(
            dead_code,
            reason = "only the SQLite and Redis stores complete with effects"
        )
    )]
    pub(crate) fn token(&self) -> &ClaimToken {
        &self.token
    }

    /// Records that a store wrote the entry's done into the handler's
    /// transaction; from then on the worker leaves the entry to that
    /// transaction's commit.
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "redis", test)),
        expect(
            dead_code,
            reason = "only the SQLite and Redis stores complete with effects"
        )
    )]
    pub(crate) fn mark_completed(&self) {
        self.completed.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_completed(&self) -> bool {
        self.completed.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("event_id", &self.event_id)
            .field("token", &format_args!("<token>"))
            .field("completed", &self.is_completed())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_id_but_not_the_token() {
        let token = ClaimToken::random().expect("randomness");
        let lease = Lease::new(String::from("evt_1"), token.clone());
        let shown = format!("{lease:?}");
        assert_eq!(
            shown,
            r#"Lease { event_id: "evt_1", token: <token>, completed: false }"#
        );
        assert!(!shown.contains(&token.to_hex()), "{shown}");
        assert!(!shown.contains("ClaimToken"), "{shown}");
    }

    #[test]
    fn clones_share_the_completed_flag() {
        let lease = Lease::new(
            String::from("evt_1"),
            ClaimToken::random().expect("randomness"),
        );
        let handlers = lease.clone();
        assert!(!lease.is_completed());
        handlers.mark_completed();
        assert!(lease.is_completed());
    }
}
