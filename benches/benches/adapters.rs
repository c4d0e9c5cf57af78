//! What each framework adapter costs on top of calling the core by hand.
//!
//! For every framework, two apps that differ only in their handler run the
//! same signed request through the framework's own in-process pipeline
//! (routing, extraction, the handler, the response):
//!
//! - `baseline_bytes`: a hand-written handler that takes the framework's
//!   plain bytes extractor and the signature header, calls
//!   `WebhookConfig::verify_event` and answers 200;
//! - `ours_webhook`: the adapter's `Webhook` extractor, answering 200.
//!
//! Both verify and parse the same bytes, so their difference is the glue:
//! how the adapter reads the body (chunk by chunk into the core's collector,
//! which copies it) against how the framework collects it. The apps are in
//! `protocol_webhooks_benches::apps`.
//!
//! Requests are built in criterion's untimed setup and responses dropped
//! after timing, so only the pipeline is measured. Each runtime is built
//! once: a current-thread tokio runtime for axum, warp, rocket and poem, an
//! actix `System` for actix-web.

#![forbid(unsafe_code)]

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use protocol_webhooks_benches::apps::{
    Handler, Signed, actix_apps, axum_apps, current_thread, poem_apps, rocket_apps, warp_apps,
};

type Group<'a> = BenchmarkGroup<'a, WallTime>;

fn bench_axum(group: &mut Group<'_>, signed: &Signed) {
    use tower::ServiceExt as _;

    let runtime = current_thread();
    for handler in Handler::ALL {
        let app = axum_apps::app(signed.config.clone(), handler);
        // A rejection would be cheaper and prove nothing: check once that
        // the measured request succeeds.
        let response = runtime
            .block_on(app.clone().oneshot(axum_apps::request(signed)))
            .expect("infallible");
        assert_eq!(response.status(), 200, "axum {handler:?}");
        group.bench_function(BenchmarkId::new(handler.name(), "axum"), |b| {
            b.to_async(&runtime).iter_batched(
                || axum_apps::request(signed),
                |request| app.clone().oneshot(request),
                BatchSize::SmallInput,
            );
        });
    }
}

fn bench_actix(group: &mut Group<'_>, signed: &Signed) {
    use actix_web::test::call_service;

    // actix-web's services are not `Send`: they run on the thread of the
    // `System` that built them, one `block_on` per request.
    let system = actix_rt::System::new();
    for handler in Handler::ALL {
        let app = system.block_on(actix_apps::service(signed.config.clone(), handler));
        let response = system.block_on(call_service(&app, actix_apps::request(signed)));
        assert_eq!(response.status(), 200, "actix-web {handler:?}");
        group.bench_function(BenchmarkId::new(handler.name(), "actix-web"), |b| {
            b.iter_batched(
                || actix_apps::request(signed),
                |request| system.block_on(call_service(&app, request)),
                BatchSize::SmallInput,
            );
        });
    }
}

fn bench_warp(group: &mut Group<'_>, signed: &Signed) {
    let runtime = current_thread();
    let baseline = warp_apps::baseline(signed.config.clone());
    let ours = warp_apps::ours(signed.config.clone());

    // The two filters have different types, hence no loop.
    let response = runtime.block_on(warp_apps::request(signed).reply(&baseline));
    assert_eq!(response.status(), 200, "warp baseline");
    group.bench_function(BenchmarkId::new(Handler::Baseline.name(), "warp"), |b| {
        b.to_async(&runtime).iter_batched(
            || warp_apps::request(signed),
            |request| request.reply(&baseline),
            BatchSize::SmallInput,
        );
    });

    let response = runtime.block_on(warp_apps::request(signed).reply(&ours));
    assert_eq!(response.status(), 200, "warp ours");
    group.bench_function(BenchmarkId::new(Handler::Ours.name(), "warp"), |b| {
        b.to_async(&runtime).iter_batched(
            || warp_apps::request(signed),
            |request| request.reply(&ours),
            BatchSize::SmallInput,
        );
    });
}

fn bench_rocket(group: &mut Group<'_>, signed: &Signed) {
    let runtime = current_thread();
    for handler in Handler::ALL {
        let client = runtime.block_on(rocket_apps::client(signed.config.clone(), handler));
        let status = runtime.block_on(async {
            rocket_apps::request(&client, signed)
                .dispatch()
                .await
                .status()
        });
        assert_eq!(status.code, 200, "rocket {handler:?}");
        group.bench_function(BenchmarkId::new(handler.name(), "rocket"), |b| {
            b.to_async(&runtime).iter_batched(
                || rocket_apps::request(&client, signed),
                rocket::local::asynchronous::LocalRequest::dispatch,
                BatchSize::SmallInput,
            );
        });
    }
}

fn bench_poem(group: &mut Group<'_>, signed: &Signed) {
    use poem::Endpoint as _;

    let runtime = current_thread();
    for handler in Handler::ALL {
        let app = poem_apps::app(signed.config.clone(), handler);
        let response = runtime
            .block_on(app.call(poem_apps::request(signed)))
            .expect("a response");
        assert_eq!(response.status(), 200, "poem {handler:?}");
        group.bench_function(BenchmarkId::new(handler.name(), "poem"), |b| {
            b.to_async(&runtime).iter_batched(
                || poem_apps::request(signed),
                |request| app.call(request),
                BatchSize::SmallInput,
            );
        });
    }
}

fn adapters(c: &mut Criterion) {
    let signed = Signed::new();
    let mut group = c.benchmark_group("adapters");
    group.throughput(Throughput::Bytes(signed.body.len() as u64));
    bench_axum(&mut group, &signed);
    bench_actix(&mut group, &signed);
    bench_warp(&mut group, &signed);
    bench_rocket(&mut group, &signed);
    bench_poem(&mut group, &signed);
    group.finish();
}

protocol_webhooks_benches::bench_main!(adapters);
