//! The causes behind `StoreError::Unavailable` that Redis itself does not name.

use core::fmt;
use core::time::Duration;

/// Redis did not answer within the store's time limit.
#[derive(Debug)]
pub(crate) struct TimedOut(pub(crate) Duration);

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redis did not answer within {:?}", self.0)
    }
}

impl core::error::Error for TimedOut {}

/// A script answered with something it never returns: the key was written
/// by something other than this store, or the server is not Redis.
#[derive(Debug)]
pub(crate) struct UnexpectedReply;

impl fmt::Display for UnexpectedReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unexpected reply from a Redis script")
    }
}

impl core::error::Error for UnexpectedReply {}
