//! Truncated bodies against every framework: `Content-Length: 1000`, 10
//! bytes, then the client closes. No handler call, no panic, and the server
//! keeps serving.

use protocol_webhooks_soak::{Framework, run_scenario, truncated_body};

fn run(framework: Framework) {
    run_scenario("the truncated-body test runs", |settings| {
        truncated_body(framework, settings.truncated_connections)
    });
}

protocol_webhooks_soak::test_every_framework!(run);
