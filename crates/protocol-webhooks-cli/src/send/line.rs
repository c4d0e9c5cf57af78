//! The report line printed for each request; its grammar is documented in
//! the `send` module and parsed by other tools, so keep it stable.

use core::fmt;
use core::time::Duration;

use crate::catalog::TYPE_WIDTH;

/// How many characters of the answer body a line shows.
pub(crate) const BODY_CHARS: usize = 80;

/// Marks a body cut at [`BODY_CHARS`].
const ELLIPSIS: &str = "...";

/// One request's outcome, ready to print.
#[derive(Debug)]
pub(crate) struct Line<'a> {
    /// The event type, or `file`; never contains whitespace.
    pub(crate) label: &'a str,
    /// The HTTP status, or `None` when no answer came back.
    pub(crate) status: Option<u16>,
    /// Time from sending to the end of the answer.
    pub(crate) latency: Duration,
    /// The answer body, or the reason there was none.
    pub(crate) body: &'a [u8],
}

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.status {
            Some(status) => format!("{status:03}"),
            None => String::from("---"),
        };
        let line = format!(
            "{:<TYPE_WIDTH$}  {status}  {:>5} ms  {}",
            self.label,
            self.latency.as_millis(),
            summarize(self.body),
        );
        f.write_str(line.trim_end())
    }
}

/// The body on one line: lossy UTF-8, control characters (newlines, tabs,
/// escape sequences) as spaces so a hostile answer cannot break the line or
/// drive the terminal, cut to [`BODY_CHARS`] characters.
pub(crate) fn summarize(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut summary: String = text
        .chars()
        .take(BODY_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(BODY_CHARS).is_some() {
        summary.push_str(ELLIPSIS);
    }
    summary
}

/// A label that keeps the line parseable: the text itself when it is a
/// plain token, `fallback` otherwise.
pub(crate) fn label_or<'a>(text: Option<&'a str>, fallback: &'a str) -> &'a str {
    match text {
        Some(text)
            if !text.is_empty()
                && text.len() <= 64
                && text.chars().all(|c| c.is_ascii_graphic()) =>
        {
            text
        }
        _ => fallback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_has_the_documented_columns() {
        let line = Line {
            label: "message.created",
            status: Some(200),
            latency: Duration::from_millis(12),
            body: br#"{"id":"evt_1"}"#,
        }
        .to_string();
        assert_eq!(
            line,
            r#"message.created       200     12 ms  {"id":"evt_1"}"#
        );
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            fields,
            ["message.created", "200", "12", "ms", r#"{"id":"evt_1"}"#]
        );
    }

    #[test]
    fn no_answer_and_empty_body() {
        let line = Line {
            label: "contact.deleted",
            status: None,
            latency: Duration::from_millis(1),
            body: b"connection refused",
        };
        assert_eq!(
            line.to_string(),
            "contact.deleted       ---      1 ms  connection refused"
        );
        let empty = Line {
            label: "contact.deleted",
            status: Some(204),
            latency: Duration::ZERO,
            body: b"",
        };
        assert_eq!(empty.to_string(), "contact.deleted       204      0 ms");
    }

    #[test]
    fn bodies_are_one_line_and_cut() {
        assert_eq!(summarize(b"a\nb\r\n\tc\x1b[31m"), "a b   c [31m");
        let long = "é".repeat(100);
        let summary = summarize(long.as_bytes());
        assert_eq!(summary.chars().count(), BODY_CHARS + ELLIPSIS.len());
        assert!(summary.ends_with(ELLIPSIS));
        assert_eq!(summarize(&[b'x'; BODY_CHARS]), "x".repeat(BODY_CHARS));
        assert_eq!(summarize(b"\xff ok"), "\u{fffd} ok");
    }

    #[test]
    fn labels_stay_tokens() {
        assert_eq!(label_or(Some("message.created"), "file"), "message.created");
        assert_eq!(label_or(Some("two words"), "file"), "file");
        assert_eq!(label_or(Some(""), "file"), "file");
        assert_eq!(label_or(None, "file"), "file");
    }
}
