//! What a receiver counts: body sizes and which key verified each body.

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use protocol_webhooks::metrics::{BODY_SIZE, VERIFICATIONS};
use protocol_webhooks::samples::SignedRequest;
use protocol_webhooks::{Key, RequestHead, WebhookConfig};

const BODY: &str = r#"{"id":"evt_1","type":"contact.created","payload":{"id":"c_1"}}"#;

/// Verifies one body signed with `secret`; the outcome does not matter
/// here, only what was recorded.
fn deliver(config: &WebhookConfig, secret: &str) {
    let request = SignedRequest::new(secret, BODY).expect("secret");
    let head = RequestHead::new(None::<&[u8]>, [request.signature()]);
    let mut body = config.collect_body(head).expect("no declared length");
    body.push(request.body()).expect("under the limit");
    let _ = body.finish();
}

#[test]
fn verifications_are_counted_by_key_and_body_sizes_recorded() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let current = Key::new("whsec_current").expect("key").labeled("2026-12");
    let previous = Key::new("whsec_previous").expect("key");
    let config = WebhookConfig::from_key(current).with_key(previous);

    metrics::with_local_recorder(&recorder, || {
        deliver(&config, "whsec_current");
        deliver(&config, "whsec_current");
        deliver(&config, "whsec_previous");
        deliver(&config, "whsec_unknown");
    });

    let mut by_key = Vec::new();
    let mut sizes = Vec::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        match (key.key().name(), value) {
            (VERIFICATIONS, DebugValue::Counter(count)) => {
                let label = key.key().labels().find(|label| label.key() == "key");
                by_key.push((label.map(|label| label.value().to_owned()), count));
            }
            (BODY_SIZE, DebugValue::Histogram(values)) => {
                sizes.extend(values.into_iter().map(f64::from));
            }
            _ => {}
        }
    }
    by_key.sort();
    // The unknown key's body was read but not verified.
    assert_eq!(
        by_key,
        [(Some("#1".to_owned()), 1), (Some("2026-12".to_owned()), 2)]
    );
    #[allow(clippy::cast_precision_loss)]
    let size = BODY.len() as f64;
    assert_eq!(sizes, [size; 4]);
}

#[test]
fn the_verified_body_and_event_name_the_key() {
    let current = Key::new("whsec_current").expect("key").labeled("2026-12");
    let previous = Key::new("whsec_previous").expect("key").labeled("2026-11");
    let config = WebhookConfig::from_key(current).with_key(previous);
    let request = SignedRequest::new("whsec_previous", BODY).expect("secret");
    let head = RequestHead::new(None::<&[u8]>, [request.signature()]);
    let mut body = config.collect_body(head).expect("no declared length");
    body.push(request.body()).expect("under the limit");
    let verified = body.finish().expect("authentic");
    assert_eq!(verified.verified_with().index(), 1);
    assert_eq!(verified.verified_with().label(), Some("2026-11"));
    let event = verified.into_event().expect("valid");
    assert_eq!(
        event.verified_with().map(ToString::to_string).as_deref(),
        Some("2026-11")
    );

    let whole = config
        .verify_event(request.body(), Some(request.signature().as_bytes()))
        .expect("authentic");
    assert_eq!(
        whole
            .verified_with()
            .map(protocol_webhooks::MatchedKey::index),
        Some(1)
    );
    let unverified = protocol_webhooks::events::Event::from_slice(BODY.as_bytes()).expect("valid");
    assert_eq!(unverified.verified_with(), None);
}
