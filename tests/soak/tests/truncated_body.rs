//! Truncated bodies against every framework: `Content-Length: 1000`, 10
//! bytes, then the client closes. No handler call, no panic, and the server
//! keeps serving.

use protocol_webhooks_soak::{Framework, run_scenario, truncated_body};

fn run(framework: Framework) {
    run_scenario("the truncated-body test runs", |settings| {
        truncated_body(framework, settings.truncated_connections)
    });
}

#[test]
fn axum() {
    run(Framework::Axum);
}

#[test]
fn actix_web() {
    run(Framework::ActixWeb);
}

#[test]
fn warp() {
    run(Framework::Warp);
}

#[test]
fn rocket() {
    run(Framework::Rocket);
}

#[test]
fn poem() {
    run(Framework::Poem);
}
