//! The example's record of successes on SQLite: the table `handled` in the
//! inbox's own file, one row per handling, written in the transaction that
//! marks the event done.

use std::path::Path;

use protocol_webhooks_inbox::rusqlite::{Connection, OpenFlags};

/// The event id of every row of `handled` in the SQLite file at `path`, in
/// the order they were committed; an id handled twice is there twice.
///
/// # Panics
/// When the file cannot be read or has no table `handled`: the example
/// creates it when its worker starts.
#[must_use]
pub fn handled_rows(path: &Path) -> Vec<String> {
    // Without CREATE: a wrong path fails instead of reading a new, empty
    // file. Nothing is written.
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let mut rows = conn
        .prepare("SELECT event_id FROM handled ORDER BY seq")
        .unwrap_or_else(|error| panic!("{}: the table `handled`: {error}", path.display()));
    rows.query_map([], |row| row.get(0))
        .and_then(Iterator::collect)
        .unwrap_or_else(|error| panic!("{}: the rows of `handled`: {error}", path.display()))
}
