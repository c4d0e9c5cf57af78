//! What the handlers record: how often each event id reached them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Handler calls per event id, shared between a server's handler and the
/// scenario that checks it. Cloning shares the same counts.
#[derive(Debug, Clone, Default)]
pub struct EventCounts(Arc<Mutex<HashMap<String, u32>>>);

impl EventCounts {
    /// Empty counts.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one handler call for `id`.
    pub fn record(&self, id: &str) {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match counts.get_mut(id) {
            Some(count) => *count = count.saturating_add(1),
            None => {
                counts.insert(id.to_owned(), 1);
            }
        }
    }

    /// The calls recorded for `id`.
    #[must_use]
    pub fn get(&self, id: &str) -> u32 {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .copied()
            .unwrap_or(0)
    }

    /// A copy of every count.
    #[must_use]
    pub fn snapshot(&self) -> HashMap<String, u32> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// All handler calls so far.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(|&count| u64::from(count))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_counts() {
        let counts = EventCounts::new();
        let handler_side = counts.clone();
        handler_side.record("evt_1");
        handler_side.record("evt_1");
        handler_side.record("evt_2");
        assert_eq!(counts.get("evt_1"), 2);
        assert_eq!(counts.get("evt_2"), 1);
        assert_eq!(counts.get("evt_3"), 0);
        assert_eq!(counts.total(), 3);
        assert_eq!(counts.snapshot().len(), 2);
    }
}
