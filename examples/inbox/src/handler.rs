//! The worker's handler: logs each event and records each success with
//! the entry's done, so that the record is exactly once on either store.
//! On SQLite the record is a row of the table `handled` in the inbox's own
//! file, written in the transaction that marks the entry done. On Redis it
//! is the event id pushed onto the list `{prefix}:handled`, in the script
//! that marks the entry done. Switches from the environment make it fail on
//! purpose, for trying retries out and for the kill/restart tests.

use std::error::Error;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

#[cfg(feature = "redis")]
use protocol_webhooks_inbox::RedisStore;
use protocol_webhooks_inbox::rusqlite::{self, Connection, TransactionBehavior, params};
use protocol_webhooks_inbox::{Delivery, SqliteStore, StoreError};
use tokio::task::JoinError;

use crate::options::HandlerOptions;

/// The handler's effect on SQLite. Not unique on `event_id`, on purpose: an
/// event handled twice would show as two rows.
const HANDLED_TABLE: &str = "CREATE TABLE IF NOT EXISTS handled (
    seq        INTEGER PRIMARY KEY,
    event_id   TEXT    NOT NULL,
    handled_at INTEGER NOT NULL
)";

/// The name, under the inbox's prefix, of the Redis list of handled ids.
/// A list rather than a set, on purpose: an event handled twice would show
/// as its id twice.
#[cfg(feature = "redis")]
const HANDLED_LIST: &str = "handled";

/// The inbox's store, which the handler records into: the record is
/// exactly once only when it is written with the entry's done, by the
/// store that keeps the entry.
#[derive(Debug)]
pub(crate) enum Store {
    /// The inbox's SQLite file.
    Sqlite(SqliteStore),
    /// The inbox's Redis.
    #[cfg(feature = "redis")]
    Redis(RedisStore),
}

/// What the worker calls for each stored event.
#[derive(Debug)]
pub(crate) struct Handler {
    fail_rate: f64,
    fail_id: Option<String>,
    record: Record,
}

/// Where a success is recorded, together with the entry's done.
#[derive(Debug)]
enum Record {
    /// SQLite: a row of `handled`, committed with the entry's done.
    Table(Arc<HandledTable>),
    /// Redis: `RPUSH {prefix}:handled <id>`, in the entry's done script.
    #[cfg(feature = "redis")]
    List(HandledList),
}

impl Handler {
    /// The handler, recording into `store`: on SQLite the table `handled`
    /// of the inbox's file (created if needed), on Redis the list
    /// `{prefix}:handled`.
    ///
    /// # Errors
    /// When the table cannot be created.
    pub(crate) fn new(options: &HandlerOptions, store: Store) -> Result<Self, RecordError> {
        let record = match store {
            Store::Sqlite(store) => Record::Table(Arc::new(HandledTable::open(store)?)),
            #[cfg(feature = "redis")]
            Store::Redis(store) => Record::List(HandledList::new(store)),
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
    /// The record and the entry's done are written together: a process
    /// killed before they are has neither, and the event is handled again
    /// after its lease; killed after, the event is done and never handled
    /// again. An attempt whose lease another attempt took over records
    /// nothing. Exactly once, on SQLite (one transaction) and on Redis (one
    /// script).
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
        self.record(delivery)
            .await
            .map_err(|error| error.to_string())?;
        tracing::info!(event_type, event_id = id, attempt, "event handled");
        Ok(())
    }

    async fn record(&self, delivery: Delivery) -> Result<(), RecordError> {
        match &self.record {
            Record::Table(table) => {
                let table = Arc::clone(table);
                tokio::task::spawn_blocking(move || table.record(&delivery)).await?
            }
            #[cfg(feature = "redis")]
            Record::List(list) => list.record(&delivery).await,
        }
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
    fn open(store: SqliteStore) -> Result<Self, RecordError> {
        let conn = store.connection()?;
        conn.execute_batch(HANDLED_TABLE)?;
        Ok(Self {
            store,
            idle: Mutex::new(vec![conn]),
        })
    }

    /// Inserts the event's row and marks its entry done, in one IMMEDIATE
    /// transaction. Blocks.
    fn record(&self, delivery: &Delivery) -> Result<(), RecordError> {
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

    fn record_on(&self, conn: &mut Connection, delivery: &Delivery) -> Result<(), RecordError> {
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

/// The list `{prefix}:handled` in the inbox's Redis.
#[cfg(feature = "redis")]
#[derive(Debug)]
struct HandledList {
    store: RedisStore,
    key: String,
}

#[cfg(feature = "redis")]
impl HandledList {
    fn new(store: RedisStore) -> Self {
        // Under the inbox's prefix: in a Redis Cluster, the script can only
        // write keys in the inbox's slot.
        let key = store.key(HANDLED_LIST);
        Self { store, key }
    }

    /// Pushes the event's id and marks its entry done, in one script that
    /// runs only while this attempt holds the lease. The push must be a
    /// write that cannot fail (the key is only ever this list): Redis has
    /// no rollback, so an effect that failed would leave the ones before it
    /// applied and the entry not done.
    async fn record(&self, delivery: &Delivery) -> Result<(), RecordError> {
        let mut push = protocol_webhooks_inbox::redis::cmd("RPUSH");
        push.arg(&self.key).arg(&delivery.id);
        self.store.complete_with(delivery, &[push]).await?;
        Ok(())
    }
}

/// Why a success was not recorded; nothing of it was, and the entry is not
/// done by this attempt.
#[derive(Debug)]
pub(crate) enum RecordError {
    /// The lease ended and another attempt took the event over.
    LeaseTakenOver,
    /// The store could not be reached or opened, or the entry not marked
    /// done.
    Store(StoreError),
    /// SQLite refused the table, the row or the transaction.
    Sqlite(rusqlite::Error),
    /// The blocking SQLite task panicked or was cancelled.
    Task(JoinError),
}

impl From<StoreError> for RecordError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::LostClaim => Self::LeaseTakenOver,
            other => Self::Store(other),
        }
    }
}

impl From<rusqlite::Error> for RecordError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(error)
    }
}

impl From<JoinError> for RecordError {
    fn from(error: JoinError) -> Self {
        Self::Task(error)
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LeaseTakenOver => f.write_str(
                "the lease ended and another attempt took the event over: this attempt recorded nothing",
            ),
            // The worker keeps only this text as the entry's last error:
            // the cause goes into it too.
            Self::Store(error) => match error.source() {
                Some(cause) => write!(f, "the success was not recorded: {error}: {cause}"),
                None => write!(f, "the success was not recorded: {error}"),
            },
            Self::Sqlite(error) => write!(f, "the success was not recorded: {error}"),
            Self::Task(error) => write!(f, "the success was not recorded: {error}"),
        }
    }
}

impl Error for RecordError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::LeaseTakenOver => None,
            Self::Store(error) => Some(error),
            Self::Sqlite(error) => Some(error),
            Self::Task(error) => Some(error),
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
