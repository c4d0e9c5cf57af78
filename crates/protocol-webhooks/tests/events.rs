//! Parsing webhook bodies into typed events, and the order in which
//! `WebhookConfig::verify_event` refuses a request.

#![cfg(feature = "events")]

use protocol_webhooks::events::{
    Action, Attachment, Contact, Conversation, Event, EventError, EventType, Group, Message,
    Payload, Resource, Timestamp,
};
use protocol_webhooks::samples::{
    ATTACHMENT, CONTACT, CONVERSATION, GROUP, MESSAGE, MESSAGE_UPDATED, MESSAGE_UPDATED_EVENT,
    sample_body, sample_payload,
};
use protocol_webhooks::{Answer, Key, Rejection, SignatureError, WebhookConfig};
use serde_json::{Value, json};

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

fn text<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value[name].as_str()
}

fn timestamp(value: &Value, name: &str) -> Option<Timestamp> {
    value[name].as_i64().map(Timestamp::from_unix_seconds)
}

/// The fixture as the model serializes it: absent and null are the same.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(name, value)| (name, without_nulls(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

fn envelope(event_type: &str, payload: &str) -> String {
    format!(r#"{{"id":"evt_1","type":"{event_type}","payload":{payload}}}"#)
}

fn parse(event_type: &str, payload: &str) -> Result<Event, EventError> {
    Event::from_slice(envelope(event_type, payload).as_bytes())
}

fn parsed(event_type: &str, payload: &str) -> Event {
    parse(event_type, payload).unwrap_or_else(|error| panic!("{event_type} {payload}: {error}"))
}

fn model_json(payload: &Payload) -> Value {
    match payload {
        Payload::Contact(object) => serde_json::to_value(object),
        Payload::Conversation(object) => serde_json::to_value(object),
        Payload::Message(object) => serde_json::to_value(object),
        Payload::Group(object) => serde_json::to_value(object),
        Payload::Attachment(object) => serde_json::to_value(object),
        Payload::Unknown(value) => Ok(value.clone()),
        other => panic!("unexpected payload {other:?}"),
    }
    .expect("models serialize")
}

/// Whether every field of the object landed in a typed field.
fn nothing_extra(payload: &Payload) -> bool {
    match payload {
        Payload::Contact(object) => object.extra.is_empty(),
        Payload::Conversation(object) => object.extra.is_empty(),
        Payload::Message(object) => object.extra.is_empty(),
        Payload::Group(object) => object.extra.is_empty(),
        Payload::Attachment(object) => object.extra.is_empty(),
        _ => false,
    }
}

fn resource_of(payload: &Payload) -> Option<Resource> {
    match payload {
        Payload::Contact(_) => Some(Resource::Contact),
        Payload::Conversation(_) => Some(Resource::Conversation),
        Payload::Message(_) => Some(Resource::Message),
        Payload::Group(_) => Some(Resource::Group),
        Payload::Attachment(_) => Some(Resource::Attachment),
        _ => None,
    }
}

#[test]
fn every_documented_type_parses_its_sample() {
    for kind in EventType::KNOWN {
        let body = sample_body(&kind, "evt_sample_1");
        let event = Event::from_slice(&body).unwrap_or_else(|error| panic!("{kind}: {error}"));
        assert_eq!(event.id, "evt_sample_1");
        assert_eq!(event.event_type, kind);
        assert_eq!(resource_of(&event.payload), kind.resource(), "{kind}");

        let object = fixture(sample_payload(&kind).expect("documented types have a sample"));
        assert_eq!(event.resource_id(), text(&object, "id"), "{kind}");
        if kind.action() == Some(Action::Deleted) {
            let id = text(&object, "id").expect("fixture id");
            assert_eq!(model_json(&event.payload), json!({ "id": id }), "{kind}");
            assert_eq!(event.raw_payload().get(), json!({ "id": id }).to_string());
        } else {
            // Serializing the typed model gives the fixture back: no field
            // is lost or changed on the way through the model.
            assert_eq!(model_json(&event.payload), without_nulls(object), "{kind}");
            assert!(nothing_extra(&event.payload), "{kind}: {:?}", event.payload);
            let documented = sample_payload(&kind).expect("sample").trim_end();
            assert_eq!(event.raw_payload().get(), documented, "{kind}");
        }
    }
}

#[test]
fn contact_fields_match_the_fixture() {
    let expected = fixture(CONTACT);
    let event = parsed("contact.created", CONTACT);
    let Payload::Contact(contact) = &event.payload else {
        panic!("not a contact: {:?}", event.payload);
    };
    assert_eq!(Some(contact.id.as_str()), text(&expected, "id"));
    assert_eq!(contact.username.as_deref(), text(&expected, "username"));
    assert_eq!(contact.username.as_deref(), Some("FrankMcCallister"));
    assert_eq!(
        contact.phone_number.as_deref(),
        text(&expected, "phone_number")
    );
    assert_eq!(contact.avatar_url.as_deref(), text(&expected, "avatar_url"));
    assert_eq!(
        contact.conversation_id.as_deref(),
        text(&expected, "conversation_id")
    );
    assert!(expected["display_name"].is_null());
    assert_eq!(contact.display_name, None);
    assert_eq!(
        contact.last_active_at,
        timestamp(&expected, "last_active_at")
    );
    assert_eq!(
        contact.created_at,
        Some(Timestamp::from_unix_seconds(692_233_200))
    );
    #[cfg(feature = "std")]
    {
        let created = contact.created_at.expect("created_at");
        let created = std::time::SystemTime::try_from(created).expect("in range");
        assert_eq!(
            created,
            std::time::UNIX_EPOCH + core::time::Duration::from_secs(692_233_200)
        );
    }
    assert!(contact.extra.is_empty(), "{:?}", contact.extra);
}

#[test]
fn conversation_fields_match_the_fixture() {
    let expected = fixture(CONVERSATION);
    let event = parsed("conversation.updated", CONVERSATION);
    let Payload::Conversation(conversation) = &event.payload else {
        panic!("not a conversation: {:?}", event.payload);
    };
    assert_eq!(Some(conversation.id.as_str()), text(&expected, "id"));
    assert_eq!(
        conversation.contact_id.as_deref(),
        text(&expected, "contact_id")
    );
    assert_eq!(conversation.group_id, None);
    assert_eq!(conversation.pinned_message_id, None);
    assert_eq!(conversation.is_pinned, expected["is_pinned"].as_bool());
    assert_eq!(conversation.is_muted, Some(false));
    assert_eq!(
        conversation.last_active_at,
        timestamp(&expected, "last_active_at")
    );
    assert_eq!(
        conversation.last_opened_at,
        timestamp(&expected, "last_opened_at")
    );
    assert_eq!(conversation.created_at, timestamp(&expected, "created_at"));
    assert_eq!(conversation.archived_at, None);
}

#[test]
fn message_fields_match_the_fixture() {
    let expected = fixture(MESSAGE);
    let event = parsed("message.created", MESSAGE);
    let Payload::Message(message) = &event.payload else {
        panic!("not a message: {:?}", event.payload);
    };
    assert_eq!(Some(message.id.as_str()), text(&expected, "id"));
    assert_eq!(message.message.as_deref(), text(&expected, "message"));
    // The documented text uses U+2019, and it must survive byte for byte.
    let body = message.message.as_deref().expect("message text");
    assert!(body.starts_with("I\u{2019}m traveling"), "{body}");
    assert_eq!(body.matches('\u{2019}').count(), 2);
    assert_eq!(
        message.conversation_id.as_deref(),
        text(&expected, "conversation_id")
    );
    let contact = message.contact.as_ref().expect("contact");
    assert_eq!(Some(contact.id.as_str()), text(&expected["contact"], "id"));
    assert_eq!(
        contact.username.as_deref(),
        text(&expected["contact"], "username")
    );
    assert_eq!(contact.username.as_deref(), Some("KevinMcCallister"));
    assert_eq!(
        contact.last_active_at,
        timestamp(&expected["contact"], "last_active_at")
    );
    assert_eq!(message.reactions.as_deref(), Some(&[][..]));
    assert_eq!(message.attachments.as_deref(), Some(&[][..]));
    assert_eq!(message.read_at, timestamp(&expected, "read_at"));
    assert_eq!(message.created_at, timestamp(&expected, "created_at"));
    assert_eq!(message.updated_at, timestamp(&expected, "updated_at"));
}

#[test]
fn group_fields_match_the_fixture() {
    let expected = fixture(GROUP);
    let event = parsed("group.created", GROUP);
    let Payload::Group(group) = &event.payload else {
        panic!("not a group: {:?}", event.payload);
    };
    assert_eq!(Some(group.id.as_str()), text(&expected, "id"));
    assert_eq!(group.name.as_deref(), Some("Plaza Hotel"));
    assert_eq!(group.description.as_deref(), text(&expected, "description"));
    assert_eq!(group.avatar_url.as_deref(), text(&expected, "avatar_url"));
    assert_eq!(
        group.conversation_id.as_deref(),
        text(&expected, "conversation_id")
    );
    let usernames: Vec<&str> = group
        .contacts
        .as_deref()
        .expect("contacts")
        .iter()
        .map(|contact| contact.username.as_deref().expect("username"))
        .collect();
    let expected_usernames: Vec<&str> = expected["contacts"]
        .as_array()
        .expect("contacts array")
        .iter()
        .map(|contact| text(contact, "username").expect("username"))
        .collect();
    assert_eq!(usernames, expected_usernames);
    assert_eq!(usernames, ["Hector", "Cedric", "Hester", "Cliff"]);
    // The documented members are abbreviated and carry no id.
    assert!(
        group
            .contacts
            .iter()
            .flatten()
            .all(|contact| contact.id.is_empty())
    );
    assert_eq!(group.created_at, timestamp(&expected, "created_at"));
    assert_eq!(group.archived_at, None);
}

#[test]
fn attachment_fields_match_the_fixture() {
    let expected = fixture(ATTACHMENT);
    let event = parsed("attachment.created", ATTACHMENT);
    let Payload::Attachment(attachment) = &event.payload else {
        panic!("not an attachment: {:?}", event.payload);
    };
    assert_eq!(Some(attachment.id.as_str()), text(&expected, "id"));
    assert_eq!(
        attachment.message_id.as_deref(),
        text(&expected, "message_id")
    );
    assert_eq!(attachment.filename.as_deref(), text(&expected, "filename"));
    assert_eq!(attachment.file_url.as_deref(), text(&expected, "file_url"));
    assert_eq!(attachment.file_type.as_deref(), Some("application/pdf"));
    assert_eq!(attachment.file_size, expected["file_size"].as_u64());
    assert_eq!(attachment.file_size, Some(21_352));
    assert_eq!(attachment.created_at, timestamp(&expected, "created_at"));
}

#[test]
fn documented_message_updated_event_parses() {
    let event: Event = MESSAGE_UPDATED_EVENT
        .parse()
        .expect("documented example parses");
    let document = fixture(MESSAGE_UPDATED_EVENT);
    assert_eq!(Some(event.id.as_str()), text(&document, "id"));
    assert_eq!(event.id, "a056V7R7NmNRjl70");
    assert_eq!(event.event_type, EventType::MessageUpdated);
    assert_eq!(event.resource_id(), Some("SIuAFUNKdSYHZF2w"));

    let Payload::Message(message) = &event.payload else {
        panic!("not a message: {:?}", event.payload);
    };
    assert_eq!(
        message.message.as_deref(),
        Some("I'm not apologizing. I'd rather kiss a toilet seat.")
    );
    let reactions = message.reactions.as_deref().expect("reactions");
    assert_eq!(reactions.len(), 1);
    let listed: Vec<(&str, &[String])> = reactions[0].iter().collect();
    assert_eq!(
        listed,
        [("red_angry_face", &["KateMcCallister".to_owned()][..])]
    );
    assert_eq!(
        reactions[0].0.get("red_angry_face").map(Vec::as_slice),
        Some(&["KateMcCallister".to_owned()][..])
    );
    assert_eq!(
        message.contact.as_ref().map(|c| c.id.as_str()),
        Some("WAz8eIbvDR60rouK")
    );
    assert_eq!(
        model_json(&event.payload),
        without_nulls(fixture(MESSAGE_UPDATED))
    );

    // The payload is kept as the exact, pretty-printed bytes received.
    let raw = event.raw_payload().get();
    assert!(
        raw.starts_with("{\n    \"id\": \"SIuAFUNKdSYHZF2w\""),
        "{raw}"
    );
    assert!(MESSAGE_UPDATED_EVENT.contains(raw));
    assert_eq!(fixture(raw), document["payload"]);
}

#[test]
fn documented_event_verifies_and_parses_through_the_config() {
    let config = WebhookConfig::new("whsec_test_4f9c2b7e").expect("config");
    let header = config.keys()[0]
        .sign(MESSAGE_UPDATED_EVENT.as_bytes())
        .to_hex();
    let event = config
        .verify_event(
            MESSAGE_UPDATED_EVENT.as_bytes(),
            Some(header.as_str().as_bytes()),
        )
        .expect("verified event");
    assert_eq!(
        event,
        MESSAGE_UPDATED_EVENT.parse::<Event>().expect("parses")
    );
}

#[test]
fn an_owned_body_parses_like_a_borrowed_one() {
    for event_type in EventType::KNOWN {
        let body = sample_body(&event_type, "evt_owned");
        let owned = Event::from_vec(body.clone()).expect("owned body parses");
        assert_eq!(
            owned,
            Event::from_slice(&body).expect("borrowed body parses")
        );
        assert_eq!(
            owned.raw_payload().get(),
            Event::from_slice(&body)
                .expect("parses")
                .raw_payload()
                .get()
        );
    }
    let mut invalid = MESSAGE_UPDATED_EVENT.as_bytes().to_vec();
    invalid.insert(20, 0xff);
    assert!(matches!(
        Event::from_vec(invalid),
        Err(EventError::NotUtf8 { valid_up_to: 20 })
    ));
    assert!(matches!(
        Event::from_vec(b"{\"id\":\"e\"".to_vec()),
        Err(EventError::Syntax { .. })
    ));
}

#[test]
fn a_verified_body_becomes_its_event_without_a_copy() {
    let config = WebhookConfig::new("whsec_test_4f9c2b7e").expect("config");
    let header = config.keys()[0]
        .sign(MESSAGE_UPDATED_EVENT.as_bytes())
        .to_hex();
    let head = protocol_webhooks::RequestHead::new(None::<&[u8]>, [header.as_str()]);
    let mut collector = config.collect_body(head).expect("within the limit");
    collector
        .push(MESSAGE_UPDATED_EVENT.as_bytes())
        .expect("within the limit");
    let body = collector.finish().expect("verified");
    let borrowed = body.parse().expect("parses");
    assert_eq!(body.into_event().expect("parses"), borrowed);
}

#[test]
fn deleted_events_parse_with_only_the_id_or_the_whole_object() {
    let objects = [
        (Resource::Contact, CONTACT),
        (Resource::Conversation, CONVERSATION),
        (Resource::Message, MESSAGE),
        (Resource::Group, GROUP),
        (Resource::Attachment, ATTACHMENT),
    ];
    for (resource, object) in objects {
        let deleted = EventType::new(resource, Action::Deleted);
        let minimal = parsed(deleted.as_str(), r#"{"id":"gone_1"}"#);
        let expected = match resource {
            Resource::Contact => Payload::Contact(Contact::new("gone_1")),
            Resource::Conversation => Payload::Conversation(Conversation::new("gone_1")),
            Resource::Message => Payload::Message(Message::new("gone_1")),
            Resource::Group => Payload::Group(Group::new("gone_1")),
            Resource::Attachment => Payload::Attachment(Attachment::new("gone_1")),
            other => panic!("unexpected resource {other}"),
        };
        assert_eq!(minimal.payload, expected, "{deleted}");
        assert_eq!(minimal.resource_id(), Some("gone_1"));

        let whole = parsed(deleted.as_str(), object);
        let created = parsed(EventType::new(resource, Action::Created).as_str(), object);
        assert_eq!(whole.payload, created.payload, "{deleted}");
        assert_eq!(model_json(&whole.payload), without_nulls(fixture(object)));
    }
}

#[test]
fn unknown_types_and_actions_keep_the_raw_payload() {
    let payload =
        r#"{ "id": "in_1", "amount": 500,  "lines": [ {"sku": "a"} ], "created_at": "yesterday" }"#;
    for type_name in [
        "invoice.paid",
        "message.pinned",
        "contact",
        "Message.Created",
    ] {
        let event = parsed(type_name, payload);
        assert_eq!(event.event_type, EventType::Unknown(type_name.to_owned()));
        assert!(!event.event_type.is_known());
        assert_eq!(event.event_type.as_str(), type_name);
        // `created_at` is not a timestamp here: an unknown type is never
        // forced into a model, so it cannot fail to fit one.
        assert_eq!(
            event.payload,
            Payload::Unknown(json!({
                "id": "in_1", "amount": 500, "lines": [{"sku": "a"}], "created_at": "yesterday"
            }))
        );
        assert_eq!(event.raw_payload().get(), payload, "byte-exact raw payload");
        assert_eq!(event.resource_id(), Some("in_1"));
    }
    let pinned = EventType::from("message.pinned");
    assert_eq!(pinned.resource(), Some(Resource::Message));
    assert_eq!(pinned.action(), None);

    let scalar = parsed("invoice.paid", "[1, 2]");
    assert_eq!(scalar.payload, Payload::Unknown(json!([1, 2])));
    assert_eq!(scalar.resource_id(), None);

    let absent = Event::from_slice(br#"{"id":"e","type":"invoice.paid"}"#).expect("no payload");
    assert_eq!(absent.payload, Payload::Unknown(Value::Null));
    assert_eq!(absent.raw_payload().get(), "null");
}

#[test]
fn extra_fields_are_kept_and_survive_a_round_trip() {
    let payload = json!({
        "id": "SIuAFUNKdSYHZF2w",
        "message": "hello",
        "pinned": true,
        "thread": {"depth": [1, 2, {"x": null}]},
        "contact": {
            "id": "WAz8eIbvDR60rouK",
            "username": "KevinMcCallister",
            "verified_at": 705_103_200,
            "badges": ["early"]
        },
        "attachments": [{
            "id": "Nc6yKKMpcxiiFxp6",
            "file_size": 21352,
            "thumbnail_url": "https://example.invalid/t.jpg"
        }],
        "reactions": [{"thumbs_up": ["Kate", "Peter"]}]
    });
    let event = parsed("message.created", &payload.to_string());
    let Payload::Message(message) = &event.payload else {
        panic!("not a message: {:?}", event.payload);
    };
    assert_eq!(message.message.as_deref(), Some("hello"));
    assert_eq!(message.extra.len(), 2, "{:?}", message.extra);
    assert_eq!(message.extra["pinned"], json!(true));
    assert_eq!(
        message.extra["thread"],
        json!({"depth": [1, 2, {"x": null}]})
    );
    let contact = message.contact.as_ref().expect("contact");
    assert_eq!(contact.username.as_deref(), Some("KevinMcCallister"));
    assert_eq!(contact.extra["verified_at"], json!(705_103_200));
    assert_eq!(contact.extra["badges"], json!(["early"]));
    let attachment = &message.attachments.as_deref().expect("attachments")[0];
    assert_eq!(attachment.file_size, Some(21_352));
    assert_eq!(
        attachment.extra["thumbnail_url"],
        json!("https://example.invalid/t.jpg")
    );

    let serialized = serde_json::to_value(message).expect("serialize");
    assert_eq!(serialized, payload);
    let reparsed: Message = serde_json::from_value(serialized).expect("deserialize");
    assert_eq!(&reparsed, message);

    let envelope = serde_json::to_string(&event).expect("serialize event");
    assert_eq!(
        serde_json::from_str::<Value>(&envelope).expect("JSON"),
        json!({"id": "evt_1", "type": "message.created", "payload": payload})
    );
    assert_eq!(envelope.parse::<Event>().expect("reparse"), event);
}

#[test]
fn unknown_envelope_fields_are_ignored() {
    let plain = Event::from_slice(br#"{"id":"e1","type":"contact.created","payload":{"id":"c1"}}"#)
        .expect("plain");
    let decorated = Event::from_slice(
        br#"{"api_version":"2025-01-01","id":"e1","created":692233200,"type":"contact.created","livemode":{"deep":[1,[2,[3]]]},"payload":{"id":"c1"},"attempt":null}"#,
    )
    .expect("decorated");
    assert_eq!(decorated, plain);
    assert_eq!(decorated.payload, Payload::Contact(Contact::new("c1")));
}

#[test]
fn misfit_payloads_name_the_json_path() {
    let cases = [
        (
            "contact.created",
            r#"{"id":"c","created_at":"yesterday"}"#,
            "payload.created_at",
        ),
        (
            "contact.updated",
            r#"{"id":"c","created_at":1.5}"#,
            "payload.created_at",
        ),
        (
            "contact.created",
            r#"{"id":"c","username":7}"#,
            "payload.username",
        ),
        (
            "message.created",
            r#"{"id":"m","contact":{"id":"c","last_active_at":"soon"}}"#,
            "payload.contact.last_active_at",
        ),
        (
            "message.updated",
            r#"{"id":"m","attachments":[{"id":"a","file_size":"big"}]}"#,
            "payload.attachments[0].file_size",
        ),
        (
            "message.created",
            r#"{"id":"m","reactions":[{"smile":["a"]},{"frown":"b"}]}"#,
            "payload.reactions[1].frown",
        ),
        (
            "attachment.created",
            r#"{"id":"a","file_size":-1}"#,
            "payload.file_size",
        ),
        (
            "conversation.updated",
            r#"{"id":"c","is_muted":"yes"}"#,
            "payload.is_muted",
        ),
        (
            "group.created",
            r#"{"id":"g","contacts":[{"username":"a"},{"username":7}]}"#,
            "payload.contacts[1].username",
        ),
        ("contact.created", r#""just a string""#, "payload"),
        ("message.deleted", "[]", "payload"),
        ("group.deleted", "null", "payload"),
        ("contact.created", r#"{"username":"no id"}"#, "payload.id"),
        ("contact.deleted", r#"{"id":5}"#, "payload.id"),
        ("contact.deleted", r#"{"id":null}"#, "payload.id"),
        ("contact.deleted", r#"{"id":""}"#, "payload.id"),
    ];
    for (event_type, payload, path) in cases {
        let error = parse(event_type, payload).expect_err(payload);
        assert_eq!(error.path(), Some(path), "{event_type} {payload}: {error}");
        assert!(error.to_string().contains(path), "{error}");
        let rejection = Rejection::from(error);
        assert_eq!(rejection.status(), 400);
        assert_eq!(rejection.reason(), "invalid_event");
    }

    let missing = Event::from_slice(br#"{"id":"e","type":"contact.created"}"#)
        .expect_err("a documented type needs a payload");
    assert_eq!(missing.path(), Some("payload"));
}

fn nested(depth: usize, open: &str, inner: &str, close: &str) -> String {
    let mut text = String::with_capacity(depth * (open.len() + close.len()) + inner.len());
    for _ in 0..depth {
        text.push_str(open);
    }
    text.push_str(inner);
    for _ in 0..depth {
        text.push_str(close);
    }
    text
}

#[test]
fn invalid_events_are_errors_not_panics() {
    const DEEP: usize = 100_000;
    let deep_array = nested(DEEP, "[", "1", "]");
    let deep_object = nested(DEEP, r#"{"a":"#, "1", "}");
    let valid = r#"{"id":"e","type":"contact.created","payload":{"id":"c"}}"#;

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty body", Vec::new()),
        ("whitespace only", b" \r\n\t".to_vec()),
        ("not JSON", b"id=e&type=contact.created".to_vec()),
        ("truncated", valid.as_bytes()[..valid.len() - 1].to_vec()),
        ("null", b"null".to_vec()),
        ("string", br#""contact.created""#.to_vec()),
        ("number", b"42".to_vec()),
        ("top-level array", br#"[{"id":"e","type":"contact.created","payload":{"id":"c"}}]"#.to_vec()),
        ("envelope as a sequence", br#"["e","contact.created",{"id":"c"}]"#.to_vec()),
        ("envelope as a sequence with names", br#"[ "id", "contact.created", {"id": "c"} ]"#.to_vec()),
        ("missing id", br#"{"type":"contact.created","payload":{"id":"c"}}"#.to_vec()),
        ("missing type", br#"{"id":"e","payload":{"id":"c"}}"#.to_vec()),
        ("id of wrong type", br#"{"id":7,"type":"contact.created","payload":{"id":"c"}}"#.to_vec()),
        ("id null", br#"{"id":null,"type":"contact.created","payload":{"id":"c"}}"#.to_vec()),
        ("type of wrong type", br#"{"id":"e","type":["contact","created"],"payload":{"id":"c"}}"#.to_vec()),
        ("invalid UTF-8", b"{\"id\":\"e\xff\",\"type\":\"contact.created\",\"payload\":{\"id\":\"c\"}}".to_vec()),
        ("UTF-16 BOM", b"\xff\xfe{\x00}\x00".to_vec()),
        ("UTF-8 BOM", b"\xef\xbb\xbf{\"id\":\"e\",\"type\":\"invoice.paid\"}".to_vec()),
        ("lone surrogate escape", br#"{"id":"\ud800","type":"contact.created","payload":{"id":"c"}}"#.to_vec()),
        ("trailing garbage", format!("{valid}x").into_bytes()),
        ("two documents", format!("{valid}{valid}").into_bytes()),
        ("trailing comma", br#"{"id":"e","type":"contact.created","payload":{"id":"c"},}"#.to_vec()),
        ("duplicate id", br#"{"id":"e","id":"f","type":"contact.created","payload":{"id":"c"}}"#.to_vec()),
        ("duplicate type", br#"{"id":"e","type":"contact.created","type":"invoice.paid","payload":{"id":"c"}}"#.to_vec()),
        ("duplicate payload", br#"{"id":"e","type":"contact.created","payload":{"id":"c"},"payload":{"id":"d"}}"#.to_vec()),
        ("duplicate payload id", br#"{"id":"e","type":"contact.created","payload":{"id":"c","id":"d"}}"#.to_vec()),
        ("duplicate payload field", br#"{"id":"e","type":"contact.created","payload":{"id":"c","username":"a","username":"b"}}"#.to_vec()),
        ("duplicate null field", br#"{"id":"e","type":"contact.created","payload":{"id":"c","display_name":null,"display_name":"x"}}"#.to_vec()),
        ("duplicate extra field", br#"{"id":"e","type":"contact.created","payload":{"id":"c","new":1,"new":2}}"#.to_vec()),
        ("duplicate nested field", br#"{"id":"e","type":"message.created","payload":{"id":"m","contact":{"id":"c","id":"d"}}}"#.to_vec()),
        ("deep array at top level", deep_array.clone().into_bytes()),
        ("deep object at top level", deep_object.clone().into_bytes()),
        ("deep array in a known payload", envelope("contact.created", &format!(r#"{{"id":"c","x":{deep_array}}}"#)).into_bytes()),
        ("deep object in a known payload", envelope("message.created", &format!(r#"{{"id":"m","contact":{deep_object}}}"#)).into_bytes()),
        ("deep array as an unknown payload", envelope("invoice.paid", &deep_array).into_bytes()),
        ("deep object as an unknown payload", envelope("invoice.paid", &deep_object).into_bytes()),
        ("unclosed deep array in a payload", envelope("invoice.paid", &"[".repeat(DEEP)).into_bytes()),
    ];
    for (name, body) in &cases {
        let error = Event::from_slice(body).expect_err(name);
        match (*name, &error) {
            ("invalid UTF-8", EventError::NotUtf8 { valid_up_to }) => assert_eq!(*valid_up_to, 8),
            ("UTF-16 BOM", EventError::NotUtf8 { valid_up_to }) => assert_eq!(*valid_up_to, 0),
            ("invalid UTF-8" | "UTF-16 BOM", other) => panic!("{name}: {other:?}"),
            (_, EventError::NotUtf8 { .. }) => panic!("{name}: {error:?}"),
            _ => {}
        }
        let rejection = Rejection::from(error);
        assert_eq!(rejection.status(), 400, "{name}");
        assert_eq!(rejection.reason(), "invalid_event", "{name}");
        let json: Value =
            serde_json::from_str(&Answer::from(rejection).body()).expect("rejection body is JSON");
        assert_eq!(json["type"], "invalid_request", "{name}");
    }

    let sequence =
        Event::from_slice(br#"["e","contact.created",{"id":"c"}]"#).expect_err("sequence");
    assert_eq!(sequence.path(), Some("."), "{sequence}");
    let wrong_id = Event::from_slice(br#"{"id":7,"type":"contact.created","payload":{"id":"c"}}"#)
        .expect_err("wrong id");
    assert_eq!(wrong_id.path(), Some("id"), "{wrong_id}");
    let trailing = Event::from_slice(format!("{valid} x").as_bytes()).expect_err("trailing");
    assert!(
        matches!(trailing, EventError::Syntax { line: 1, .. }),
        "{trailing:?}"
    );
    let empty = Event::from_slice(b"").expect_err("empty");
    assert!(matches!(empty, EventError::Syntax { .. }), "{empty:?}");
}

#[test]
fn verify_event_refuses_an_oversized_body_before_anything_else() {
    let secret = "whsec_size_first";
    let config = WebhookConfig::new(secret)
        .expect("config")
        .with_body_limit(64);
    let oversized = vec![b'x'; 65];
    let valid_header = Key::new(secret).expect("key").sign(&oversized).to_hex();
    let headers: [Option<&[u8]>; 4] = [
        None,
        Some(b"not hex"),
        Some(&[b'0'; 64]),
        Some(valid_header.as_str().as_bytes()),
    ];
    for header in headers {
        let rejection = config
            .verify_event(&oversized, header)
            .expect_err("too large");
        assert!(
            matches!(rejection, Rejection::PayloadTooLarge { limit: 64 }),
            "{rejection:?}"
        );
        assert_eq!(rejection.status(), 413);
    }

    // At the limit the size check passes, and the missing signature is next.
    let at_limit = vec![b'x'; 64];
    let rejection = config.verify_event(&at_limit, None).expect_err("unsigned");
    assert!(matches!(
        rejection,
        Rejection::Signature(SignatureError::Missing)
    ));
    assert_eq!(rejection.status(), 401);
}

#[test]
fn verify_event_never_parses_an_unauthenticated_body() {
    let secret = "whsec_signature_second";
    let config = WebhookConfig::new(secret).expect("config");
    let key = Key::new(secret).expect("key");
    let not_json = b"\xff this is not an event {{{";
    let forged = Key::new("whsec_attacker")
        .expect("key")
        .sign(not_json)
        .to_hex();
    let cases: [(Option<&[u8]>, SignatureError); 4] = [
        (None, SignatureError::Missing),
        (Some(b"sha256=abc"), SignatureError::Malformed),
        (Some(&[b'0'; 64]), SignatureError::Mismatch),
        (Some(forged.as_str().as_bytes()), SignatureError::Mismatch),
    ];
    for (header, expected) in cases {
        let rejection = config.verify_event(not_json, header).expect_err("unsigned");
        assert!(
            matches!(rejection, Rejection::Signature(error) if error == expected),
            "{rejection:?}"
        );
        assert_eq!(rejection.status(), 401);
    }

    // Only an authentic body reaches the parser, and then it is a 400.
    let genuine = key.sign(not_json).to_hex();
    let rejection = config
        .verify_event(not_json, Some(genuine.as_str().as_bytes()))
        .expect_err("not an event");
    assert!(
        matches!(
            rejection,
            Rejection::InvalidEvent(EventError::NotUtf8 { valid_up_to: 0 })
        ),
        "{rejection:?}"
    );
    assert_eq!(rejection.status(), 400);
}

/// Fails when `text` holds any of `secrets`, in any letter case, or a piece
/// of one long enough to identify it.
fn assert_no_leak(context: &str, text: &str, secrets: &[&str]) {
    const WINDOW: usize = 12;
    for secret in secrets {
        for variant in [
            secret.to_string(),
            secret.to_ascii_uppercase(),
            secret.to_ascii_lowercase(),
        ] {
            let bytes = variant.as_bytes();
            for window in bytes.windows(WINDOW.min(bytes.len())) {
                let piece = core::str::from_utf8(window).expect("ASCII secret");
                assert!(!text.contains(piece), "{context} leaks {piece:?}: {text}");
            }
        }
    }
}

#[test]
fn rejections_never_reveal_the_secret_or_a_signature() {
    let secret = "whsec_Do-Not-Print-9f3c2b7e";
    let config = WebhookConfig::new(secret)
        .expect("config")
        .with_secret("whsec_previous_5a1d")
        .expect("second secret")
        .with_body_limit(4096);
    let body = sample_body(&EventType::ContactCreated, "evt_leak");
    let expected = Key::new(secret).expect("key").sign(&body).to_hex();
    let expected = expected.as_str().to_owned();
    // A header one digit off from the real signature.
    let mut received = expected.clone().into_bytes();
    received[63] = if received[63] == b'0' { b'1' } else { b'0' };
    let received = String::from_utf8(received).expect("ASCII");

    let genuine = |body: &[u8]| Key::new(secret).expect("key").sign(body).to_hex();
    let bad_event = br#"{"id":"e","type":"contact.created","payload":{"id":"c","created_at":"x"}}"#;
    let rejections = [
        config.verify_event(&body, None).expect_err("missing"),
        config
            .verify_event(&body, Some(&received.as_bytes()[1..]))
            .expect_err("malformed"),
        config
            .verify_event(&body, Some(received.as_bytes()))
            .expect_err("mismatch"),
        config
            .verify_event(&body, Some(received.to_ascii_uppercase().as_bytes()))
            .expect_err("mismatch, upper case"),
        config
            .verify_event(&vec![b' '; 4097], Some(expected.as_bytes()))
            .expect_err("too large"),
        Rejection::IncompleteBody,
        config
            .verify_event(bad_event, Some(genuine(bad_event).as_str().as_bytes()))
            .expect_err("invalid event"),
        config
            .verify_event(b"\xff", Some(genuine(b"\xff").as_str().as_bytes()))
            .expect_err("not UTF-8"),
        config
            .verify_event(b"{", Some(genuine(b"{").as_str().as_bytes()))
            .expect_err("not JSON"),
    ];
    let reasons: Vec<&str> = rejections.iter().map(Rejection::reason).collect();
    assert_eq!(
        reasons,
        [
            "signature_missing",
            "signature_malformed",
            "signature_mismatch",
            "signature_mismatch",
            "payload_too_large",
            "incomplete_body",
            "invalid_event",
            "invalid_event",
            "invalid_event",
        ]
    );
    for rejection in rejections {
        let reason = rejection.reason();
        let texts = [
            ("Display", rejection.to_string()),
            ("Debug", format!("{rejection:?}")),
            ("alternate Debug", format!("{rejection:#?}")),
        ];
        let answer = Answer::from(rejection);
        let answer_texts = [
            ("answer body", answer.body()),
            ("answer Debug", format!("{answer:?}")),
        ];
        for (form, text) in texts.into_iter().chain(answer_texts) {
            assert!(!text.is_empty(), "{reason} {form}");
            assert_no_leak(
                &format!("{reason} {form}"),
                &text,
                &[secret, "whsec_previous_5a1d", &expected, &received],
            );
        }
    }
}
