//! Rocket runs a handler in a task of its own, so a client hanging up
//! while it runs does not drop the claim half-way: the handler finishes and
//! commits, and the redelivery is a duplicate (were the handler cancelled,
//! the claim would be released and the redelivery would run it again). The
//! suite accepts either; this pins Rocket's.

use std::sync::Arc;
use std::time::Duration;

use protocol_webhooks_conformance::{Harness, TcpHarness, TestRequest};
use protocol_webhooks_rocket::{ClaimedWebhook, WebhookFairing};
use rocket::State;
use rocket::tokio::io::AsyncWriteExt;
use rocket::tokio::net::TcpStream;
use rocket::tokio::sync::Notify;

use crate::support::{
    DUPLICATE, Runs, app, commit, config, deduplicator, sample, serve, server_config,
};

/// Told when the slow handler has started, so holds the claim.
struct Started(Arc<Notify>);

/// Outlasts a client that hangs up as soon as the handler starts.
#[rocket::post("/once/slow", data = "<claimed>")]
async fn slow(claimed: ClaimedWebhook, runs: &State<Runs>, started: &State<Started>) -> String {
    started.0.notify_one();
    rocket::tokio::time::sleep(Duration::from_millis(300)).await;
    runs.start();
    commit(claimed).await
}

#[rocket::async_test]
async fn a_client_that_hangs_up_does_not_stop_the_handler() {
    let started = Arc::new(Notify::new());
    let rocket = rocket::custom(server_config())
        .attach(WebhookFairing::new(config()).with_deduplicator(deduplicator()))
        .manage(Started(Arc::clone(&started)));
    let served = serve(app(rocket, rocket::routes![slow])).await;
    let address = served.address;

    let signed = sample();
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let head = format!(
        "POST /once/slow HTTP/1.1\r\nHost: {address}\r\n{}: {}\r\nContent-Length: {}\r\n\r\n",
        signed.header_name(),
        signed.signature(),
        signed.body().len(),
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(signed.body()).await.expect("write body");
    rocket::tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .expect("the handler starts");
    drop(stream);

    let redelivery = TestRequest {
        path: "/once/slow",
        headers: vec![(
            signed.header_name().to_owned(),
            signed.signature().as_bytes().to_vec(),
        )],
        body: signed.body().to_vec(),
        chunked: false,
    };
    let harness = TcpHarness::new(address);
    let mut answer = harness.send(redelivery.clone()).await;
    // 409 while the first delivery's handler still holds the claim.
    for _ in 0..50 {
        if answer.status != 409 {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
        answer = harness.send(redelivery.clone()).await;
    }
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(String::from_utf8_lossy(&answer.body), DUPLICATE);

    let rocket = served.stop().await;
    assert_eq!(rocket.state::<Runs>().map(Runs::count), Some(1));
}
