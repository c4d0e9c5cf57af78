//! Every case of the HTTP contract, as data.

use protocol_webhooks::events::EventType;
use protocol_webhooks::samples::{self, sample_body};
use protocol_webhooks::{DEFAULT_BODY_LIMIT, Key, SIGNATURE_HEADER, SignatureError};
use serde_json::{Value, json};

use crate::harness::TestRequest;
use crate::once::STORE_DOWN_PREFIX;
use crate::{EVENT_PATH, INBOX_PATH, ONCE_PATH, PREVIOUS_SECRET, RAW_PATH, SECRET, WRONG_SECRET};

/// One request and what every adapter must answer.
#[derive(Debug, Clone)]
pub struct Case {
    /// What the case checks.
    pub name: String,
    /// The request to send.
    pub request: TestRequest,
    /// The answer required.
    pub expected: Expected,
    /// An event id the runner claims in the shared store (as another replica
    /// would) before sending the request, and releases after.
    pub hold_claim: Option<String>,
    /// How the runner sends the request.
    pub delivery: Delivery,
    /// Once the case is answered, how many times the once route's handler
    /// must have run for this event id in all.
    pub handler_runs: Option<(String, usize)>,
    /// Once the case is answered, the exact body the inbox must hold for
    /// this event id, or `None` when it must hold nothing.
    pub stored: Option<(String, Option<Vec<u8>>)>,
}

/// How the runner sends a case's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Send it and wait for the answer.
    Once,
    /// Give up on the answer after this long, dropping the request as a
    /// client that hangs up does.
    AbandonAfter(core::time::Duration),
    /// Send it again while the answer is 409 (another delivery still holds
    /// the claim), for at most this long.
    RetryWhileBusy(core::time::Duration),
}

/// The answer a case requires.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// 200 from the event route with this JSON summary.
    Event {
        /// `{"id", "type", "resource_id"}` of the event.
        summary: Value,
    },
    /// 200 from the raw route echoing the exact body.
    Raw,
    /// This status with Protocol's JSON error body and no secret in it.
    Rejected {
        /// The HTTP status.
        status: u16,
    },
    /// Exactly the answer of the core's rejection for this signature error:
    /// its status, and its JSON body with its own message, so one signature
    /// failure cannot pass for another.
    SignatureRefused(SignatureError),
    /// 200 from the once route without running the handler: the JSON body
    /// has `"type":"duplicate"`.
    Duplicate,
    /// 503 from the once route's handler, which failed on purpose.
    HandlerFailed,
    /// 409 with `Retry-After`: another replica holds the claim.
    Busy,
    /// 503 with `Retry-After` and `"type":"api_error"`: the store is down.
    StoreDown,
    /// No answer within the delivery's wait: the client gave up while the
    /// handler was still running.
    Abandoned,
    /// Anything but a 2xx, or no answer at all: the handler panicked.
    NotDone,
    /// 500 `{"type":"api_error",...}`: the server has no configuration.
    Unconfigured,
    /// 202 from the inbox route: the JSON body has `"type":"stored"`.
    Stored,
    /// 200 from the inbox route for an event it held already: the JSON
    /// body has `"type":"duplicate"`.
    AlreadyStored,
}

fn hex_signature(secret: &str, body: &[u8]) -> String {
    Key::new(secret)
        .expect("non-empty secret")
        .sign(body)
        .to_hex()
        .as_str()
        .to_owned()
}

/// The signatures a receiver would compute for `body` with the suite's
/// secrets: a rejection must never contain them.
pub(crate) fn expected_signatures(body: &[u8]) -> Vec<String> {
    [SECRET, PREVIOUS_SECRET]
        .into_iter()
        .map(|secret| hex_signature(secret, body))
        .collect()
}

struct Builder {
    cases: Vec<Case>,
}

impl Builder {
    fn push(&mut self, name: impl Into<String>, request: TestRequest, expected: Expected) {
        self.cases.push(Case {
            name: name.into(),
            request,
            expected,
            hold_claim: None,
            delivery: Delivery::Once,
            handler_runs: None,
            stored: None,
        });
    }

    /// The last case pushed, to refine.
    fn last(&mut self) -> &mut Case {
        let last = self.cases.len() - 1;
        &mut self.cases[last]
    }

    /// Requires the once route's handler to have run `times` for `event_id`
    /// once the last case is answered.
    fn runs(&mut self, event_id: &str, times: usize) {
        self.last().handler_runs = Some((event_id.to_owned(), times));
    }

    /// Requires the inbox to hold exactly `body` for `event_id` (or, for
    /// `None`, nothing) once the last case is answered.
    fn holds(&mut self, event_id: &str, body: Option<&[u8]>) {
        self.last().stored = Some((event_id.to_owned(), body.map(<[u8]>::to_vec)));
    }
}

fn request(path: &'static str, body: Vec<u8>, signature: Option<&[u8]>) -> TestRequest {
    let headers = signature
        .map(|value| vec![(SIGNATURE_HEADER.to_owned(), value.to_vec())])
        .unwrap_or_default();
    TestRequest {
        path,
        headers: std::iter::once(("content-type".to_owned(), b"application/json".to_vec()))
            .chain(headers)
            .collect(),
        body,
        chunked: false,
    }
}

/// A request carrying the signature header once for each of `signatures`,
/// in that order.
fn signed_repeatedly(path: &'static str, body: Vec<u8>, signatures: &[&[u8]]) -> TestRequest {
    let mut request = request(path, body, None);
    request.headers.extend(
        signatures
            .iter()
            .map(|value| (SIGNATURE_HEADER.to_owned(), value.to_vec())),
    );
    request
}

fn signed(path: &'static str, body: Vec<u8>) -> TestRequest {
    let signature = hex_signature(SECRET, &body);
    request(path, body, Some(signature.as_bytes()))
}

fn chunked(mut request: TestRequest) -> TestRequest {
    request.chunked = true;
    request
}

fn summary_of(body: &[u8]) -> Expected {
    let value: Value = serde_json::from_slice(body).expect("case body is JSON");
    let resource_id = value["payload"]
        .get("id")
        .and_then(Value::as_str)
        .map_or(Value::Null, |id| Value::String(id.to_owned()));
    Expected::Event {
        summary: json!({
            "id": value["id"],
            "type": value["type"],
            "resource_id": resource_id,
        }),
    }
}

const UNAUTHORIZED: Expected = Expected::Rejected { status: 401 };
const REPEATED: Expected = Expected::SignatureRefused(SignatureError::Repeated);
const BAD_REQUEST: Expected = Expected::Rejected { status: 400 };
const TOO_LARGE: Expected = Expected::Rejected { status: 413 };

/// Every case, in a fixed order.
#[must_use]
pub fn cases() -> Vec<Case> {
    let mut cases = Builder { cases: Vec::new() };
    accepted_events(&mut cases);
    signature_failures(&mut cases);
    repeated_signatures(&mut cases);
    invalid_events(&mut cases);
    size_limits(&mut cases);
    raw_route(&mut cases);
    inbox_route(&mut cases);
    once_route(&mut cases);
    cases.cases
}

/// What an app without any registration answers on each route: 500, and
/// no handler runs.
pub(crate) fn unregistered_cases() -> Vec<Case> {
    let mut cases = Builder { cases: Vec::new() };
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    for path in [EVENT_PATH, RAW_PATH, INBOX_PATH, ONCE_PATH] {
        let id = format!("evt_unregistered_{run}_{}", path.len());
        cases.push(
            format!("{path} answers 500 without a registered configuration"),
            signed(path, sample_body(&EventType::MessageCreated, &id)),
            Expected::Unconfigured,
        );
        cases.runs(&id, 0);
        cases.holds(&id, None);
    }
    cases.cases
}

/// Every call to [`cases`] numbers its exactly-once ids afresh, so runs in
/// the same process (in-process and over TCP) never see each other's ids.
static RUN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The inbox route stores an authentic event before it answers, once per
/// id, and stores nothing for a request every other route refuses.
fn inbox_route(cases: &mut Builder) {
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let body_for = |id: &str| sample_body(&EventType::ConversationUpdated, id);

    let id = format!("evt_inbox_{run}");
    let body = body_for(&id);
    cases.push(
        "inbox route stores a signed event: 202",
        signed(INBOX_PATH, body.clone()),
        Expected::Stored,
    );
    cases.holds(&id, Some(&body));
    cases.push(
        "inbox route answers a redelivery 200 and stores nothing new",
        signed(INBOX_PATH, body.clone()),
        Expected::AlreadyStored,
    );
    cases.holds(&id, Some(&body));

    let id = format!("evt_inbox_chunked_{run}");
    let body = body_for(&id);
    cases.push(
        "inbox route stores a chunked body byte for byte",
        chunked(signed(INBOX_PATH, body.clone())),
        Expected::Stored,
    );
    cases.holds(&id, Some(&body));

    let id = format!("evt_inbox_forged_{run}");
    cases.push(
        "inbox route checks the signature before storing",
        request(INBOX_PATH, body_for(&id), Some(&[b'0'; 64])),
        Expected::SignatureRefused(SignatureError::Mismatch),
    );
    cases.holds(&id, None);
    let id = format!("evt_inbox_unsigned_{run}");
    cases.push(
        "inbox route refuses an unsigned request",
        request(INBOX_PATH, body_for(&id), None),
        Expected::SignatureRefused(SignatureError::Missing),
    );
    cases.holds(&id, None);

    let id = format!("evt_inbox_invalid_{run}");
    // A known type whose payload has no id: authentic, but not an event.
    let invalid = json!({"id": id, "type": "contact.deleted", "payload": {}});
    cases.push(
        "inbox route refuses an authentic body that is not an event",
        signed(INBOX_PATH, invalid.to_string().into_bytes()),
        BAD_REQUEST,
    );
    cases.holds(&id, None);

    let id = format!("evt_inbox_large_{run}");
    let mut large = body_for(&id);
    large.resize(DEFAULT_BODY_LIMIT + 1, b' ');
    cases.push(
        "inbox route refuses a body over the limit",
        signed(INBOX_PATH, large),
        TOO_LARGE,
    );
    cases.holds(&id, None);

    let id = format!("{STORE_DOWN_PREFIX}_inbox_{run}");
    cases.push(
        "inbox route answers 503 when the event cannot be stored",
        signed(INBOX_PATH, body_for(&id)),
        Expected::StoreDown,
    );
    cases.holds(&id, None);
}

fn once_route(cases: &mut Builder) {
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    claim_lifecycle(cases, run);

    let body_for = |id: &str| sample_body(&EventType::MessageCreated, id);
    let id = format!("evt_once_forged_{run}");
    cases.push(
        "once route checks the signature before claiming",
        request(ONCE_PATH, body_for(&id), Some(&[b'0'; 64])),
        UNAUTHORIZED,
    );
    cases.runs(&id, 0);
    let id = format!("evt_once_repeated_{run}");
    let body = body_for(&id);
    let signature = hex_signature(SECRET, &body);
    cases.push(
        "once route refuses a repeated signature before claiming",
        signed_repeatedly(
            ONCE_PATH,
            body.clone(),
            &[signature.as_bytes(), signature.as_bytes()],
        ),
        REPEATED,
    );
    cases.runs(&id, 0);
    let summary = summary_of(&body);
    cases.push(
        "once route runs the handler for the same event signed once",
        signed(ONCE_PATH, body),
        summary,
    );
    cases.runs(&id, 1);
    let id = format!("evt_once_invalid_{run}");
    cases.push(
        "once route checks the event before claiming",
        signed(
            ONCE_PATH,
            format!(r#"{{"id":"{id}","type":"contact.created","payload":{{}}}}"#).into_bytes(),
        ),
        BAD_REQUEST,
    );
    cases.runs(&id, 0);
}

/// Every way a claimed delivery can end, and what the next delivery of the
/// same event then gets; each case also counts the handler's runs.
fn claim_lifecycle(cases: &mut Builder, run: u64) {
    use crate::once::{FAIL_ONCE_MARK, HANG_ONCE_MARK, PANIC_ONCE_MARK};

    let body_for = |id: &str| sample_body(&EventType::MessageCreated, id);
    let id = format!("evt_once_{run}");
    let body = body_for(&id);
    cases.push(
        "once route runs the handler for a new event",
        signed(ONCE_PATH, body.clone()),
        summary_of(&body),
    );
    cases.runs(&id, 1);
    for attempt in ["", ", twice"] {
        cases.push(
            format!("once route answers a redelivery 200 without the handler{attempt}"),
            signed(ONCE_PATH, body.clone()),
            Expected::Duplicate,
        );
        cases.runs(&id, 1);
    }

    let id = format!("evt_once_{run}{FAIL_ONCE_MARK}");
    let body = body_for(&id);
    cases.push(
        "once route releases the claim when the handler fails",
        signed(ONCE_PATH, body.clone()),
        Expected::HandlerFailed,
    );
    cases.runs(&id, 1);
    after_release(cases, &id, &body, "a failure", Delivery::Once);

    let id = format!("evt_once_{run}{PANIC_ONCE_MARK}");
    let body = body_for(&id);
    cases.push(
        "once route releases the claim when the handler panics",
        signed(ONCE_PATH, body.clone()),
        Expected::NotDone,
    );
    cases.runs(&id, 1);
    after_release(cases, &id, &body, "a panic", Delivery::Once);

    let id = format!("evt_once_{run}{HANG_ONCE_MARK}");
    let body = body_for(&id);
    cases.push(
        "once route releases the claim when the request is dropped mid-handler",
        signed(ONCE_PATH, body.clone()),
        Expected::Abandoned,
    );
    cases.last().delivery = Delivery::AbandonAfter(core::time::Duration::from_millis(300));
    cases.runs(&id, 1);
    // A framework that runs a handler to its end after the client left
    // keeps the claim until then: 409 until the handler gives up.
    let wait = crate::once::HANG + core::time::Duration::from_secs(3);
    after_release(
        cases,
        &id,
        &body,
        "a dropped request",
        Delivery::RetryWhileBusy(wait),
    );

    let id = format!("evt_once_busy_{run}");
    cases.push(
        "once route answers 409 with Retry-After while another holds the claim",
        signed(ONCE_PATH, body_for(&id)),
        Expected::Busy,
    );
    cases.last().hold_claim = Some(id.clone());
    cases.runs(&id, 0);

    let id = format!("{}_{run}", STORE_DOWN_PREFIX);
    cases.push(
        "once route answers 503 with Retry-After when the store is down",
        signed(ONCE_PATH, body_for(&id)),
        Expected::StoreDown,
    );
    cases.runs(&id, 0);
}

/// After a delivery that released its claim: the next one runs the handler
/// once more and commits, the one after is a duplicate.
fn after_release(cases: &mut Builder, id: &str, body: &[u8], after: &str, delivery: Delivery) {
    cases.push(
        format!("once route processes the redelivery after {after}"),
        signed(ONCE_PATH, body.to_vec()),
        summary_of(body),
    );
    cases.last().delivery = delivery;
    cases.runs(id, 2);
    cases.push(
        format!("once route answers the delivery after {after} and its redelivery as a duplicate"),
        signed(ONCE_PATH, body.to_vec()),
        Expected::Duplicate,
    );
    cases.runs(id, 2);
}

fn accepted_events(cases: &mut Builder) {
    for (index, event_type) in EventType::KNOWN.iter().enumerate() {
        let body = sample_body(event_type, &format!("evt_sample_{index}"));
        let expected = summary_of(&body);
        cases.push(
            format!("accepts {event_type}"),
            signed(EVENT_PATH, body),
            expected,
        );
    }

    let docs = samples::MESSAGE_UPDATED_EVENT.as_bytes().to_vec();
    let expected = summary_of(&docs);
    cases.push(
        "accepts the docs' pretty-printed message.updated verbatim",
        signed(EVENT_PATH, docs),
        expected,
    );

    let pretty_message = format!(
        "{{\n  \"id\": \"evt_pretty\",\n  \"type\": \"message.created\",\n  \"payload\": {}\n}}\n",
        samples::MESSAGE.trim_end().replace('\n', "\n  ")
    )
    .into_bytes();
    let expected = summary_of(&pretty_message);
    cases.push(
        "accepts a pretty-printed body containing ’ byte for byte",
        signed(EVENT_PATH, pretty_message),
        expected,
    );

    let body = sample_body(&EventType::ContactCreated, "evt_rotation");
    let signature = hex_signature(PREVIOUS_SECRET, &body);
    let expected = summary_of(&body);
    cases.push(
        "accepts a signature made with the previous secret",
        request(EVENT_PATH, body, Some(signature.as_bytes())),
        expected,
    );

    for (name, body) in [
        (
            "accepts an unknown type",
            br#"{"id":"evt_unknown","type":"invoice.paid","payload":{"id":"inv_1","total":12}}"#.to_vec(),
        ),
        (
            "accepts an unknown action",
            br#"{"id":"evt_pinned","type":"message.pinned","payload":{"id":"SIuAFUNKdSYHZF2w"}}"#.to_vec(),
        ),
        (
            "accepts an unknown type without a payload",
            br#"{"id":"evt_ping","type":"ping"}"#.to_vec(),
        ),
        (
            "accepts extra fields in envelope and payload",
            br#"{"id":"evt_extra","type":"contact.updated","api_version":"2025-01-01","payload":{"id":"WAz8eIbvDR60rouK","username":"KevinMcCallister","nickname":"Kev","labels":["vip"],"address":{"city":"Chicago"}}}"#.to_vec(),
        ),
        (
            "accepts an id-only deleted payload",
            br#"{"id":"evt_deleted","type":"group.deleted","payload":{"id":"l7cGNIBKZiNJ6wqF"}}"#.to_vec(),
        ),
        (
            "accepts a deleted payload with the whole object",
            sample_body(&EventType::ContactCreated, "evt_deleted_whole")
                .replace_type("contact.created", "contact.deleted"),
        ),
        (
            "accepts nulls in every optional field",
            br#"{"id":"evt_nulls","type":"conversation.updated","payload":{"id":"xgQQXg3hrtjh7AvZ","contact_id":null,"group_id":null,"pinned_message_id":null,"is_pinned":null,"is_muted":null,"last_active_at":null,"last_opened_at":null,"created_at":null,"archived_at":null}}"#.to_vec(),
        ),
    ] {
        let expected = summary_of(&body);
        cases.push(name, signed(EVENT_PATH, body), expected);
    }

    let body = sample_body(&EventType::MessageCreated, "evt_upper");
    let upper = hex_signature(SECRET, &body).to_ascii_uppercase();
    let expected = summary_of(&body);
    cases.push(
        "accepts an upper-case hex signature",
        request(EVENT_PATH, body, Some(upper.as_bytes())),
        expected,
    );

    let body = sample_body(&EventType::GroupUpdated, "evt_header_case");
    let signature = hex_signature(SECRET, &body);
    let expected = summary_of(&body);
    let mut mixed = request(EVENT_PATH, body, None);
    mixed
        .headers
        .push(("X-Protocol-Signature".to_owned(), signature.into_bytes()));
    cases.push("accepts a mixed-case header name", mixed, expected);

    let body = sample_body(&EventType::AttachmentCreated, "evt_chunked");
    let expected = summary_of(&body);
    cases.push(
        "accepts a chunked body",
        chunked(signed(EVENT_PATH, body)),
        expected,
    );

    let mut large =
        br#"{"id":"evt_large_chunked","type":"message.created","payload":{"id":"m","message":""#
            .to_vec();
    large.extend(std::iter::repeat_n(b'x', 100_000));
    large.extend_from_slice(br#""}}"#);
    let expected = summary_of(&large);
    cases.push(
        "accepts a chunked body spanning several chunks",
        chunked(signed(EVENT_PATH, large)),
        expected,
    );
}

fn signature_failures(cases: &mut Builder) {
    let body = sample_body(&EventType::MessageCreated, "evt_forged");
    let good = hex_signature(SECRET, &body);
    let wrong = hex_signature(WRONG_SECRET, &body);
    let prefixed = format!("sha256={good}");
    let long = format!("{good}0");
    let non_hex = format!("{}zz", &good[..62]);
    let spaced = format!("{} {}", &good[..32], &good[32..]);
    let failures: [(&str, Option<&[u8]>); 10] = [
        (
            "refuses a signature header that is not ASCII",
            Some(&[0xe2, 0x80, 0x99, 0xff]),
        ),
        ("refuses a missing signature", None),
        ("refuses an empty signature", Some(b"")),
        ("refuses a 63-digit signature", Some(&good.as_bytes()[..63])),
        ("refuses a 65-digit signature", Some(long.as_bytes())),
        (
            "refuses a sha256= prefixed signature",
            Some(prefixed.as_bytes()),
        ),
        ("refuses a non-hex signature", Some(non_hex.as_bytes())),
        (
            "refuses a signature with a space inside",
            Some(spaced.as_bytes()),
        ),
        (
            "refuses a base64 signature",
            Some(b"sDRMYdjbOFNcqK/OrwvxK4gdwgDJgz2nJuk3bC4yz/c="),
        ),
        (
            "refuses a signature made with another secret",
            Some(wrong.as_bytes()),
        ),
    ];
    for (name, signature) in failures {
        cases.push(
            name,
            request(EVENT_PATH, body.clone(), signature),
            UNAUTHORIZED,
        );
    }

    let mut tampered = body.clone();
    let at = tampered
        .windows(4)
        .position(|window| window == b"evt_")
        .expect("sample has an id");
    tampered[at] = b'E';
    cases.push(
        "refuses a tampered body",
        request(EVENT_PATH, tampered, Some(good.as_bytes())),
        UNAUTHORIZED,
    );

    let mut extended = body.clone();
    extended.push(b' ');
    cases.push(
        "refuses a body with one trailing byte added",
        request(EVENT_PATH, extended, Some(good.as_bytes())),
        UNAUTHORIZED,
    );

    cases.push(
        "refuses a chunked body with a wrong signature",
        chunked(request(EVENT_PATH, body.clone(), Some(wrong.as_bytes()))),
        UNAUTHORIZED,
    );

    cases.push(
        "refuses an unsigned body that is not JSON before parsing it",
        request(EVENT_PATH, b"not json".to_vec(), None),
        UNAUTHORIZED,
    );
}

/// The signature header is not a list: a request carrying it more than once
/// is refused whatever its values, after the size check and before parsing.
fn repeated_signatures(cases: &mut Builder) {
    let body = sample_body(&EventType::MessageCreated, "evt_repeated");
    let good = hex_signature(SECRET, &body);
    let wrong = hex_signature(WRONG_SECRET, &body);
    let (good, wrong) = (good.as_bytes(), wrong.as_bytes());

    cases.push(
        "refuses a valid signature sent twice",
        signed_repeatedly(EVENT_PATH, body.clone(), &[good, good]),
        REPEATED,
    );
    cases.push(
        "refuses a valid signature followed by a wrong one",
        signed_repeatedly(EVENT_PATH, body.clone(), &[good, wrong]),
        REPEATED,
    );
    cases.push(
        "refuses a wrong signature followed by a valid one",
        signed_repeatedly(EVENT_PATH, body.clone(), &[wrong, good]),
        REPEATED,
    );
    cases.push(
        "refuses a valid signature followed by a malformed one",
        signed_repeatedly(EVENT_PATH, body.clone(), &[good, b"sha256=0"]),
        REPEATED,
    );
    let rotated = hex_signature(PREVIOUS_SECRET, &body);
    cases.push(
        "refuses signatures with the current and the previous secret together",
        signed_repeatedly(EVENT_PATH, body.clone(), &[good, rotated.as_bytes()]),
        REPEATED,
    );

    let mut mixed_case = signed_repeatedly(EVENT_PATH, body.clone(), &[good]);
    mixed_case
        .headers
        .push(("X-Protocol-Signature".to_owned(), good.to_vec()));
    cases.push(
        "refuses a repeated signature whose names differ in case",
        mixed_case,
        REPEATED,
    );

    cases.push(
        "refuses a repeated signature on a chunked body",
        chunked(signed_repeatedly(EVENT_PATH, body.clone(), &[good, good])),
        REPEATED,
    );

    let not_json = b"not json".to_vec();
    let signature = hex_signature(SECRET, &not_json);
    cases.push(
        "refuses a repeated signature before parsing the body",
        signed_repeatedly(
            EVENT_PATH,
            not_json,
            &[signature.as_bytes(), signature.as_bytes()],
        ),
        REPEATED,
    );

    let over = event_of_length(DEFAULT_BODY_LIMIT + 1);
    let signature = hex_signature(SECRET, &over);
    cases.push(
        "checks the size before a repeated signature",
        signed_repeatedly(
            EVENT_PATH,
            over.clone(),
            &[signature.as_bytes(), signature.as_bytes()],
        ),
        TOO_LARGE,
    );
    cases.push(
        "checks the size of a chunked body before a repeated signature",
        chunked(signed_repeatedly(
            EVENT_PATH,
            over,
            &[signature.as_bytes(), signature.as_bytes()],
        )),
        TOO_LARGE,
    );

    let raw = sample_body(&EventType::MessageUpdated, "evt_raw_repeated");
    let signature = hex_signature(SECRET, &raw);
    cases.push(
        "raw route refuses a repeated signature",
        signed_repeatedly(RAW_PATH, raw, &[signature.as_bytes(), signature.as_bytes()]),
        REPEATED,
    );
}

fn invalid_events(cases: &mut Builder) {
    let mut deep_payload = br#"{"id":"evt_deep","type":"contact.created","payload":"#.to_vec();
    deep_payload.extend(std::iter::repeat_n(b'[', 100_000));
    deep_payload.extend(std::iter::repeat_n(b']', 100_000));
    deep_payload.push(b'}');
    let mut deep_top = std::iter::repeat_n(b'[', 100_000).collect::<Vec<u8>>();
    deep_top.extend(std::iter::repeat_n(b']', 100_000));
    let invalid: Vec<(&str, Vec<u8>)> = vec![
        ("refuses an empty body", Vec::new()),
        ("refuses a body that is not JSON", b"id=1&type=contact.created".to_vec()),
        ("refuses a JSON array", br#"["evt_1","contact.created",{"id":"c"}]"#.to_vec()),
        ("refuses a JSON string", br#""contact.created""#.to_vec()),
        ("refuses a missing id", br#"{"type":"contact.created","payload":{"id":"c"}}"#.to_vec()),
        ("refuses a missing type", br#"{"id":"evt_1","payload":{"id":"c"}}"#.to_vec()),
        ("refuses a numeric id", br#"{"id":1,"type":"contact.created","payload":{"id":"c"}}"#.to_vec()),
        ("refuses a numeric type", br#"{"id":"evt_1","type":7,"payload":{"id":"c"}}"#.to_vec()),
        (
            "refuses a payload field of the wrong type",
            br#"{"id":"evt_1","type":"contact.created","payload":{"id":"c","created_at":"yesterday"}}"#.to_vec(),
        ),
        (
            "refuses a nested field of the wrong type",
            br#"{"id":"evt_1","type":"message.created","payload":{"id":"m","attachments":[{"id":"a","file_size":"big"}]}}"#.to_vec(),
        ),
        (
            "refuses a known type without a payload id",
            br#"{"id":"evt_1","type":"contact.deleted","payload":{}}"#.to_vec(),
        ),
        (
            "refuses a known type with a null payload",
            br#"{"id":"evt_1","type":"contact.deleted","payload":null}"#.to_vec(),
        ),
        ("refuses invalid UTF-8", b"{\"id\":\"evt_\xff\xfe\",\"type\":\"contact.created\",\"payload\":{\"id\":\"c\"}}".to_vec()),
        ("refuses 100,000-deep nesting in the payload", deep_payload),
        ("refuses 100,000-deep nesting at the top level", deep_top),
        (
            "refuses trailing garbage",
            br#"{"id":"evt_1","type":"contact.created","payload":{"id":"c"}} {}"#.to_vec(),
        ),
        (
            "refuses a duplicate type",
            br#"{"id":"evt_1","type":"contact.created","type":"group.created","payload":{"id":"c"}}"#.to_vec(),
        ),
    ];
    for (name, body) in invalid {
        cases.push(name, signed(EVENT_PATH, body), BAD_REQUEST);
    }
}

/// A valid signed event padded with insignificant whitespace to `len` bytes.
fn event_of_length(len: usize) -> Vec<u8> {
    let mut body =
        br#"{"id":"evt_limit","type":"contact.created","payload":{"id":"WAz8eIbvDR60rouK"}}"#
            .to_vec();
    body.resize(len, b' ');
    body
}

fn size_limits(cases: &mut Builder) {
    let at_limit = event_of_length(DEFAULT_BODY_LIMIT);
    let expected = summary_of(&at_limit);
    cases.push(
        "accepts a body exactly at the limit",
        signed(EVENT_PATH, at_limit.clone()),
        expected.clone(),
    );
    cases.push(
        "accepts a chunked body exactly at the limit",
        chunked(signed(EVENT_PATH, at_limit)),
        expected,
    );
    let over = event_of_length(DEFAULT_BODY_LIMIT + 1);
    cases.push(
        "refuses one byte over the limit by Content-Length",
        signed(EVENT_PATH, over.clone()),
        TOO_LARGE,
    );
    cases.push(
        "refuses one byte over the limit when chunked",
        chunked(signed(EVENT_PATH, over.clone())),
        TOO_LARGE,
    );
    cases.push(
        "checks the size before the signature",
        request(EVENT_PATH, over.clone(), None),
        TOO_LARGE,
    );
    cases.push(
        "refuses a chunked body over the limit before the signature",
        chunked(request(EVENT_PATH, over, Some(b"nonsense"))),
        TOO_LARGE,
    );
}

fn raw_route(cases: &mut Builder) {
    let body = sample_body(&EventType::MessageUpdated, "evt_raw");
    cases.push(
        "raw route hands over the exact body",
        signed(RAW_PATH, body.clone()),
        Expected::Raw,
    );
    cases.push(
        "raw route accepts a chunked body",
        chunked(signed(RAW_PATH, body.clone())),
        Expected::Raw,
    );
    cases.push(
        "raw route does not parse: a signed non-event passes",
        signed(RAW_PATH, b"\x00\xffnot an event".to_vec()),
        Expected::Raw,
    );
    cases.push(
        "raw route accepts a signed empty body",
        signed(RAW_PATH, Vec::new()),
        Expected::Raw,
    );
    cases.push(
        "raw route refuses a missing signature",
        request(RAW_PATH, body.clone(), None),
        UNAUTHORIZED,
    );
    let wrong = hex_signature(WRONG_SECRET, &body);
    cases.push(
        "raw route refuses a wrong signature",
        request(RAW_PATH, body, Some(wrong.as_bytes())),
        UNAUTHORIZED,
    );
    cases.push(
        "raw route refuses one byte over the limit",
        signed(RAW_PATH, event_of_length(DEFAULT_BODY_LIMIT + 1)),
        TOO_LARGE,
    );
    cases.push(
        "raw route refuses one byte over the limit when chunked",
        chunked(signed(RAW_PATH, event_of_length(DEFAULT_BODY_LIMIT + 1))),
        TOO_LARGE,
    );
}

trait ReplaceType {
    fn replace_type(self, from: &str, to: &str) -> Vec<u8>;
}

impl ReplaceType for Vec<u8> {
    fn replace_type(self, from: &str, to: &str) -> Vec<u8> {
        String::from_utf8(self)
            .expect("sample is UTF-8")
            .replacen(from, to, 1)
            .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use protocol_webhooks::{Rejection, signature_header_value};

    use super::*;

    #[test]
    fn case_names_are_unique() {
        let all = cases();
        let mut names: Vec<&str> = all.iter().map(|case| case.name.as_str()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn every_accepted_case_really_verifies_and_parses_in_the_core() {
        let config = crate::config();
        for case in cases() {
            let request = &case.request;
            // As an adapter does: size, then the header's one value, then
            // the signature and the event.
            let outcome = if request.body.len() > config.body_limit() {
                config.verify_event(&request.body, None)
            } else {
                signature_header_value(request.header_values(SIGNATURE_HEADER))
                    .map_err(Rejection::from)
                    .and_then(|signature| config.verify_event(&request.body, signature))
            };
            match (&case.expected, request.path) {
                (Expected::Event { .. }, _) => {
                    assert!(outcome.is_ok(), "{}: {outcome:?}", case.name);
                }
                (Expected::Rejected { status }, EVENT_PATH | ONCE_PATH) => {
                    let status_got = outcome.err().map(|rejection| rejection.status());
                    assert_eq!(status_got, Some(*status), "{}", case.name);
                }
                (Expected::SignatureRefused(error), _) => {
                    assert!(
                        matches!(outcome, Err(Rejection::Signature(got)) if got == *error),
                        "{}: {outcome:?}",
                        case.name
                    );
                }
                _ => {}
            }
        }
    }

    #[test]
    fn a_repeated_signature_is_refused_as_repeated_or_too_large() {
        let mut repeated = 0;
        for case in cases() {
            if case.request.header_values(SIGNATURE_HEADER).count() < 2 {
                assert_ne!(case.expected, REPEATED, "{}", case.name);
                continue;
            }
            repeated += 1;
            assert!(case.request.repeats_a_header(), "{}", case.name);
            assert!(
                case.expected == REPEATED || case.expected == TOO_LARGE,
                "{}",
                case.name
            );
        }
        assert!(repeated >= 10, "only {repeated} cases repeat the header");
    }
}
