//! What the inbox commands print: `stats`, `list` and `show`, as text or
//! one JSON object per line. Scripts parse these; keep them stable.

use core::fmt::{self, Write as _};

use protocol_webhooks_inbox::{Entry, EntrySummary, State, Stats};
use serde_json::{Value, json};

use crate::catalog::TYPE_WIDTH;
use crate::listen::line::{rfc3339, token};

/// Width of the id column: a sample id, `evt_` and 16 hex digits.
const ID_WIDTH: usize = 20;
/// Width of the state column: `in_flight`.
const STATE_WIDTH: usize = 9;
/// Most characters of the last error on a `list` line; `show` has it all.
const ERROR_CHARS: usize = 80;
/// Shown in text for an entry without an error.
const ABSENT: &str = "-";

/// `stats`: one `<state>  <count>` row per state, then the total.
pub(crate) fn stats_table(stats: &Stats) -> String {
    let mut table = String::new();
    let rows = State::ALL
        .into_iter()
        .map(|state| (state.as_str(), stats.get(state)))
        .chain([("total", stats.total())]);
    for (name, count) in rows {
        // Writing to a String cannot fail.
        let _ = writeln!(table, "{name:<STATE_WIDTH$}  {count:>8}");
    }
    table
}

/// `stats --json`: `{"pending":..,"in_flight":..,"done":..,"dead":..,"total":..}`.
pub(crate) fn stats_json(stats: &Stats) -> String {
    let mut object = serde_json::Map::new();
    for state in State::ALL {
        object.insert(state.as_str().to_owned(), stats.get(state).into());
    }
    object.insert("total".to_owned(), stats.total().into());
    Value::Object(object).to_string()
}

/// One `list` line:
/// `<id>  <type>  <state>  <attempts>  <received>  <last error>`.
///
/// Id and type are single tokens (printable ASCII, `?` for anything else,
/// at most 64 characters); the last error comes last, on one line, cut to
/// [`ERROR_CHARS`] characters plus `...`, or `-`.
#[derive(Debug)]
pub(crate) struct ListLine<'a>(pub(crate) &'a EntrySummary);

impl fmt::Display for ListLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entry = self.0;
        write!(
            f,
            "{:<ID_WIDTH$}  {:<TYPE_WIDTH$}  {:<STATE_WIDTH$}  {:>3}  {}  ",
            token(Some(&entry.id)),
            token(Some(&entry.event_type)),
            entry.state.as_str(),
            entry.attempts,
            rfc3339(entry.received_at),
        )?;
        match entry.last_error.as_deref() {
            Some(error) if !error.is_empty() => f.write_str(&one_line(error, Some(ERROR_CHARS))),
            _ => f.write_str(ABSENT),
        }
    }
}

/// The fields of an entry as JSON: `id`, `type`, `state`, `attempts`,
/// `last_error` (in full, or `null`), `received_at`, `updated_at`,
/// `due_at` (UTC, RFC 3339).
pub(crate) fn summary_json(entry: &EntrySummary) -> Value {
    json!({
        "id": entry.id,
        "type": entry.event_type,
        "state": entry.state.as_str(),
        "attempts": entry.attempts,
        "last_error": entry.last_error,
        "received_at": rfc3339(entry.received_at),
        "updated_at": rfc3339(entry.updated_at),
        "due_at": rfc3339(entry.due_at),
    })
}

/// `show`: one `<field>  <value>` row per field, the body's size last.
/// Values are on one line, with control characters escaped.
pub(crate) fn show_text(entry: &Entry) -> String {
    let summary = &entry.summary;
    let last_error = summary
        .last_error
        .as_deref()
        .map_or_else(|| ABSENT.to_owned(), |error| one_line(error, None));
    let rows = [
        ("id", one_line(&summary.id, None)),
        ("type", one_line(&summary.event_type, None)),
        ("state", summary.state.as_str().to_owned()),
        ("attempts", summary.attempts.to_string()),
        ("received_at", rfc3339(summary.received_at)),
        ("updated_at", rfc3339(summary.updated_at)),
        ("due_at", rfc3339(summary.due_at)),
        ("last_error", last_error),
        (
            "body",
            format!("{} bytes (--body prints them)", entry.body.len()),
        ),
    ];
    let mut text = String::new();
    for (name, value) in rows {
        let _ = writeln!(text, "{name:<11}  {value}");
    }
    text
}

/// `show --json`: the summary's fields, `body_bytes`, and `body` as a
/// string (`null` for a body that is not UTF-8).
pub(crate) fn show_json(entry: &Entry) -> String {
    let mut object = summary_json(&entry.summary);
    object["body_bytes"] = entry.body.len().into();
    object["body"] = core::str::from_utf8(&entry.body).map_or(Value::Null, Value::from);
    object.to_string()
}

/// `text` on one line: control characters (newlines, escapes) written as
/// Rust escapes, so that stored text cannot break a line or drive the
/// terminal; cut to `max` characters plus `...` when given.
fn one_line(text: &str, max: Option<usize>) -> String {
    let mut shown = String::with_capacity(text.len());
    let mut count = 0;
    for c in text.chars() {
        let piece: String = if c.is_control() {
            c.escape_default().collect()
        } else {
            c.into()
        };
        for c in piece.chars() {
            if max.is_some_and(|max| count == max) {
                shown.push_str("...");
                return shown;
            }
            shown.push(c);
            count += 1;
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn dead() -> EntrySummary {
        EntrySummary::new(
            "evt_0123456789abcdef".to_owned(),
            "message.created".to_owned(),
            State::Dead,
            8,
            Some("handler failed:\nconnection refused".to_owned()),
            at(1_709_164_800),
            at(1_709_164_900),
            at(1_709_164_860),
        )
    }

    #[test]
    fn stats_has_one_row_per_state_and_the_total() {
        let mut stats = Stats::default();
        stats.add(State::Pending, 2);
        stats.add(State::Dead, 1);
        stats.add(State::Done, 12_345);
        assert_eq!(
            stats_table(&stats),
            "pending           2\n\
             in_flight         0\n\
             done          12345\n\
             dead              1\n\
             total         12348\n"
        );
        let json: Value = serde_json::from_str(&stats_json(&stats)).expect("json");
        assert_eq!(
            json,
            json!({"pending": 2, "in_flight": 0, "done": 12_345, "dead": 1, "total": 12_348})
        );
    }

    #[test]
    fn a_list_line_has_the_documented_columns() {
        let line = ListLine(&dead()).to_string();
        assert_eq!(
            line,
            "evt_0123456789abcdef  message.created       dead         8  \
             2024-02-29T00:00:00Z  handler failed:\\nconnection refused"
        );
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            fields[..5],
            [
                "evt_0123456789abcdef",
                "message.created",
                "dead",
                "8",
                "2024-02-29T00:00:00Z"
            ]
        );
        let mut pending = dead();
        pending.state = State::Pending;
        pending.last_error = None;
        assert!(ListLine(&pending).to_string().ends_with("Z  -"));
    }

    #[test]
    fn a_long_error_is_cut_on_list_and_whole_on_show() {
        let mut entry = dead();
        let long = "é".repeat(200);
        entry.last_error = Some(long.clone());
        let line = ListLine(&entry).to_string();
        assert!(
            line.ends_with(&format!("{}...", "é".repeat(ERROR_CHARS))),
            "{line}"
        );
        let shown = show_text(&Entry::new(entry, Vec::new()));
        assert!(shown.contains(&format!("last_error   {long}\n")), "{shown}");
    }

    #[test]
    fn stored_text_cannot_break_lines_or_drive_the_terminal() {
        assert_eq!(one_line("a\nb\u{1b}[31m\t", None), "a\\nb\\u{1b}[31m\\t");
        assert_eq!(one_line("abcdef", Some(3)), "abc...");
        assert_eq!(one_line("abc", Some(3)), "abc");
        assert_eq!(one_line("ab\n", Some(3)), "ab\\...");
        let mut entry = dead();
        entry.id = "evt x\n".to_owned();
        let line = ListLine(&entry).to_string();
        assert!(line.starts_with("evt?x?  "), "{line}");
        assert_eq!(line.lines().count(), 1);
        let shown = show_text(&Entry::new(entry, b"{}".to_vec()));
        assert!(shown.starts_with("id           evt x\\n\n"), "{shown}");
        assert_eq!(shown.lines().count(), 9);
    }

    #[test]
    fn json_has_every_field_in_full() {
        let entry = Entry::new(dead(), br#"{"id":"evt_0123456789abcdef"}"#.to_vec());
        let json: Value = serde_json::from_str(&show_json(&entry)).expect("json");
        assert_eq!(
            json,
            json!({
                "id": "evt_0123456789abcdef",
                "type": "message.created",
                "state": "dead",
                "attempts": 8,
                "last_error": "handler failed:\nconnection refused",
                "received_at": "2024-02-29T00:00:00Z",
                "updated_at": "2024-02-29T00:01:40Z",
                "due_at": "2024-02-29T00:01:00Z",
                "body_bytes": 29,
                "body": r#"{"id":"evt_0123456789abcdef"}"#,
            })
        );
        let binary = Entry::new(dead(), vec![0xff, 0xfe]);
        let json: Value = serde_json::from_str(&show_json(&binary)).expect("json");
        assert!(json["body"].is_null());
        assert_eq!(json["body_bytes"], 2);
    }
}
