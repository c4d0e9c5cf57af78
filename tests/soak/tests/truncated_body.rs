//! Truncated bodies against every framework: `Content-Length: 1000`, 10
//! bytes, then the client closes. No handler call, no panic, and the server
//! keeps serving.

use protocol_webhooks_soak::{Framework, Settings, truncated_body};

fn run(framework: Framework) {
    let settings = Settings::from_env().expect("soak settings");
    let report = truncated_body(framework, settings.truncated_connections)
        .expect("the truncated-body test runs");
    eprintln!("{report}");
    if let Err(problems) = report.check() {
        panic!("{problems}");
    }
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
