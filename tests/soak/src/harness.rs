//! What every soak test does with its scenario.

use crate::{Report, Settings};

/// Runs `scenario` at the sizes the environment sets
/// ([`Settings::from_env`]), prints its report whether or not the
/// framework passed, and fails the test on any problem the report finds.
/// `what` names the run when it cannot happen at all.
///
/// # Panics
/// When the settings are invalid, when the scenario cannot run, and when
/// its report finds a problem.
#[track_caller]
pub fn run_scenario<R: Report>(what: &str, scenario: impl FnOnce(&Settings) -> Result<R, String>) {
    let settings = Settings::from_env().expect("soak settings");
    let report = scenario(&settings).expect(what);
    eprintln!("{report}");
    if let Err(problems) = report.check() {
        panic!("{problems}");
    }
}
