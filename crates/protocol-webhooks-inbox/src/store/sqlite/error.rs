//! The causes behind `StoreError::Unavailable` that SQLite itself does not name.

use std::fmt;
use std::sync::Arc;

/// The file would not switch to WAL mode.
#[derive(Debug)]
pub(crate) struct NotWal(pub(crate) String);

impl fmt::Display for NotWal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the SQLite journal mode is {}, not wal: use a file on a local disk",
            self.0
        )
    }
}

impl std::error::Error for NotWal {}

/// The writer thread is gone: the store was closed or the thread panicked.
#[derive(Debug)]
pub(crate) struct WriterStopped;

impl fmt::Display for WriterStopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the SQLite writer thread stopped")
    }
}

impl std::error::Error for WriterStopped {}

/// The transaction an operation was part of did not commit, so its write
/// did not happen; shared by every operation of the group.
#[derive(Debug, Clone)]
pub(crate) struct GroupFailed(pub(crate) Arc<rusqlite::Error>);

impl fmt::Display for GroupFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the SQLite transaction did not commit: {}", self.0)
    }
}

impl std::error::Error for GroupFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}
