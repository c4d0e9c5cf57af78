//! A 100 MiB chunked body against every framework: 413, and the process's
//! resident memory grows by less than 8 MiB while it streams.
//!
//! Memory is measured for the whole test process, so this file holds
//! nothing else and the runs take turns (`huge_body` serialises them).

use protocol_webhooks_soak::{Framework, huge_body, run_scenario};

fn run(framework: Framework) {
    run_scenario("the huge-body test runs", |settings| {
        huge_body(framework, settings.huge_body_bytes)
    });
}

protocol_webhooks_soak::test_every_framework!(run);
