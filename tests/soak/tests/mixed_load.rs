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

protocol_webhooks_soak::test_every_framework!(run);
