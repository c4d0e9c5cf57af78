//! What the receiver counts, through the [`metrics`](https://docs.rs/metrics)
//! facade (feature `metrics`): whichever recorder the application installs,
//! e.g. a Prometheus exporter, receives these. Without a recorder they cost
//! a load and a branch each.
//!
//! | name | kind | labels | recorded |
//! |---|---|---|---|
//! | [`REQUESTS`] | counter | `outcome`: `accepted`, or the refusal's [`Answer::reason`] | once per request that reaches an extractor |
//! | [`BODY_SIZE`] | histogram, bytes | | once per body read to its end |
//! | [`VERIFICATIONS`] | counter | `key`: the key's label, or `#0`, `#1`... by position | once per authentic body |
//!
//! During a secret rotation, [`VERIFICATIONS`] shows when the previous
//! secret stops being used: label the keys ([`Key::labeled`](crate::Key::labeled))
//! and retire the old one once its count stops growing.

use alloc::string::ToString;

use crate::{Answer, MatchedKey};

/// Requests by outcome: `accepted` when the handler gets the webhook, the
/// [`Answer::reason`] otherwise (`signature_mismatch`, `duplicate`...).
pub const REQUESTS: &str = "protocol_webhooks_requests_total";
/// The size of each body read to its end, in bytes.
pub const BODY_SIZE: &str = "protocol_webhooks_body_bytes";
/// Authentic bodies, by the key that authenticated them.
pub const VERIFICATIONS: &str = "protocol_webhooks_verifications_total";
/// The `outcome` of a request whose webhook reached the handler.
pub const ACCEPTED: &str = "accepted";

pub(crate) fn body_read(len: usize) {
    // Precision beyond 2^53 bytes is not a concern for a body under a limit.
    #[allow(clippy::cast_precision_loss)]
    let len = len as f64;
    metrics::histogram!(BODY_SIZE).record(len);
}

pub(crate) fn verified(key: &MatchedKey) {
    // A label is shared, not copied; a position is formatted, as `Display`
    // shows it.
    let label = match key.shared_label() {
        Some(label) => metrics::SharedString::from(label.clone()),
        None => metrics::SharedString::from(key.to_string()),
    };
    metrics::counter!(VERIFICATIONS, "key" => label).increment(1);
}

/// Counts a request whose webhook reaches the handler.
pub(crate) fn accepted() {
    metrics::counter!(REQUESTS, "outcome" => ACCEPTED).increment(1);
}

/// Counts a request answered instead of the handler.
pub(crate) fn answered(answer: &Answer) {
    metrics::counter!(REQUESTS, "outcome" => answer.reason()).increment(1);
}
