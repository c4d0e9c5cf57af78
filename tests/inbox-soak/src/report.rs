//! What a kill/restart run found, and which of it is a failure.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Duration;

/// The handler's record of successes (the `handled` rows on SQLite, the
/// list `{prefix}:handled` on Redis), against the events acknowledged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handled {
    /// Acknowledged events handled exactly once.
    pub once: usize,
    /// Acknowledged events handled more than once: a failure when the
    /// record is written with the inbox's done ([`Report::exactly_once`]);
    /// otherwise the at-least-once window, a SIGKILL after the handler's
    /// effect and before the inbox marked the event done.
    pub more_than_once: usize,
    /// Handlings beyond the first, over all events.
    pub extra_runs: usize,
    /// Acknowledged events never handled: what an inbox must never do.
    pub lost: Vec<String>,
    /// Records that are no event sent: a torn or foreign id.
    pub unknown: Vec<String>,
}

impl Handled {
    /// Counts the record's `lines` (one event id each, one per handling:
    /// rows or list items) against the ids that were sent and those that
    /// were acknowledged.
    #[must_use]
    pub fn count(sent: &HashSet<String>, acknowledged: &HashSet<String>, lines: &[String]) -> Self {
        let mut runs: BTreeMap<&str, usize> = BTreeMap::new();
        let mut handled = Self::default();
        for line in lines {
            if sent.contains(line.as_str()) {
                *runs.entry(line.as_str()).or_default() += 1;
            } else {
                handled.unknown.push(line.clone());
            }
        }
        let mut lost: Vec<String> = acknowledged
            .iter()
            .filter(|id| !runs.contains_key(id.as_str()))
            .cloned()
            .collect();
        lost.sort();
        handled.lost = lost;
        for (id, count) in runs {
            if !acknowledged.contains(id) {
                continue;
            }
            if count == 1 {
                handled.once += 1;
            } else {
                handled.more_than_once += 1;
                handled.extra_runs += count - 1;
            }
        }
        handled
    }
}

/// Everything a kill/restart run counts.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Events sent.
    pub sent: usize,
    /// Events answered 2xx.
    pub acknowledged: usize,
    /// ... of which 202 `stored`.
    pub stored: usize,
    /// ... of which 200 `already_stored`: an earlier delivery was stored
    /// but its answer was lost to a kill.
    pub already_stored: usize,
    /// HTTP requests made, redeliveries included.
    pub requests: u64,
    /// Deliveries that failed for good (a 4xx, or the deadline).
    pub delivery_errors: Vec<String>,
    /// SIGKILLs.
    pub kills: usize,
    /// Starts of the example, the first included.
    pub starts: usize,
    /// Handlers the worker runs at once: the most a single kill can catch
    /// between a handler's effect and the inbox's done.
    pub concurrency: usize,
    /// Whether the effect is written with the inbox's done (SQLite's
    /// transaction, Redis's script): then no kill can repeat it, and any
    /// event handled twice is a failure, not a bounded cost.
    pub exactly_once: bool,
    /// The handler's record against the acknowledged events.
    pub handled: Handled,
    /// `protocol-webhooks inbox stats --json` after the drain.
    pub inbox: serde_json::Value,
    /// Whether the final SIGTERM stopped the example with status 0 and
    /// the worker's `Stopped` logged.
    pub stopped_cleanly: bool,
    /// From the first event to the drained inbox.
    pub elapsed: Duration,
}

impl Report {
    /// Counts each event's delivery (acknowledged, 202 or 200, requests,
    /// failures) and returns the ids acknowledged.
    pub fn tally(
        &mut self,
        outcomes: impl IntoIterator<Item = (String, Result<crate::Delivered, String>)>,
    ) -> HashSet<String> {
        let mut acknowledged = HashSet::new();
        for (id, outcome) in outcomes {
            match outcome {
                Ok(crate::Delivered { status, requests }) => {
                    self.requests += u64::from(requests);
                    self.acknowledged += 1;
                    if status == 202 {
                        self.stored += 1;
                    } else {
                        self.already_stored += 1;
                    }
                    acknowledged.insert(id);
                }
                Err(error) => self.delivery_errors.push(error),
            }
        }
        acknowledged
    }

    /// What went wrong; empty when nothing did.
    #[must_use]
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let handled = &self.handled;
        if !handled.lost.is_empty() {
            problems.push(format!(
                "{} acknowledged events were never handled: {:?}",
                handled.lost.len(),
                first(&handled.lost)
            ));
        }
        if self.acknowledged != self.sent {
            problems.push(format!(
                "{} of {} events were not acknowledged: {:?}",
                self.sent - self.acknowledged,
                self.sent,
                first(&self.delivery_errors)
            ));
        }
        if !handled.unknown.is_empty() {
            problems.push(format!(
                "the handler's record has ids that are no event sent: {:?}",
                first(&handled.unknown)
            ));
        }
        // Only a kill between a handler's effect and its done makes a
        // duplicate, at most one per running handler; with the effect in
        // the done's transaction there is no such moment.
        let bound = self.kills * self.concurrency;
        if self.exactly_once && handled.more_than_once > 0 {
            problems.push(format!(
                "{} events were handled more than once ({} extra handlings), though the \
                 effect commits with the inbox's done",
                handled.more_than_once, handled.extra_runs
            ));
        } else if handled.extra_runs > bound {
            problems.push(format!(
                "{} extra handlings: more than {} kills x {} handlers can explain",
                handled.extra_runs, self.kills, self.concurrency
            ));
        }
        let count = |state: &str| self.inbox.get(state).and_then(serde_json::Value::as_u64);
        if count("done") != Some(self.sent as u64) || count("total") != Some(self.sent as u64) {
            problems.push(format!(
                "the inbox should hold every event, done: {}",
                self.inbox
            ));
        }
        if self.kills == 0 {
            problems.push("the example was never killed".to_owned());
        }
        if !self.stopped_cleanly {
            problems.push(
                "SIGTERM did not stop the example with status 0 and `worker stopped` logged"
                    .to_owned(),
            );
        }
        problems
    }
}

fn first(items: &[String]) -> &[String] {
    &items[..items.len().min(10)]
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let handled = &self.handled;
        writeln!(f, "inbox kill/restart run, {:.1?}", self.elapsed)?;
        writeln!(f, "  sent                      {}", self.sent)?;
        writeln!(
            f,
            "  acknowledged (2xx)        {} (202 stored {}, 200 already stored {}; {} requests)",
            self.acknowledged, self.stored, self.already_stored, self.requests
        )?;
        writeln!(
            f,
            "  kills (SIGKILL)           {} ({} starts)",
            self.kills, self.starts
        )?;
        writeln!(f, "  handled once              {}", handled.once)?;
        if self.exactly_once {
            writeln!(
                f,
                "  handled more than once    {} ({} extra handlings; must be 0: the effect commits with the done)",
                handled.more_than_once, handled.extra_runs
            )?;
        } else {
            writeln!(
                f,
                "  handled more than once    {} ({} extra handlings; at most kills x {} handlers)",
                handled.more_than_once, handled.extra_runs, self.concurrency
            )?;
        }
        writeln!(f, "  lost (2xx, never handled) {}", handled.lost.len())?;
        writeln!(f, "  unknown records           {}", handled.unknown.len())?;
        writeln!(f, "  inbox after the drain     {}", self.inbox)?;
        write!(f, "  stopped cleanly           {}", self.stopped_cleanly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> HashSet<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn the_record_is_counted_against_the_acknowledged_events() {
        let sent = ids(&["a", "b", "c", "d"]);
        let acknowledged = ids(&["a", "b", "c"]);
        let lines: Vec<String> = ["a", "b", "b", "b", "d", "torn"]
            .iter()
            .map(|line| (*line).to_owned())
            .collect();
        let handled = Handled::count(&sent, &acknowledged, &lines);
        assert_eq!(
            handled,
            Handled {
                once: 1,
                more_than_once: 1,
                extra_runs: 2,
                lost: vec!["c".to_owned()],
                unknown: vec!["torn".to_owned()],
            }
        );
    }

    #[test]
    fn a_clean_run_has_no_problems_and_a_lost_event_is_one() {
        let mut report = Report {
            sent: 2,
            acknowledged: 2,
            kills: 1,
            concurrency: 4,
            handled: Handled {
                once: 2,
                ..Handled::default()
            },
            inbox: serde_json::json!({"done": 2, "total": 2}),
            stopped_cleanly: true,
            ..Report::default()
        };
        assert_eq!(report.problems(), Vec::<String>::new());
        report.handled.lost.push("b".to_owned());
        report.handled.extra_runs = 5;
        assert_eq!(report.problems().len(), 2);
    }

    #[test]
    fn with_the_effect_in_the_inbox_transaction_one_duplicate_is_a_problem() {
        let mut report = Report {
            sent: 2,
            acknowledged: 2,
            kills: 3,
            concurrency: 4,
            handled: Handled {
                once: 1,
                more_than_once: 1,
                extra_runs: 1,
                ..Handled::default()
            },
            inbox: serde_json::json!({"done": 2, "total": 2}),
            stopped_cleanly: true,
            ..Report::default()
        };
        // Within kills x handlers: allowed when at least once.
        assert_eq!(report.problems(), Vec::<String>::new());
        report.exactly_once = true;
        let problems = report.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("handled more than once"),
            "{problems:?}"
        );
    }
}
