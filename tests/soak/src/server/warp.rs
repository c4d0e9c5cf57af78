//! warp: `warp::serve` with the adapter's `webhook` filter and `recover`.

use protocol_webhooks_warp::{Webhook, recover, webhook};
use warp::Filter;

use super::{App, OK_BODY, Ready, bind_loopback, listening, tokio_runtime};
use crate::Framework;

pub(super) fn serve(app: App, ready: &Ready) -> Result<(), String> {
    let App { config, counts } = app;
    let routes = warp::path!("webhooks")
        .and(warp::post())
        .and(webhook(config))
        .map(move |Webhook(event): Webhook| {
            counts.record(&event.id);
            OK_BODY
        })
        .recover(recover);
    tokio_runtime(Framework::Warp)?.block_on(async move {
        let (listener, address) = bind_loopback().await?;
        let stopped = listening(ready, address)?;
        warp::serve(routes)
            .incoming(listener)
            .graceful(stopped)
            .run()
            .await;
        Ok(())
    })
}
