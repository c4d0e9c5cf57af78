//! Mixed load against every framework: 70 % valid, 10 % tampered, 10 %
//! unsigned, 5 % invalid JSON and 5 % 2 MiB bodies from 64 connections.
//!
//! `SOAK_REQUESTS` sets the number of requests (default 2,000).

use protocol_webhooks_soak::{Framework, mixed_load, run_scenario};

fn run(framework: Framework) {
    run_scenario("the mixed load runs", |settings| {
        mixed_load(framework, settings.requests, settings.deadline)
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
