//! The causes behind `StoreError::Unavailable` that Redis itself does not
//! name. None of them holds the URL: it may carry a password.

use std::fmt;
use std::time::Duration;

/// Redis did not answer within the store's time limit.
#[derive(Debug)]
pub(crate) struct TimedOut(pub(crate) Duration);

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redis did not answer within {:?}", self.0)
    }
}

impl std::error::Error for TimedOut {}

/// A script or an entry answered with something this store never writes:
/// the keys were changed by something other than this store.
#[derive(Debug)]
pub(crate) struct UnexpectedReply(pub(crate) &'static str);

impl fmt::Display for UnexpectedReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unexpected reply from Redis: {}", self.0)
    }
}

impl std::error::Error for UnexpectedReply {}

/// Fewer replicas than required acknowledged an accept in time.
#[derive(Debug)]
pub(crate) struct NotReplicated {
    pub(crate) wanted: u32,
    pub(crate) acknowledged: i64,
}

impl fmt::Display for NotReplicated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} Redis replicas acknowledged the write in time",
            self.acknowledged, self.wanted
        )
    }
}

impl std::error::Error for NotReplicated {}

/// A key prefix that is empty or holds a brace, which would break the keys'
/// hash tag.
#[derive(Debug)]
pub(crate) struct InvalidPrefix(pub(crate) String);

impl fmt::Display for InvalidPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid inbox key prefix {:?}: it must be non-empty, without '{{' or '}}'",
            self.0
        )
    }
}

impl std::error::Error for InvalidPrefix {}
