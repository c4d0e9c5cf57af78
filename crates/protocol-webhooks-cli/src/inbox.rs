//! `inbox`: an operator's commands on a durable inbox of the
//! `protocol-webhooks-inbox` crate: counts, lists and entries, retrying dead
//! entries and purging old ones.
//!
//! Every command opens the inbox named by `--store` (or
//! `PROTOCOL_WEBHOOKS_INBOX`), which must exist: none creates one. Store
//! calls are async; each command drives them on a current-thread runtime.

mod age;
mod output;
mod store;

use std::io::{self, Write as _};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgGroup, Subcommand};
use protocol_webhooks_inbox::{InboxStore, State};

use crate::error::CliError;

use age::Age;
use output::ListLine;
use store::open_store;

/// How many entries `list` shows unless `--limit` says otherwise.
const DEFAULT_LIMIT: u32 = 100;

/// Arguments of `inbox`.
#[derive(Debug, clap::Args)]
#[command(
    arg_required_else_help = true,
    after_help = "\
TARGET is the inbox's SQLite file (a redis:// or rediss:// URL names a Redis inbox, in builds
with Redis support). It must exist: these commands never create an inbox. Over rediss:// (TLS),
the server's certificate must chain to a root the system trusts, or to one in SSL_CERT_FILE.

Exit status: 0 success; 1 the store failed, no such entry, or the entry to retry is not dead;
2 usage error, no inbox at TARGET, or TARGET cannot be opened as an inbox.

Example: protocol-webhooks inbox list --state dead --store /var/lib/app/inbox.sqlite3"
)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: InboxCommand,
}

/// Which inbox.
#[derive(Debug, clap::Args)]
struct StoreArgs {
    /// The inbox: its SQLite file (or a redis:// or rediss:// URL)
    // A Redis URL may carry a password: --help does not show the value.
    #[arg(
        long,
        value_name = "TARGET",
        env = "PROTOCOL_WEBHOOKS_INBOX",
        hide_env_values = true
    )]
    store: String,
}

#[derive(Debug, Subcommand)]
enum InboxCommand {
    /// Count the entries in each state
    Stats {
        /// Print one JSON object instead of a table
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List entries, oldest stored first: id, type, state, attempts, received, last error
    List {
        /// Only entries in this state
        #[arg(long, value_name = "STATE", value_parser = state_parser())]
        state: Option<State>,
        /// Show at most N entries
        #[arg(
            long,
            value_name = "N",
            default_value_t = DEFAULT_LIMIT,
            value_parser = clap::value_parser!(u32).range(1..)
        )]
        limit: u32,
        /// Print one JSON object per entry instead of a text line
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Show every field of one entry, or with --body its exact body bytes
    Show {
        /// The event id
        #[arg(value_name = "ID")]
        id: String,
        /// Print only the stored body, byte for byte
        #[arg(long, conflicts_with = "json")]
        body: bool,
        /// Print one JSON object, the body included as a string
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Make a dead entry, or every dead entry, pending again with fresh attempts
    #[command(group(ArgGroup::new("which").required(true).args(["id", "all_dead"])))]
    Retry {
        /// The id of a dead entry
        #[arg(value_name = "ID")]
        id: Option<String>,
        /// Retry every dead entry
        #[arg(long)]
        all_dead: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove dead or done entries unchanged for at least a given age
    #[command(
        group(ArgGroup::new("states").required(true).multiple(true).args(["dead", "done"])),
        after_help = "A purged event id is unknown to the inbox: if the same event is delivered \
                      again, it is stored and handled again. Keep done entries longer than \
                      senders may redeliver."
    )]
    Purge {
        /// Remove dead entries
        #[arg(long)]
        dead: bool,
        /// Remove done entries
        #[arg(long)]
        done: bool,
        /// Only entries unchanged for at least this long: 30s, 15m, 12h, 7d (0s: all)
        #[arg(long, value_name = "DURATION")]
        older_than: Age,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Parses a state name, listing the valid ones on a mistake.
fn state_parser() -> impl TypedValueParser<Value = State> {
    PossibleValuesParser::new(State::ALL.map(State::as_str)).try_map(|name| name.parse::<State>())
}

/// Runs one inbox command.
pub(crate) fn run(args: Args) -> Result<(), CliError> {
    // One thread is enough for a few store calls; a store that needs a
    // runtime when it opens finds this one.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(args.command.run())
}

impl InboxCommand {
    async fn run(self) -> Result<(), CliError> {
        match self {
            Self::Stats { json, store } => {
                let stats = open_store(&store.store)?.stats().await?;
                if json {
                    print(format_args!("{}\n", output::stats_json(&stats)))
                } else {
                    print(format_args!("{}", output::stats_table(&stats)))
                }
            }
            Self::List {
                state,
                limit,
                json,
                store,
            } => list(&*open_store(&store.store)?, state, limit, json).await,
            Self::Show {
                id,
                body,
                json,
                store,
            } => {
                let entry = open_store(&store.store)?
                    .show(&id)
                    .await?
                    .ok_or(CliError::NoEntry { id })?;
                if body {
                    write_bytes(&entry.body)
                } else if json {
                    print(format_args!("{}\n", output::show_json(&entry)))
                } else {
                    print(format_args!("{}", output::show_text(&entry)))
                }
            }
            Self::Retry {
                id,
                all_dead: _,
                store,
            } => {
                let store = open_store(&store.store)?;
                let retried = match id {
                    Some(id) => retry_one(&*store, id).await?,
                    None => store.retry_all_dead().await?,
                };
                print(format_args!("retried {retried}\n"))
            }
            Self::Purge {
                dead,
                done,
                older_than,
                store,
            } => {
                let store = open_store(&store.store)?;
                let age = older_than.duration();
                if dead {
                    let purged = store.purge_dead(age).await?;
                    print_purged(purged, State::Dead, older_than)?;
                }
                if done {
                    let purged = store.purge_done(age).await?;
                    print_purged(purged, State::Done, older_than)?;
                }
                Ok(())
            }
        }
    }
}

/// Prints up to `limit` entries; says on stderr when there are more.
async fn list(
    store: &dyn InboxStore,
    state: Option<State>,
    limit: u32,
    json: bool,
) -> Result<(), CliError> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    // One more than shown, to tell whether the list was cut.
    let mut entries = store.list(state, limit.saturating_add(1)).await?;
    let more = entries.len() > limit;
    entries.truncate(limit);
    let mut text = String::new();
    for entry in &entries {
        if json {
            text.push_str(&output::summary_json(entry).to_string());
        } else {
            text.push_str(&ListLine(entry).to_string());
        }
        text.push('\n');
    }
    print(format_args!("{text}"))?;
    if more {
        let _ = writeln!(
            io::stderr().lock(),
            "showing the first {limit} entries; pass --limit for more"
        );
    }
    Ok(())
}

/// Retries one entry; when it is not dead, says what it is instead.
async fn retry_one(store: &dyn InboxStore, id: String) -> Result<u64, CliError> {
    if store.retry(&id).await? {
        return Ok(1);
    }
    match store.show(&id).await? {
        Some(entry) => Err(CliError::NotDead {
            id,
            state: entry.summary.state,
        }),
        None => Err(CliError::NoEntry { id }),
    }
}

/// `purged 12 dead entries older than 7d`.
fn print_purged(purged: u64, state: State, older_than: Age) -> Result<(), CliError> {
    let entries = if purged == 1 { "entry" } else { "entries" };
    print(format_args!(
        "purged {purged} {state} {entries} older than {older_than}\n"
    ))
}

fn print(text: core::fmt::Arguments<'_>) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    out.write_fmt(text)
        .and_then(|()| out.flush())
        .map_err(CliError::WriteOutput)
}

fn write_bytes(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(CliError::WriteOutput)
}
