//! Opening the SQLite file with the settings that make a commit durable.

use std::path::Path;
use std::time::Duration;

use protocol_webhooks::dedup::StoreError;
use rusqlite::Connection;

use super::error::NotWal;

/// One table; `seq` keeps store order, `due_at` is the due time of a
/// pending entry and the lease end of an in-flight one (one column, so one
/// index finds everything a worker may take, in the order it takes them:
/// an index also orders by the rowid, `seq`). Leases have an index of their
/// own, so finding the ended ones does not walk a backlog of pending
/// entries.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS inbox_entries (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    event_type   TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'in_flight', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    due_at       INTEGER NOT NULL,
    lease_token  TEXT,
    last_error   TEXT,
    received_at  INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS inbox_entries_due
    ON inbox_entries (due_at) WHERE state IN ('pending', 'in_flight');
CREATE INDEX IF NOT EXISTS inbox_entries_leases
    ON inbox_entries (due_at) WHERE state = 'in_flight';
CREATE INDEX IF NOT EXISTS inbox_entries_state
    ON inbox_entries (state, updated_at);
";

/// Opens (creating if needed) the inbox file, with its table.
pub(super) fn open(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let conn = connect(path, busy_timeout)?;
    conn.execute_batch(SCHEMA)
        .map_err(StoreError::unavailable)?;
    Ok(conn)
}

/// Opens a connection to the file with the settings every writer of it
/// needs; the table is not touched.
///
/// - `journal_mode=WAL`: readers and the writer do not block each other,
///   and a commit is one sequential append to the log.
/// - `synchronous=FULL`: every commit fsyncs the log before it returns, so
///   a commit that returned survives a process crash and a power loss.
///   `NORMAL` in WAL mode fsyncs only at checkpoints and may lose the last
///   commits on power loss: events already answered 202, which Protocol
///   never sends again. Group commit pays for the fsync instead.
/// - `busy_timeout`: another process writing the same file makes a write
///   wait, not fail.
pub(super) fn connect(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(StoreError::unavailable)?;
    conn.busy_timeout(busy_timeout)
        .map_err(StoreError::unavailable)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
        .map_err(StoreError::unavailable)?;
    if !mode.eq_ignore_ascii_case("wal") {
        // An in-memory database keeps another journal mode; refuse rather
        // than run with other durability rules than documented.
        return Err(StoreError::unavailable(NotWal(mode)));
    }
    // Per connection, not per file: a connection without it would commit
    // without the fsync, even in the inbox's file.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(StoreError::unavailable)?;
    Ok(conn)
}
