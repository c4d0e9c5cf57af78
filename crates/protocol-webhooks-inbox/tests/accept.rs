//! `Inbox::accept` and the answers the core decides for its outcomes.

use std::sync::Arc;

use protocol_webhooks::dedup::{ClaimToken, StoreError, StoreFuture};
use protocol_webhooks::events::EventType;
use protocol_webhooks::samples::SignedRequest;
use protocol_webhooks::{Answer, WebhookConfig};
use protocol_webhooks_inbox::{
    AcceptError, Accepted, AfterFailure, Entry, EntrySummary, Inbox, InboxStore, MemoryStore,
    NewEntry, SqliteStore, State, Stats, Taken,
};

#[tokio::test]
async fn a_new_event_is_202_and_a_redelivery_200_with_the_exact_body_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let inbox = Inbox::open_sqlite(dir.path().join("inbox.sqlite3")).expect("open");
    let config = WebhookConfig::new("whsec_test").expect("config");
    let request = SignedRequest::sample("whsec_test", &EventType::MessageCreated).expect("sample");
    let head = protocol_webhooks::RequestHead::new(
        [request.body().len().to_string()],
        [request.signature().as_bytes()],
    );
    let mut collector = config.collect_body(head).expect("collector");
    collector.push(request.body()).expect("push");
    let verified = collector.finish().expect("verified");
    let event = verified.parse().expect("event");

    let accepted = inbox.accept(&verified).await.expect("accept");
    assert_eq!(
        accepted,
        Accepted::Stored {
            event_id: event.id.clone()
        }
    );
    let answer = accepted.answer();
    assert_eq!(answer.status(), 202);
    assert_eq!(answer.reason(), "stored");
    assert_eq!(
        answer.body(),
        format!(
            r#"{{"type":"stored","message":"event {} stored for processing"}}"#,
            event.id
        )
    );

    let again = inbox.accept(&verified).await.expect("accept again");
    assert_eq!(
        again,
        Accepted::AlreadyStored {
            event_id: event.id.clone()
        }
    );
    let answer = Answer::from(again);
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.reason(), "already_stored");
    let message = format!("event {} already received", event.id);
    let body: serde_json::Value = serde_json::from_str(&answer.body()).expect("json");
    assert_eq!(
        (&body["type"], &body["message"]),
        (&"duplicate".into(), &message.into())
    );

    let entry = inbox
        .store()
        .show(&event.id)
        .await
        .expect("show")
        .expect("entry");
    assert_eq!(entry.body, request.body(), "the verified bytes, unchanged");
    assert_eq!(entry.summary.event_type, "message.created");
    assert_eq!(inbox.store().stats().await.expect("stats").pending, 1);
}

#[tokio::test]
async fn a_body_that_is_not_an_event_is_400_and_nothing_is_stored() {
    let inbox = Inbox::new(MemoryStore::new());
    let error = inbox
        .accept_bytes(b"{\"id\":1}")
        .await
        .expect_err("invalid");
    assert!(matches!(error, AcceptError::InvalidEvent(_)));
    let answer = error.answer();
    assert_eq!(answer.status(), 400);
    assert_eq!(answer.reason(), "invalid_event");
    assert_eq!(inbox.store().stats().await.expect("stats").total(), 0);
}

#[tokio::test]
async fn a_store_that_cannot_keep_the_event_is_503_with_retry_after() {
    let inbox = Inbox::from_shared(Arc::new(Unreachable));
    let body = br#"{"id":"evt_1","type":"conversation.updated","payload":{"id":"c"}}"#;
    let error = inbox.accept_bytes(body).await.expect_err("unreachable");
    assert!(matches!(&error, AcceptError::Store { event_id, .. } if event_id == "evt_1"));
    let answer = Answer::from(error);
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.retry_after(), Some(5));
    assert_eq!(answer.event_id(), Some("evt_1"));
    assert!(
        !answer.body().contains("secret-host"),
        "no backend detail in the answer"
    );
}

/// A store whose every operation fails, as one that cannot be reached.
struct Unreachable;

fn down<T: Send + 'static>() -> StoreFuture<'static, T> {
    Box::pin(std::future::ready(Err(StoreError::unavailable(
        std::io::Error::other("secret-host refused"),
    ))))
}

impl InboxStore for Unreachable {
    fn accept(&self, _: NewEntry) -> StoreFuture<'_, Accepted> {
        down()
    }
    fn take(&self, _: std::time::Duration, _: usize, _: u32) -> StoreFuture<'_, Vec<Taken>> {
        down()
    }
    fn complete<'a>(&'a self, _: &'a str, _: &'a ClaimToken) -> StoreFuture<'a, ()> {
        down()
    }
    fn fail<'a>(
        &'a self,
        _: &'a str,
        _: &'a ClaimToken,
        _: &'a str,
        _: AfterFailure,
    ) -> StoreFuture<'a, ()> {
        down()
    }
    fn release<'a>(
        &'a self,
        _: &'a str,
        _: &'a ClaimToken,
        _: std::time::Duration,
    ) -> StoreFuture<'a, ()> {
        down()
    }
    fn stats(&self) -> StoreFuture<'_, Stats> {
        down()
    }
    fn list(&self, _: Option<State>, _: usize) -> StoreFuture<'_, Vec<EntrySummary>> {
        down()
    }
    fn show<'a>(&'a self, _: &'a str) -> StoreFuture<'a, Option<Entry>> {
        down()
    }
    fn retry<'a>(&'a self, _: &'a str) -> StoreFuture<'a, bool> {
        down()
    }
    fn retry_all_dead(&self) -> StoreFuture<'_, u64> {
        down()
    }
    fn purge_dead(&self, _: std::time::Duration) -> StoreFuture<'_, u64> {
        down()
    }
    fn purge_done(&self, _: std::time::Duration) -> StoreFuture<'_, u64> {
        down()
    }
}

#[test]
fn a_store_file_that_cannot_be_opened_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A directory is not a database file.
    let error = Inbox::open_sqlite(dir.path()).expect_err("a directory");
    assert!(matches!(error, StoreError::Unavailable(_)));
    let garbage = dir.path().join("garbage.sqlite3");
    std::fs::write(&garbage, b"this is not a SQLite database, not at all......").expect("write");
    assert!(Inbox::open_sqlite(&garbage).is_err());
}

/// An accept whose caller has gone before the writer reached it stores
/// nothing, so a refused event never looks stored. Another connection
/// holds the file's write lock meanwhile, so the accepts wait in the
/// writer's queue.
#[tokio::test]
async fn an_accept_whose_caller_has_gone_before_its_transaction_is_not_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("inbox.sqlite3")).expect("open");
    let accept = |id: &str| {
        let store = store.clone();
        let entry = NewEntry {
            id: id.to_owned(),
            event_type: String::from("conversation.updated"),
            body: format!(r#"{{"id":"{id}","type":"conversation.updated","payload":{{}}}}"#)
                .into_bytes(),
        };
        tokio::spawn(async move { store.accept(entry).await })
    };
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(100));

    let holder = store.connection().expect("connection");
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("the write lock");
    let first = accept("evt_first");
    // The writer now waits for the lock with the first accept.
    pause().await;
    let gone = accept("evt_gone");
    pause().await;
    gone.abort();
    assert!(gone.await.expect_err("aborted").is_cancelled());
    let waiting = accept("evt_waiting");
    pause().await;
    holder.execute_batch("COMMIT").expect("the lock released");

    for (id, task) in [("evt_first", first), ("evt_waiting", waiting)] {
        let outcome = task.await.expect("joined").expect("accepted");
        assert_eq!(
            outcome,
            Accepted::Stored {
                event_id: id.to_owned()
            }
        );
    }
    assert!(store.show("evt_gone").await.expect("show").is_none());
    let redelivered = accept("evt_gone").await.expect("joined").expect("accepted");
    assert_eq!(
        redelivered,
        Accepted::Stored {
            event_id: String::from("evt_gone")
        }
    );
}
