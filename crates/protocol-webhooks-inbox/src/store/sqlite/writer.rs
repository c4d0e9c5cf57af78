//! The one thread that talks to the SQLite file, and group commit.
//!
//! SQLite calls block, so they stay off the async runtime: every operation
//! is a job sent to this thread. Jobs that queue up while a commit is
//! being fsynced run together in the next transaction, so concurrent
//! `accept`s share one fsync; each caller is answered only after the commit
//! that holds its write returned.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use protocol_webhooks::dedup::StoreError;
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::error::GroupFailed;
use super::ops::OpError;
use crate::Clock;
use crate::clock::to_millis;

/// One operation waiting for the writer thread.
pub(super) trait Job: Send {
    /// Runs the operation inside the open transaction; the answer waits
    /// for the commit.
    fn run(self: Box<Self>, conn: &Connection, now: i64) -> Box<dyn Reply>;

    /// Answers without running: the transaction could not start.
    fn abandon(self: Box<Self>, error: GroupFailed);

    /// Whether to leave the job out: it is only wanted while its caller
    /// waits, and the caller has gone.
    fn unwanted(&self) -> bool;
}

/// What becomes of a job whose caller stops waiting before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IfCallerGone {
    /// It runs anyway: a worker's step that was started completes.
    Run,
    /// It is left out: an accept nobody will answer 2xx stores nothing.
    Skip,
}

/// An operation's result, held until its transaction ends.
pub(super) trait Reply: Send {
    /// Sends the result if the transaction committed, its error otherwise.
    fn finish(self: Box<Self>, committed: Result<(), GroupFailed>);
}

/// A job from a closure, answered through a oneshot channel.
pub(super) struct Op<T, F> {
    pub(super) op: F,
    pub(super) reply: oneshot::Sender<Result<T, StoreError>>,
    pub(super) if_caller_gone: IfCallerGone,
}

struct Pending<T> {
    result: Result<T, OpError>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Op<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection, i64) -> Result<T, OpError> + Send,
{
    fn run(self: Box<Self>, conn: &Connection, now: i64) -> Box<dyn Reply> {
        let this = *self;
        Box::new(Pending {
            result: (this.op)(conn, now),
            reply: this.reply,
        })
    }

    fn abandon(self: Box<Self>, error: GroupFailed) {
        // A caller that went away does not need the answer.
        let _ = self.reply.send(Err(StoreError::unavailable(error)));
    }

    fn unwanted(&self) -> bool {
        self.if_caller_gone == IfCallerGone::Skip && self.reply.is_closed()
    }
}

impl<T: Send> Reply for Pending<T> {
    fn finish(self: Box<Self>, committed: Result<(), GroupFailed>) {
        let this = *self;
        let answer = match committed {
            Err(error) => Err(StoreError::unavailable(error)),
            Ok(()) => this.result.map_err(StoreError::from),
        };
        let _ = this.reply.send(answer);
    }
}

/// Starts the writer thread on `conn`; it ends once every sender is gone
/// and the queue is empty.
pub(super) fn spawn(
    conn: Connection,
    clock: Arc<dyn Clock>,
    max_group: usize,
) -> std::io::Result<Sender<Box<dyn Job>>> {
    let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
    thread::Builder::new()
        .name(String::from("inbox-sqlite"))
        .spawn(move || serve(&conn, &queue, &*clock, max_group.max(1)))?;
    Ok(jobs)
}

fn serve(conn: &Connection, queue: &Receiver<Box<dyn Job>>, clock: &dyn Clock, max_group: usize) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < max_group {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(conn, group, clock);
    }
}

/// Runs `group` in one transaction and answers every job after its commit.
fn commit_group(conn: &Connection, group: Vec<Box<dyn Job>>, clock: &dyn Clock) {
    let mut jobs = group.into_iter();
    loop {
        if let Err(error) = conn.execute_batch("BEGIN IMMEDIATE") {
            let failed = GroupFailed(Arc::new(error));
            jobs.for_each(|job| job.abandon(failed.clone()));
            return;
        }
        let now = to_millis(clock.now());
        let mut replies = Vec::new();
        let mut rolled_back = false;
        for job in jobs.by_ref() {
            // Checked as late as can be: the BEGIN may have waited for
            // another process's lock.
            if job.unwanted() {
                continue;
            }
            replies.push(job.run(conn, now));
            // Some errors (disk full, I/O) roll the whole transaction back:
            // the writes before it in the group are gone too.
            if conn.is_autocommit() {
                rolled_back = true;
                break;
            }
        }
        if rolled_back {
            let failed = GroupFailed(Arc::new(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                Some(String::from("the transaction was rolled back")),
            )));
            replies
                .into_iter()
                .for_each(|reply| reply.finish(Err(failed.clone())));
            // The jobs after the failing one get a transaction of their own.
            continue;
        }
        let committed = conn
            .execute_batch("COMMIT")
            .map_err(|error| GroupFailed(Arc::new(error)));
        if committed.is_err() {
            // The transaction may still be open after a failed COMMIT; a
            // ROLLBACK that fails means it is closed already.
            let _ = conn.execute_batch("ROLLBACK");
        }
        replies
            .into_iter()
            .for_each(|reply| reply.finish(committed.clone()));
        return;
    }
}
