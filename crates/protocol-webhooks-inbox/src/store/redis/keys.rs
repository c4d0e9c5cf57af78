//! The names of an inbox's keys in Redis.

use crate::State;

/// Every key of one inbox, derived from its prefix `p`: `{p}:stream`,
/// `{p}:entry:<id>`, ... The braces make `p` the keys' hash tag, so in a
/// Redis Cluster all keys of one inbox live in one slot and every script
/// runs on one node.
#[derive(Debug)]
pub(super) struct Keys {
    /// The keys every script gets, in the order of `scripts`' table.
    pub(super) fixed: [String; 10],
    /// `{p}:entry:`, followed by the event id.
    pub(super) entry_prefix: String,
}

impl Keys {
    pub(super) fn new(prefix: &str) -> Self {
        let key = |name: &str| format!("{{{prefix}}}:{name}");
        Self {
            fixed: [
                key("stream"),
                key("delayed"),
                key("leases"),
                key("seq"),
                key(&format!("index:{}", State::Pending.as_str())),
                key(&format!("index:{}", State::InFlight.as_str())),
                key(&format!("index:{}", State::Done.as_str())),
                key(&format!("index:{}", State::Dead.as_str())),
                key("aged:done"),
                key("aged:dead"),
            ],
            entry_prefix: key("entry:"),
        }
    }

    /// The hash of one entry.
    pub(super) fn entry(&self, id: &str) -> String {
        let mut key = String::with_capacity(self.entry_prefix.len() + id.len());
        key.push_str(&self.entry_prefix);
        key.push_str(id);
        key
    }

    /// The stream of due entries.
    pub(super) fn stream(&self) -> &str {
        &self.fixed[0]
    }
}

/// Why a prefix cannot be used: it would break the hash tag, or is empty.
pub(super) fn check_prefix(prefix: &str) -> Result<(), super::error::InvalidPrefix> {
    if prefix.is_empty() || prefix.contains(['{', '}']) {
        Err(super::error::InvalidPrefix(prefix.to_owned()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_carries_the_prefix_as_its_hash_tag() {
        let keys = Keys::new("billing");
        assert_eq!(keys.stream(), "{billing}:stream");
        assert_eq!(keys.fixed[5], "{billing}:index:in_flight");
        assert_eq!(keys.entry("evt_1"), "{billing}:entry:evt_1");
        assert!(keys.fixed.iter().all(|key| key.starts_with("{billing}:")));
    }

    #[test]
    fn a_prefix_with_braces_or_none_is_refused() {
        assert!(check_prefix("billing:webhooks").is_ok());
        assert!(check_prefix("").is_err());
        assert!(check_prefix("a{b").is_err());
        assert!(check_prefix("a}b").is_err());
    }
}
