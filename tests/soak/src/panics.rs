//! Panics on server threads.
//!
//! Frameworks catch a panicking handler or connection task and keep
//! serving, so a panic is invisible to the client. A panic hook records
//! every panic with the name of its thread; scenarios then look for those
//! on their server's threads.

use std::sync::{Mutex, Once, PoisonError};

static PANICS: Mutex<Vec<Panic>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

struct Panic {
    thread: String,
    message: String,
}

/// Installs the recording hook once, in front of the existing one, so
/// panics are still printed as usual.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current()
                .name()
                .unwrap_or("<unnamed>")
                .to_owned();
            PANICS
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Panic {
                    thread,
                    message: info.to_string(),
                });
            previous(info);
        }));
    });
}

/// A position in the record: panics after it are the ones to check.
pub(crate) fn mark() -> usize {
    PANICS.lock().unwrap_or_else(PoisonError::into_inner).len()
}

/// Panics since `mark` on threads whose name starts with one of `prefixes`,
/// as `thread: message`.
pub(crate) fn since(mark: usize, prefixes: &[&str]) -> Vec<String> {
    PANICS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .skip(mark)
        .filter(|panic| {
            prefixes
                .iter()
                .any(|prefix| panic.thread.starts_with(prefix))
        })
        .map(|panic| format!("{}: {}", panic.thread, panic.message))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_panics_by_thread() {
        install();
        let mark = mark();
        let joined = std::thread::Builder::new()
            .name(String::from("soak-probe-thread"))
            .spawn(|| panic!("probe panic"))
            .expect("spawn")
            .join();
        assert!(joined.is_err());
        let found = since(mark, &["soak-probe"]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("probe panic"), "{found:?}");
        assert!(since(mark, &["soak-other"]).is_empty());
    }
}
