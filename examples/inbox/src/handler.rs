//! The worker's handler: logs each event and records each success. On
//! SQLite the record is a row of the table `handled` in the inbox's own
//! file, written in the transaction that marks the entry done, so it is
//! exactly once. On Redis it is a line in `INBOX_HANDLED_LOG`, at least
//! once. Switches from the environment make it fail on purpose, for trying
//! retries out and for the kill/restart tests.

use std::error::Error;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use protocol_webhooks_inbox::rusqlite::{self, Connection, TransactionBehavior, params};
use protocol_webhooks_inbox::{Delivery, SqliteStore, StoreError};

use crate::options::HandlerOptions;

/// The handler's effect on SQLite. Not unique on `event_id`, on purpose: an
/// event handled twice would show as two rows.
const HANDLED_TABLE: &str = "CREATE TABLE IF NOT EXISTS handled (
    seq        INTEGER PRIMARY KEY,
    event_id   TEXT    NOT NULL,
    handled_at INTEGER NOT NULL
)";

/// What the worker calls for each stored event.
#[derive(Debug)]
pub(crate) struct Handler {
    fail_rate: f64,
    fail_id: Option<String>,
    record: Record,
}

/// Where a success is recorded.
#[derive(Debug)]
enum Record {
    /// SQLite: a row of `handled`, committed with the entry's done.
    Table(Arc<HandledTable>),
    /// Redis with `INBOX_HANDLED_LOG`: opened with `O_APPEND`, each success
    /// is one `write` of `id\n`, followed by an fsync, before the handler
    /// returns.
    Log(Arc<File>),
    /// Redis without a log: the log line only.
    Nothing,
}

impl Handler {
    /// The handler. With `sqlite` (the inbox's store) it records into the
    /// table `handled` of the inbox's file, created if needed; otherwise
    /// into the success log, if one is set (created if needed).
    ///
    /// # Errors
    /// When the table or the success log cannot be created.
    pub(crate) fn new(
        options: &HandlerOptions,
        sqlite: Option<SqliteStore>,
    ) -> Result<Self, Box<dyn Error>> {
        let record = match (sqlite, &options.handled_log) {
            (Some(store), _) => Record::Table(Arc::new(HandledTable::open(store)?)),
            (None, Some(path)) => Record::Log(Arc::new(
                OpenOptions::new().create(true).append(true).open(path)?,
            )),
            (None, None) => Record::Nothing,
        };
        Ok(Self {
            fail_rate: options.fail_rate,
            fail_id: options.fail_id.clone(),
            record,
        })
    }

    /// Handles one attempt at one event. An `Err` makes the worker retry
    /// the event later, or mark it dead after its last attempt.
    ///
    /// On SQLite the row of `handled` and the entry's done commit together:
    /// a process killed before the commit has neither, and the event is
    /// handled again after its lease; killed after it, the event is done
    /// and never handled again. Exactly once.
    ///
    /// On Redis, at least once: the worker may call this again for an
    /// event it already handled, if the process dies after the log line
    /// and before the inbox marked the event done. The log then has the id
    /// twice; a real handler makes such an effect idempotent by event id.
    pub(crate) async fn handle(&self, delivery: Delivery) -> Result<(), String> {
        let id = delivery.id.clone();
        let event_type = delivery.event_type.as_str().to_owned();
        let attempt = delivery.attempt;
        // The failures come before any effect, as a failing call would.
        if self.fail_id.as_deref() == Some(id.as_str()) {
            return Err(format!("INBOX_FAIL_ID: event {id} always fails"));
        }
        if self.fail_rate > 0.0 && fastrand::f64() < self.fail_rate {
            return Err(format!(
                "INBOX_FAIL_RATE: attempt {attempt} failed on purpose"
            ));
        }
        match &self.record {
            Record::Table(table) => {
                let table = Arc::clone(table);
                tokio::task::spawn_blocking(move || table.record(&delivery))
                    .await
                    .map_err(|error| format!("the handled row was not written: {error}"))?
                    .map_err(|error| error.to_string())?;
            }
            Record::Log(log) => record_line(log, &id)
                .await
                .map_err(|error| format!("the success log could not be written: {error}"))?,
            Record::Nothing => {}
        }
        tracing::info!(event_type, event_id = id, attempt, "event handled");
        Ok(())
    }
}

/// The table `handled` in the inbox's file, and idle connections to it.
#[derive(Debug)]
struct HandledTable {
    store: SqliteStore,
    /// Reused, so that a handling does not open the file; at most one per
    /// handler that ran at the same time.
    idle: Mutex<Vec<Connection>>,
}

impl HandledTable {
    fn open(store: SqliteStore) -> Result<Self, TableError> {
        let conn = store.connection()?;
        conn.execute_batch(HANDLED_TABLE)?;
        Ok(Self {
            store,
            idle: Mutex::new(vec![conn]),
        })
    }

    /// Inserts the event's row and marks its entry done, in one IMMEDIATE
    /// transaction. Blocks.
    fn record(&self, delivery: &Delivery) -> Result<(), TableError> {
        // The list stays valid even if a holder panicked.
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => self.store.connection()?,
        };
        let recorded = self.record_on(&mut conn, delivery);
        // Whatever happened, the transaction ended (committed, or rolled
        // back when it was dropped): the connection is clean to reuse.
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
        recorded
    }

    fn record_on(&self, conn: &mut Connection, delivery: &Delivery) -> Result<(), TableError> {
        // IMMEDIATE: waits for the write lock (the inbox's writer holds it
        // during its commits) instead of failing when it upgrades.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO handled (event_id, handled_at) VALUES (?1, ?2)",
            params![delivery.id, unix_millis()],
        )?;
        // On an error, dropping `tx` rolls the row back; after LostClaim,
        // the attempt that took the entry over records it.
        self.store.complete_in(&tx, delivery)?;
        tx.commit()?;
        Ok(())
    }
}

/// Why a success was not recorded in the inbox's file; nothing of it was.
#[derive(Debug)]
enum TableError {
    /// The lease ended and another attempt took the event over.
    LeaseTakenOver,
    /// The file could not be opened, or the entry not marked done.
    Store(StoreError),
    /// SQLite refused the table, the row or the transaction.
    Sqlite(rusqlite::Error),
}

impl From<StoreError> for TableError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::LostClaim => Self::LeaseTakenOver,
            other => Self::Store(other),
        }
    }
}

impl From<rusqlite::Error> for TableError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(error)
    }
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LeaseTakenOver => f.write_str(
                "the lease ended and another attempt took the event: the handled row was rolled back",
            ),
            Self::Store(error) => match error.source() {
                Some(cause) => write!(f, "the handled row was not written: {error}: {cause}"),
                None => write!(f, "the handled row was not written: {error}"),
            },
            Self::Sqlite(error) => write!(f, "the handled row was not written: {error}"),
        }
    }
}

impl Error for TableError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::LeaseTakenOver => None,
            Self::Store(error) => Some(error),
            Self::Sqlite(error) => Some(error),
        }
    }
}

fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

/// Appends `id` and a newline in one write, then syncs the file, off the
/// async runtime.
async fn record_line(log: &Arc<File>, id: &str) -> io::Result<()> {
    let log = Arc::clone(log);
    let line = format!("{id}\n").into_bytes();
    tokio::task::spawn_blocking(move || {
        (&*log).write_all(&line)?;
        log.sync_data()
    })
    .await
    .map_err(io::Error::other)?
}
