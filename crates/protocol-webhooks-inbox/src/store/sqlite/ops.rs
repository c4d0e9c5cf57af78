//! The SQL of each operation, run by the writer thread inside a transaction.

use std::time::Duration;

use protocol_webhooks::dedup::{ClaimToken, StoreError};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::clock::{duration_millis, from_millis};
use crate::{Accepted, AfterFailure, Entry, EntrySummary, NewEntry, State, Stats, Taken};

/// Why an operation did not do its write.
#[derive(Debug)]
pub(super) enum OpError {
    /// The token does not hold the entry's lease.
    LostClaim,
    /// SQLite refused.
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for OpError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(error)
    }
}

impl From<OpError> for StoreError {
    fn from(error: OpError) -> Self {
        match error {
            OpError::LostClaim => Self::LostClaim,
            OpError::Sqlite(error) => Self::unavailable(error),
        }
    }
}

type OpResult<T> = Result<T, OpError>;

pub(super) fn accept(conn: &Connection, now: i64, entry: &NewEntry) -> OpResult<Accepted> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO inbox_entries
                 (id, event_type, body, state, attempts, due_at, received_at, updated_at)
             VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?4, ?4)
             ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![entry.id, entry.event_type, entry.body, now])?;
    let event_id = entry.id.clone();
    Ok(if inserted == 1 {
        Accepted::Stored { event_id }
    } else {
        Accepted::AlreadyStored { event_id }
    })
}

pub(super) fn take(
    conn: &Connection,
    now: i64,
    token: &ClaimToken,
    lease: Duration,
    limit: usize,
    max_attempts: u32,
) -> OpResult<Vec<Taken>> {
    // The planner, without statistics, prefers the (state, updated_at)
    // index and would visit or sort every due entry of a backlog on each
    // take; the partial indexes give the due entries in order and stop at
    // the limit.
    conn.prepare_cached(
        "UPDATE inbox_entries INDEXED BY inbox_entries_leases
            SET state = 'dead', lease_token = NULL, last_error = ?3, updated_at = ?1
          WHERE state = 'in_flight' AND due_at <= ?1 AND attempts >= ?2",
    )?
    .execute(params![
        now,
        max_attempts,
        crate::LEASE_EXPIRED_ON_LAST_ATTEMPT
    ])?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let lease_end = now.saturating_add(duration_millis(lease));
    let mut statement = conn.prepare_cached(
        "UPDATE inbox_entries
            SET state = 'in_flight', lease_token = ?2, attempts = attempts + 1,
                due_at = ?3, updated_at = ?1
          WHERE seq IN (SELECT seq FROM inbox_entries INDEXED BY inbox_entries_due
                         WHERE state IN ('pending', 'in_flight') AND due_at <= ?1
                         ORDER BY due_at, seq LIMIT ?4)
      RETURNING id, event_type, body, attempts, received_at",
    )?;
    let rows = statement.query_map(params![now, token.to_hex(), lease_end, limit], |row| {
        Ok(Taken::new(
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            attempts(row, 3)?,
            token.clone(),
            from_millis(row.get(4)?),
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn complete(conn: &Connection, now: i64, id: &str, token: &ClaimToken) -> OpResult<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE inbox_entries SET state = 'done', lease_token = NULL, updated_at = ?3
              WHERE id = ?1 AND state = 'in_flight' AND lease_token = ?2",
        )?
        .execute(params![id, token.to_hex(), now])?;
    held(changed)
}

pub(super) fn fail(
    conn: &Connection,
    now: i64,
    id: &str,
    token: &ClaimToken,
    error: &str,
    after: AfterFailure,
) -> OpResult<()> {
    let (state, due_at) = match after {
        AfterFailure::RetryAfter(delay) => {
            (State::Pending, now.saturating_add(duration_millis(delay)))
        }
        AfterFailure::Dead => (State::Dead, now),
    };
    let changed = conn
        .prepare_cached(
            "UPDATE inbox_entries
                SET state = ?4, lease_token = NULL, last_error = ?3, due_at = ?5, updated_at = ?6
              WHERE id = ?1 AND state = 'in_flight' AND lease_token = ?2",
        )?
        .execute(params![
            id,
            token.to_hex(),
            error,
            state.as_str(),
            due_at,
            now
        ])?;
    held(changed)
}

pub(super) fn release(
    conn: &Connection,
    now: i64,
    id: &str,
    token: &ClaimToken,
    delay: Duration,
) -> OpResult<()> {
    conn.prepare_cached(
        "UPDATE inbox_entries
            SET state = 'pending', lease_token = NULL, attempts = max(attempts - 1, 0),
                due_at = ?3, updated_at = ?4
          WHERE id = ?1 AND state = 'in_flight' AND lease_token = ?2",
    )?
    .execute(params![
        id,
        token.to_hex(),
        now.saturating_add(duration_millis(delay)),
        now
    ])?;
    Ok(())
}

pub(super) fn stats(conn: &Connection) -> OpResult<Stats> {
    let mut statement =
        conn.prepare_cached("SELECT state, count(*) FROM inbox_entries GROUP BY state")?;
    let mut rows = statement.query([])?;
    let mut stats = Stats::default();
    while let Some(row) = rows.next()? {
        let count: i64 = row.get(1)?;
        stats.add(state(row, 0)?, u64::try_from(count).unwrap_or(0));
    }
    Ok(stats)
}

const SUMMARY_COLUMNS: &str =
    "id, event_type, state, attempts, last_error, received_at, updated_at, due_at";

pub(super) fn list(
    conn: &Connection,
    state: Option<State>,
    limit: usize,
) -> OpResult<Vec<EntrySummary>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM inbox_entries
          WHERE ?1 IS NULL OR state = ?1 ORDER BY seq LIMIT ?2"
    ))?;
    let rows = statement.query_map(params![state.map(State::as_str), limit], summary)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn show(conn: &Connection, id: &str) -> OpResult<Option<Entry>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {SUMMARY_COLUMNS}, body FROM inbox_entries WHERE id = ?1"
    ))?;
    let entry = statement
        .query_row(params![id], |row| {
            Ok(Entry::new(summary(row)?, row.get(8)?))
        })
        .optional()?;
    Ok(entry)
}

pub(super) fn retry(conn: &Connection, now: i64, id: Option<&str>) -> OpResult<u64> {
    let changed = conn
        .prepare_cached(
            "UPDATE inbox_entries SET state = 'pending', attempts = 0, due_at = ?2, updated_at = ?2
              WHERE state = 'dead' AND (?1 IS NULL OR id = ?1)",
        )?
        .execute(params![id, now])?;
    Ok(u64::try_from(changed).unwrap_or(u64::MAX))
}

pub(super) fn purge(
    conn: &Connection,
    now: i64,
    state: State,
    older_than: Duration,
) -> OpResult<u64> {
    let cutoff = now.saturating_sub(duration_millis(older_than));
    let removed = conn
        .prepare_cached("DELETE FROM inbox_entries WHERE state = ?1 AND updated_at <= ?2")?
        .execute(params![state.as_str(), cutoff])?;
    Ok(u64::try_from(removed).unwrap_or(u64::MAX))
}

fn held(changed: usize) -> OpResult<()> {
    if changed == 1 {
        Ok(())
    } else {
        Err(OpError::LostClaim)
    }
}

fn summary(row: &Row<'_>) -> rusqlite::Result<EntrySummary> {
    Ok(EntrySummary::new(
        row.get(0)?,
        row.get(1)?,
        state(row, 2)?,
        attempts(row, 3)?,
        row.get(4)?,
        from_millis(row.get(5)?),
        from_millis(row.get(6)?),
        from_millis(row.get(7)?),
    ))
}

/// A state column; a name this version does not know is a conversion
/// error, not a panic.
fn state(row: &Row<'_>, index: usize) -> rusqlite::Result<State> {
    let name: String = row.get(index)?;
    name.parse().map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(error))
    })
}

fn attempts(row: &Row<'_>, index: usize) -> rusqlite::Result<u32> {
    let count: i64 = row.get(index)?;
    u32::try_from(count).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(index, Type::Integer, Box::new(error))
    })
}
