//! Runs one framework's baseline or adapter app for a fixed number of
//! requests, each through [`measured`], so that a tool that counts
//! instructions can compare the two without the noise of wall-clock time:
//!
//! ```sh
//! cargo build --release --example adapter_calls --manifest-path benches/Cargo.toml
//! valgrind --tool=callgrind --toggle-collect='adapter_calls::measured*' \
//!     target/release/examples/adapter_calls warp ours 2000
//! ```
//!
//! valgrind's `Collected` total divided by the request count is the cost of
//! one request through the pipeline; building the requests and dropping the
//! responses happen outside `measured`, as in the `adapters` benchmark.
//! Without an instruction counter, it is also a steady load to sample with
//! `perf record`.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use protocol_webhooks_benches::apps::{
    Handler, Signed, actix_apps, axum_apps, current_thread, poem_apps, rocket_apps, warp_apps,
};

const USAGE: &str =
    "usage: adapter_calls <axum|actix-web|warp|rocket|poem> <baseline|ours> <requests>";

/// Requests run before counting starts, so one-time set-up (lazy statics,
/// first allocations) is not counted.
const WARM_UP: usize = 100;

/// One request through the pipeline: the only code a `--toggle-collect`
/// on this function counts. Not inlined, so that it exists to be named.
#[inline(never)]
fn measured<T>(run: impl FnOnce() -> T) -> T {
    run()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [framework, handler, count] => {
            let handler = match handler.as_str() {
                "baseline" => Some(Handler::Baseline),
                "ours" => Some(Handler::Ours),
                _ => None,
            };
            handler
                .zip(count.parse::<usize>().ok())
                .map(|(handler, count)| (framework.as_str(), handler, count))
        }
        _ => None,
    };
    let Some((framework, handler, count)) = parsed else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let signed = Signed::new();
    let ok = match framework {
        "axum" => axum(&signed, handler, count),
        "actix-web" => actix(&signed, handler, count),
        "warp" => warp(&signed, handler, count),
        "rocket" => rocket(&signed, handler, count),
        "poem" => poem(&signed, handler, count),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if ok {
        eprintln!("{framework} {handler:?}: {count} requests answered 200");
        ExitCode::SUCCESS
    } else {
        eprintln!("{framework} {handler:?}: a request was not answered 200");
        ExitCode::FAILURE
    }
}

fn axum(signed: &Signed, handler: Handler, count: usize) -> bool {
    use tower::ServiceExt as _;

    let runtime = current_thread();
    let app = axum_apps::app(signed.config.clone(), handler);
    let mut ok = true;
    for round in 0..WARM_UP + count {
        let request = axum_apps::request(signed);
        let response = if round < WARM_UP {
            runtime.block_on(app.clone().oneshot(request))
        } else {
            measured(|| runtime.block_on(app.clone().oneshot(request)))
        };
        ok &= response.is_ok_and(|response| response.status() == 200);
    }
    ok
}

fn actix(signed: &Signed, handler: Handler, count: usize) -> bool {
    use actix_web::test::call_service;

    let system = actix_rt::System::new();
    let app = system.block_on(actix_apps::service(signed.config.clone(), handler));
    let mut ok = true;
    for round in 0..WARM_UP + count {
        let request = actix_apps::request(signed);
        let response = if round < WARM_UP {
            system.block_on(call_service(&app, request))
        } else {
            measured(|| system.block_on(call_service(&app, request)))
        };
        ok &= response.status() == 200;
    }
    ok
}

fn warp(signed: &Signed, handler: Handler, count: usize) -> bool {
    let runtime = current_thread();
    let baseline = warp_apps::baseline(signed.config.clone());
    let ours = warp_apps::ours(signed.config.clone());
    let mut ok = true;
    for round in 0..WARM_UP + count {
        let request = warp_apps::request(signed);
        let call = || match handler {
            Handler::Baseline => runtime.block_on(request.reply(&baseline)),
            Handler::Ours => runtime.block_on(request.reply(&ours)),
        };
        let response = if round < WARM_UP {
            call()
        } else {
            measured(call)
        };
        ok &= response.status() == 200;
    }
    ok
}

fn rocket(signed: &Signed, handler: Handler, count: usize) -> bool {
    let runtime = current_thread();
    let client = runtime.block_on(rocket_apps::client(signed.config.clone(), handler));
    let mut ok = true;
    for round in 0..WARM_UP + count {
        let request = rocket_apps::request(&client, signed);
        let response = if round < WARM_UP {
            runtime.block_on(request.dispatch())
        } else {
            measured(|| runtime.block_on(request.dispatch()))
        };
        ok &= response.status().code == 200;
    }
    ok
}

fn poem(signed: &Signed, handler: Handler, count: usize) -> bool {
    use poem::Endpoint as _;

    let runtime = current_thread();
    let app = poem_apps::app(signed.config.clone(), handler);
    let mut ok = true;
    for round in 0..WARM_UP + count {
        let request = poem_apps::request(signed);
        let response = if round < WARM_UP {
            runtime.block_on(app.call(request))
        } else {
            measured(|| runtime.block_on(app.call(request)))
        };
        ok &= response.is_ok_and(|response| response.status() == 200);
    }
    ok
}
