//! The line printed for each request `listen` answers, as text or JSON; its
//! grammar is documented in the `listen` module and parsed by other tools,
//! so keep it stable.

use alloc::borrow::Cow;
use core::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::catalog::TYPE_WIDTH;

/// Width of the id column: a sample id, `evt_` and 16 hex digits.
const ID_WIDTH: usize = 20;
/// Width of the resource id column: Protocol's ids have 16 characters.
const RESOURCE_WIDTH: usize = 16;
/// Longest id or type shown in text; JSON has them in full.
const TOKEN_CHARS: usize = 64;
/// Shown in text for a field the request did not have.
const ABSENT: &str = "-";

/// What `listen` answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// An authentic event: answered 200.
    Accepted,
    /// Answered with the core's `Answer`.
    Refused {
        /// `Answer::reason()`, e.g. `signature_mismatch`.
        reason: &'static str,
        /// `Answer::status()`.
        status: u16,
    },
}

impl Verdict {
    fn status(self) -> u16 {
        match self {
            Self::Accepted => 200,
            Self::Refused { status, .. } => status,
        }
    }
}

/// How forwarding an accepted event went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Forwarded {
    /// The forward target answered with this status.
    Status(u16),
    /// No answer came back; one `snake_case` word, e.g. `connection_refused`.
    Failed(&'static str),
}

/// One request, ready to print.
#[derive(Debug)]
pub(crate) struct Line<'a> {
    /// When the request arrived.
    pub(crate) received_at: SystemTime,
    /// The event's type, once the event is authentic and parsed.
    pub(crate) event_type: Option<&'a str>,
    /// The event's id, likewise.
    pub(crate) event_id: Option<&'a str>,
    /// The id of the resource the event is about, when it has one.
    pub(crate) resource_id: Option<&'a str>,
    /// The answer.
    pub(crate) verdict: Verdict,
    /// The forward's outcome, when the event was forwarded.
    pub(crate) forwarded: Option<Forwarded>,
}

impl Line<'_> {
    /// The same fields as one JSON object: `time`, `type`, `id`,
    /// `resource_id`, `verdict` (`accepted` or `refused`), `reason`,
    /// `status`, `forward_status` and `forward_error`; absent values are
    /// `null`.
    pub(crate) fn to_json(&self) -> String {
        let (verdict, reason) = match self.verdict {
            Verdict::Accepted => ("accepted", None),
            Verdict::Refused { reason, .. } => ("refused", Some(reason)),
        };
        let (forward_status, forward_error) = match self.forwarded {
            Some(Forwarded::Status(status)) => (Some(status), None),
            Some(Forwarded::Failed(error)) => (None, Some(error)),
            None => (None, None),
        };
        serde_json::json!({
            "time": rfc3339(self.received_at),
            "type": self.event_type,
            "id": self.event_id,
            "resource_id": self.resource_id,
            "verdict": verdict,
            "reason": reason,
            "status": self.verdict.status(),
            "forward_status": forward_status,
            "forward_error": forward_error,
        })
        .to_string()
    }
}

/// `<time>  <type>  <id>  <resource id>  <verdict>[  → <forward>]`.
impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}  {:<TYPE_WIDTH$}  {:<ID_WIDTH$}  {:<RESOURCE_WIDTH$}  ",
            rfc3339(self.received_at),
            token(self.event_type),
            token(self.event_id),
            token(self.resource_id),
        )?;
        match self.verdict {
            Verdict::Accepted => f.write_str("accepted")?,
            Verdict::Refused { reason, .. } => write!(f, "refused {reason}")?,
        }
        match self.forwarded {
            Some(Forwarded::Status(status)) => write!(f, "  → {status:03}"),
            Some(Forwarded::Failed(error)) => write!(f, "  → {error}"),
            None => Ok(()),
        }
    }
}

/// A field as one whitespace-free token: `-` when absent or empty; any
/// character that is not printable ASCII as `?`, so that an event's ids
/// can neither break the line nor drive the terminal; cut to
/// [`TOKEN_CHARS`] characters plus `...`.
pub(crate) fn token(text: Option<&str>) -> Cow<'_, str> {
    let text = match text {
        Some(text) if !text.is_empty() => text,
        _ => return Cow::Borrowed(ABSENT),
    };
    let clean = text.chars().all(|c| c.is_ascii_graphic());
    let short = text.chars().nth(TOKEN_CHARS).is_none();
    if clean && short {
        return Cow::Borrowed(text);
    }
    let mut shown: String = text
        .chars()
        .take(TOKEN_CHARS)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect();
    if !short {
        shown.push_str("...");
    }
    Cow::Owned(shown)
}

/// `YYYY-MM-DDTHH:MM:SSZ` in UTC. A clock set before 1970 shows the epoch.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date of a day counted from 1970-01-01, after
/// Howard Hinnant's `civil_from_days`: a dozen lines of arithmetic, not
/// worth a date-time crate.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Counted from 0000-03-01, so that the leap day ends a year.
    let days = days + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn times_are_utc_to_the_second() {
        for (seconds, expected) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_709_164_799, "2024-02-28T23:59:59Z"),
            (692_233_200, "1991-12-08T23:00:00Z"),
            (1_767_225_599, "2025-12-31T23:59:59Z"),
            (4_102_444_800, "2100-01-01T00:00:00Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
        ] {
            assert_eq!(rfc3339(at(seconds)), expected, "{seconds}");
        }
        assert_eq!(
            rfc3339(at(1_709_164_800) + Duration::from_millis(999)),
            "2024-02-29T00:00:00Z",
            "fractions are dropped"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_secs(1)),
            "1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn every_day_follows_the_one_before() {
        let mut previous = civil_from_days(0);
        assert_eq!(previous, (1970, 1, 1));
        for days in 1..200_000 {
            let (year, month, day) = civil_from_days(days);
            let next_day = (previous.0, previous.1, previous.2 + 1);
            let next_month = (previous.0, previous.1 + 1, 1);
            let next_year = (previous.0 + 1, 1, 1);
            assert!(
                [next_day, next_month, next_year].contains(&(year, month, day)),
                "{previous:?} then {:?}",
                (year, month, day)
            );
            assert!((1..=12).contains(&month) && (1..=31).contains(&day));
            previous = (year, month, day);
        }
    }

    fn accepted() -> Line<'static> {
        Line {
            received_at: at(1_709_164_800),
            event_type: Some("message.created"),
            event_id: Some("evt_0123456789abcdef"),
            resource_id: Some("a056V7R7NmNRjl70"),
            verdict: Verdict::Accepted,
            forwarded: None,
        }
    }

    #[test]
    fn text_has_the_documented_columns() {
        let line = accepted().to_string();
        assert_eq!(
            line,
            "2024-02-29T00:00:00Z  message.created       evt_0123456789abcdef  \
             a056V7R7NmNRjl70  accepted"
        );
        let forwarded = Line {
            forwarded: Some(Forwarded::Status(204)),
            ..accepted()
        };
        assert!(forwarded.to_string().ends_with("  accepted  → 204"));
        let refused = Line {
            event_type: None,
            event_id: None,
            resource_id: None,
            verdict: Verdict::Refused {
                reason: "signature_mismatch",
                status: 401,
            },
            ..accepted()
        }
        .to_string();
        let fields: Vec<&str> = refused.split_whitespace().collect();
        assert_eq!(
            fields,
            [
                "2024-02-29T00:00:00Z",
                "-",
                "-",
                "-",
                "refused",
                "signature_mismatch"
            ]
        );
        let failed = Line {
            forwarded: Some(Forwarded::Failed("connection_refused")),
            ..accepted()
        }
        .to_string();
        assert_eq!(
            failed.split_whitespace().rev().take(2).collect::<Vec<_>>(),
            ["connection_refused", "→"]
        );
    }

    #[test]
    fn ids_stay_single_tokens() {
        assert_eq!(token(Some("a b\n\u{1b}[31m")), "a?b??[31m");
        assert_eq!(token(Some("")), "-");
        assert_eq!(token(None), "-");
        assert_eq!(token(Some("é")), "?");
        let long = "x".repeat(100);
        let shown = token(Some(&long));
        assert_eq!(shown.len(), TOKEN_CHARS + 3);
        assert!(shown.ends_with("..."));
    }

    #[test]
    fn json_has_the_same_fields() {
        let json: serde_json::Value = serde_json::from_str(
            &Line {
                forwarded: Some(Forwarded::Failed("timed_out")),
                ..accepted()
            }
            .to_json(),
        )
        .expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "time": "2024-02-29T00:00:00Z",
                "type": "message.created",
                "id": "evt_0123456789abcdef",
                "resource_id": "a056V7R7NmNRjl70",
                "verdict": "accepted",
                "reason": null,
                "status": 200,
                "forward_status": null,
                "forward_error": "timed_out",
            })
        );
        let refused: serde_json::Value = serde_json::from_str(
            &Line {
                event_type: None,
                event_id: None,
                resource_id: None,
                verdict: Verdict::Refused {
                    reason: "payload_too_large",
                    status: 413,
                },
                ..accepted()
            }
            .to_json(),
        )
        .expect("json");
        assert_eq!(refused["verdict"], "refused");
        assert_eq!(refused["reason"], "payload_too_large");
        assert_eq!(refused["status"], 413);
        assert!(refused["type"].is_null() && refused["forward_status"].is_null());
    }
}
