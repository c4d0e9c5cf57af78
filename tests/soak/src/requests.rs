//! The requests of the mixed load: which kind each one is, its body and its
//! signature.

use core::fmt;

use protocol_webhooks::events::EventType;
use protocol_webhooks::samples::sample_body;
use protocol_webhooks::{DEFAULT_BODY_LIMIT, Key};

/// What a request of the mixed load is, and so what it must be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A signed event with a unique id: 200, counted once. 70 %.
    Valid,
    /// A signed event with one byte changed after signing: 401. 10 %.
    Tampered,
    /// An event without `x-protocol-signature`: 401. 10 %.
    Unsigned,
    /// A signed body that is not JSON: 400. 5 %.
    InvalidJson,
    /// A signed 2 MiB event sent with its `Content-Length`: 413. 5 %.
    Oversize,
}

/// The kinds of twenty consecutive requests: 14 valid, 2 tampered,
/// 2 unsigned, 1 invalid, 1 oversized, interleaved so every connection
/// sees every kind.
const PATTERN: [Kind; 20] = {
    use Kind::{InvalidJson as J, Oversize as O, Tampered as T, Unsigned as U, Valid as V};
    [V, V, T, V, U, V, V, J, V, V, T, V, O, V, U, V, V, V, V, V]
};

/// The size of the oversized body: twice the default limit.
pub(crate) const OVERSIZE_BYTES: usize = 2 * DEFAULT_BODY_LIMIT;

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Self; 5] = [
        Self::Valid,
        Self::Tampered,
        Self::Unsigned,
        Self::InvalidJson,
        Self::Oversize,
    ];

    /// The kind of the request at `index`.
    #[must_use]
    pub fn of(index: usize) -> Self {
        PATTERN[index % PATTERN.len()]
    }

    /// The status every adapter must answer.
    #[must_use]
    pub const fn expected_status(self) -> u16 {
        match self {
            Self::Valid => 200,
            Self::Tampered | Self::Unsigned => 401,
            Self::InvalidJson => 400,
            Self::Oversize => 413,
        }
    }

    /// A short name for reports.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Tampered => "tampered",
            Self::Unsigned => "unsigned",
            Self::InvalidJson => "invalid JSON",
            Self::Oversize => "over limit",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One request to send.
pub(crate) struct Planned<'a> {
    pub(crate) kind: Kind,
    /// The event id a handler would count, for a valid request.
    pub(crate) id: String,
    pub(crate) body: Body<'a>,
    pub(crate) signature: Option<String>,
}

/// A request body: built per request, or the one shared oversized body.
pub(crate) enum Body<'a> {
    Owned(Vec<u8>),
    Shared(&'a [u8]),
}

impl Body<'_> {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Self::Owned(bytes) => bytes,
            Self::Shared(bytes) => bytes,
        }
    }
}

/// Builds the requests of a mixed load.
pub(crate) struct Plan {
    key: Key,
    /// Every oversized request sends the same body: building and signing
    /// 2 MiB per request would only load the client.
    oversize: Vec<u8>,
    oversize_signature: String,
}

impl Plan {
    pub(crate) fn new(secret: &str) -> Result<Self, String> {
        let key = Key::new(secret).map_err(|error| error.to_string())?;
        let mut oversize =
            br#"{"id":"evt_oversize","type":"contact.created","payload":{"id":"WAz8eIbvDR60rouK"}}"#
                .to_vec();
        oversize.resize(OVERSIZE_BYTES, b' ');
        let oversize_signature = hex(&key, &oversize);
        Ok(Self {
            key,
            oversize,
            oversize_signature,
        })
    }

    /// The id a valid request at `index` carries.
    pub(crate) fn valid_id(index: usize) -> String {
        format!("evt_valid_{index:06}")
    }

    pub(crate) fn request(&self, index: usize) -> Planned<'_> {
        let kind = Kind::of(index);
        let event_type = &EventType::KNOWN[index % EventType::KNOWN.len()];
        match kind {
            Kind::Valid => {
                let id = Self::valid_id(index);
                let body = sample_body(event_type, &id);
                let signature = hex(&self.key, &body);
                owned(kind, id, body, Some(signature))
            }
            Kind::Tampered => {
                let id = format!("evt_tampered_{index:06}");
                let mut body = sample_body(event_type, &id);
                let signature = hex(&self.key, &body);
                // One byte of the id changes after signing, so a receiver
                // that let it through would count an id never sent signed.
                if let Some(at) = body.windows(4).position(|window| window == b"evt_") {
                    body[at] = b'E';
                }
                owned(kind, id, body, Some(signature))
            }
            Kind::Unsigned => {
                let id = format!("evt_unsigned_{index:06}");
                let body = sample_body(event_type, &id);
                owned(kind, id, body, None)
            }
            Kind::InvalidJson => {
                let id = format!("evt_invalid_{index:06}");
                let body = format!(r#"{{"id":"{id}","type":"{event_type}","payload":{{"id":"x""#)
                    .into_bytes();
                let signature = hex(&self.key, &body);
                owned(kind, id, body, Some(signature))
            }
            Kind::Oversize => Planned {
                kind,
                id: String::from("evt_oversize"),
                body: Body::Shared(&self.oversize),
                signature: Some(self.oversize_signature.clone()),
            },
        }
    }
}

fn owned(kind: Kind, id: String, body: Vec<u8>, signature: Option<String>) -> Planned<'static> {
    Planned {
        kind,
        id,
        body: Body::Owned(body),
        signature,
    }
}

fn hex(key: &Key, body: &[u8]) -> String {
    key.sign(body).to_hex().as_str().to_owned()
}

#[cfg(test)]
mod tests {
    use protocol_webhooks::WebhookConfig;

    use super::*;
    use crate::SECRET;

    #[test]
    fn the_mix_is_70_10_10_5_5() {
        let mut counts = std::collections::BTreeMap::new();
        for index in 0..2_000 {
            *counts.entry(Kind::of(index)).or_insert(0) += 1;
        }
        assert_eq!(counts[&Kind::Valid], 1_400);
        assert_eq!(counts[&Kind::Tampered], 200);
        assert_eq!(counts[&Kind::Unsigned], 200);
        assert_eq!(counts[&Kind::InvalidJson], 100);
        assert_eq!(counts[&Kind::Oversize], 100);
    }

    /// Each planned request is what its kind says, judged by the core alone.
    #[test]
    fn each_request_gets_its_expected_status_from_the_core() {
        let plan = Plan::new(SECRET).expect("plan");
        let config = WebhookConfig::new(SECRET).expect("config");
        for index in 0..40 {
            let request = plan.request(index);
            let outcome = config.verify_event(
                request.body.bytes(),
                request.signature.as_deref().map(str::as_bytes),
            );
            let status = match &outcome {
                Ok(event) => {
                    assert_eq!(event.id, request.id);
                    200
                }
                Err(rejection) => rejection.status(),
            };
            assert_eq!(status, request.kind.expected_status(), "request {index}");
        }
    }
}
