//! `--store TARGET`: which inbox the commands work on.
//!
//! A target is a SQLite file path, or a `redis://` or `rediss://` (TLS) URL
//! for a Redis inbox (the store's default key prefix).

use alloc::sync::Arc;
use std::path::Path;

use protocol_webhooks_inbox::{InboxStore, RedisStore, SqliteStore};

use crate::error::CliError;

/// The URL schemes of a Redis target.
const REDIS_SCHEMES: [&str; 2] = ["redis://", "rediss://"];

/// Opens the inbox at `target`, which must exist: the operator's commands
/// never create an inbox (opening a SQLite file that is not there would
/// create an empty one, hiding a mistyped path).
///
/// # Errors
/// [`CliError::NoInbox`] when the file does not exist,
/// [`CliError::InboxPath`] when that cannot be checked,
/// [`CliError::OpenInbox`] when the store does not open (e.g. the file is
/// not an inbox database, or the URL is not a valid Redis URL).
pub(crate) fn open_store(target: &str) -> Result<Arc<dyn InboxStore>, CliError> {
    if is_redis(target) {
        return open_redis(target);
    }
    let path = Path::new(target);
    match path.try_exists() {
        Ok(true) => {}
        Ok(false) => {
            return Err(CliError::NoInbox {
                path: path.to_path_buf(),
            });
        }
        Err(error) => {
            return Err(CliError::InboxPath {
                path: path.to_path_buf(),
                error,
            });
        }
    }
    let store = SqliteStore::open(path).map_err(|error| CliError::OpenInbox {
        target: path.display().to_string(),
        error,
    })?;
    Ok(Arc::new(store))
}

/// Whether `target` names a Redis server rather than a file. The scheme is
/// case-insensitive, as in any URL.
fn is_redis(target: &str) -> bool {
    REDIS_SCHEMES.iter().any(|scheme| {
        target
            .get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    })
}

/// A Redis target, connected on first use: an unreachable server is then
/// the first command's store error. The URL is never shown, as it may hold
/// a password.
fn open_redis(url: &str) -> Result<Arc<dyn InboxStore>, CliError> {
    let store = RedisStore::options()
        .open_lazy(url)
        .map_err(|error| CliError::OpenInbox {
            target: String::from("the Redis URL"),
            error,
        })?;
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls_are_told_from_paths() {
        for url in [
            "redis://127.0.0.1:6379/0",
            "rediss://user:pass@cache.internal",
            "REDIS://host",
        ] {
            assert!(is_redis(url), "{url}");
        }
        for path in [
            "inbox.sqlite3",
            "./redis://x",
            "/var/lib/redis/inbox.db",
            "redis:",
            "",
            "é",
        ] {
            assert!(!is_redis(path), "{path}");
        }
    }

    #[test]
    fn a_missing_file_is_not_created() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("absent.sqlite3");
        let target = path.to_str().expect("UTF-8 temp path");
        let Err(error) = open_store(target) else {
            panic!("a missing inbox opened");
        };
        assert!(matches!(error, CliError::NoInbox { .. }), "{error:?}");
        assert!(!path.exists());
    }
}
