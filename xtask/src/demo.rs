//! `cargo xtask demo [--framework NAME]`: runs an example receiver and drives
//! it with the `protocol-webhooks` CLI, to show the whole path working.
//!
//! Steps: build `example-<framework>` and the CLI; start the example on a free
//! loopback port with a demo secret; wait until it is listening; send all 15
//! sample events (each must be accepted), then one tampered and one unsigned
//! event (each must be refused with 401); print a table of the answers. The
//! server is stopped whatever happens.
//!
//! The verdicts come from the CLI's report lines, whose format `send`
//! documents: `<type>  <status>  <latency> ms  <body>`, status `---` when no
//! answer came back.

use core::fmt;
use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::ffi::OsString;
use std::io::{self, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};

use crate::cmd::describe;
use crate::paths::{self, PathsError};
use crate::server::{NotReady, Process, free_port};

/// The example receivers, by the framework they use.
const FRAMEWORKS: [&str; 5] = ["axum", "actix-web", "warp", "rocket", "poem"];
const DEFAULT_FRAMEWORK: &str = "axum";

const CLI_PACKAGE: &str = "protocol-webhooks-cli";
const CLI_BINARY: &str = "protocol-webhooks";

/// A throwaway secret shared by the demo server and the CLI.
const DEMO_SECRET: &str = "whsec_demo_not_for_production";
const SECRET_VAR: &str = "PROTOCOL_WEBHOOK_SECRET";

/// Long enough for a cold example to start, short enough that a broken one
/// does not hang the demo.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const POLL_INTERVAL: Duration = Duration::from_millis(100);

const USAGE: &str = "usage: cargo xtask demo [--framework axum|actix-web|warp|rocket|poem]";

/// Why the demo did not pass.
#[derive(Debug)]
pub(crate) enum DemoError {
    /// An argument the demo does not know.
    UnknownArgument(String),
    /// `--framework` names no example.
    UnknownFramework(String),
    /// `--framework` without a value.
    MissingFramework,
    /// A program could not be started.
    Spawn { program: String, error: io::Error },
    /// A program ran and failed.
    CommandFailed { command: String, status: ExitStatus },
    /// The repository or the target directory could not be located.
    Paths(PathsError),
    /// No loopback port could be reserved.
    NoFreePort(io::Error),
    /// The server stopped before it was ready.
    ServerExited { status: ExitStatus, log: String },
    /// The server was not listening in time.
    ServerNotReady { log: String },
    /// The CLI printed a line that is not a report line.
    UnreadableReport { line: String },
    /// The CLI failed without reporting on its requests.
    CliFailed { status: ExitStatus, stderr: String },
    /// The demo table could not be printed.
    Output(io::Error),
    /// Some answers were not the expected ones.
    Unexpected { failures: usize },
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownArgument(argument) => write!(f, "unknown argument `{argument}`\n{USAGE}"),
            Self::UnknownFramework(name) => write!(
                f,
                "unknown framework `{name}`: expected one of {}",
                FRAMEWORKS.join(", ")
            ),
            Self::MissingFramework => write!(f, "--framework needs a value\n{USAGE}"),
            Self::Spawn { program, error } => write!(f, "cannot start {program}: {error}"),
            Self::CommandFailed { command, status } => write!(f, "`{command}` failed: {status}"),
            Self::Paths(error) => write!(f, "{error}"),
            Self::NoFreePort(error) => write!(f, "cannot reserve a loopback port: {error}"),
            Self::ServerExited { status, log } => {
                write!(f, "the example server exited before listening ({status})")?;
                write_log(f, log)
            }
            Self::ServerNotReady { log } => {
                write!(
                    f,
                    "the example server was not listening after {} s",
                    READY_TIMEOUT.as_secs()
                )?;
                write_log(f, log)
            }
            Self::UnreadableReport { line } => {
                write!(f, "cannot read the CLI's report line `{line}`")
            }
            Self::CliFailed { status, stderr } => {
                write!(f, "the CLI failed ({status}): {}", stderr.trim_end())
            }
            Self::Output(error) => write!(f, "cannot print the results: {error}"),
            Self::Unexpected { failures } => {
                write!(f, "{failures} answer(s) were not the expected ones")
            }
        }
    }
}

impl core::error::Error for DemoError {}

fn write_log(f: &mut fmt::Formatter<'_>, log: &str) -> fmt::Result {
    if log.is_empty() {
        Ok(())
    } else {
        write!(f, "; its last output:\n{log}")
    }
}

/// Runs the demo. `args` are the arguments after `demo`.
pub(crate) fn run(args: &[String]) -> Result<(), DemoError> {
    let Some(framework) = parse_args(args)? else {
        return writeln!(io::stdout().lock(), "{USAGE}").map_err(DemoError::Output);
    };
    let root = paths::project_root();
    let target = paths::target_dir(&root).map_err(DemoError::Paths)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let example = format!("example-{framework}");

    run_checked(
        Command::new(&cargo)
            .current_dir(&root)
            .args(["build", "-p", &example, "-p", CLI_PACKAGE, "--target-dir"])
            .arg(&target),
    )?;
    let binary = |name: &str| {
        target
            .join("debug")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
    };

    let port = free_port().map_err(DemoError::NoFreePort)?;
    let url = format!("http://127.0.0.1:{port}/webhooks");
    progress(&format!(
        "starting {example}, waiting for it to listen on {url}"
    ));
    let mut server = start_server(&binary(&example), port)?;
    wait_until_ready(&mut server, port)?;
    progress("sending 15 signed events, one tampered and one unsigned");

    let cli = binary(CLI_BINARY);
    let mut rows = Vec::new();
    for run in RUNS {
        let mut args = vec!["send", url.as_str()];
        args.extend_from_slice(run.args);
        let output = capture(Command::new(&cli).args(&args).env(SECRET_VAR, DEMO_SECRET))?;
        rows.extend(rows_of(run, &output)?);
    }
    // Stopped before printing, so its log cannot interleave with the table.
    drop(server);

    print_table(&framework, &rows)?;
    let failures = rows
        .iter()
        .filter(|row| row.verdict == Verdict::Unexpected)
        .count();
    if failures == 0 {
        Ok(())
    } else {
        Err(DemoError::Unexpected { failures })
    }
}

/// A step of the demo on stderr, next to cargo's own progress. Losing such
/// a line is harmless, so a write error is ignored.
fn progress(message: &str) {
    let _ = writeln!(io::stderr().lock(), "demo: {message}");
}

/// The framework to demo, or `None` when help was asked for.
fn parse_args(args: &[String]) -> Result<Option<String>, DemoError> {
    let mut framework = String::from(DEFAULT_FRAMEWORK);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--framework" => args.next().ok_or(DemoError::MissingFramework)?.clone(),
            other => match other.strip_prefix("--framework=") {
                Some(value) => value.to_owned(),
                None => return Err(DemoError::UnknownArgument(other.to_owned())),
            },
        };
        if !FRAMEWORKS.contains(&value.as_str()) {
            return Err(DemoError::UnknownFramework(value));
        }
        framework = value;
    }
    Ok(Some(framework))
}

/// Runs with inherited output and fails unless it succeeds.
fn run_checked(command: &mut Command) -> Result<(), DemoError> {
    let status = command.status().map_err(|error| DemoError::Spawn {
        program: describe(command),
        error,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(DemoError::CommandFailed {
            command: describe(command),
            status,
        })
    }
}

/// Runs and captures stdout and stderr, whatever the exit status.
fn capture(command: &mut Command) -> Result<Output, DemoError> {
    command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| DemoError::Spawn {
            program: describe(command),
            error,
        })
}

/// The example, with its output kept to tell when it is listening and, if
/// it fails, why.
fn start_server(binary: &Path, port: u16) -> Result<Process, DemoError> {
    Process::spawn_logged(
        Command::new(binary)
            .env(SECRET_VAR, DEMO_SECRET)
            .env("PORT", port.to_string())
            // Plain log lines, so the readiness message can be matched.
            .env("NO_COLOR", "1")
            .stdin(Stdio::null()),
    )
    .map_err(|error| DemoError::Spawn {
        program: binary.display().to_string(),
        error,
    })
}

/// Waits for the readiness line, or for the port to accept connections
/// (in case the log is filtered), within [`READY_TIMEOUT`].
fn wait_until_ready(server: &mut Process, port: u16) -> Result<(), DemoError> {
    let needle = format!("listening on http://127.0.0.1:{port}");
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let outcome = server.wait_until_ready(READY_TIMEOUT, POLL_INTERVAL, |server| {
        let listening =
            server.printed(&needle) || TcpStream::connect_timeout(&address, POLL_INTERVAL).is_ok();
        if listening { Ok(()) } else { Err(()) }
    });
    match outcome {
        Ok(()) => Ok(()),
        Err(NotReady::Exited(status)) => Err(DemoError::ServerExited {
            status,
            log: server.log_tail(),
        }),
        Err(NotReady::TimedOut(())) => Err(DemoError::ServerNotReady {
            log: server.log_tail(),
        }),
    }
}

/// One CLI invocation of the demo.
#[derive(Debug, Clone, Copy)]
struct DemoRun {
    args: &'static [&'static str],
    /// Added to the type in the table.
    suffix: &'static str,
    expectation: Expectation,
    /// How many report lines it must print.
    requests: usize,
}

const RUNS: [DemoRun; 3] = [
    DemoRun {
        args: &["--all"],
        suffix: "",
        expectation: Expectation::Accepted,
        requests: 15,
    },
    DemoRun {
        args: &["--event", "message.created", "--tamper"],
        suffix: " (tampered)",
        expectation: Expectation::Refused,
        requests: 1,
    },
    DemoRun {
        args: &["--event", "message.created", "--unsigned"],
        suffix: " (unsigned)",
        expectation: Expectation::Refused,
        requests: 1,
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expectation {
    /// Any 2xx.
    Accepted,
    /// 401.
    Refused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Accepted,
    RefusedAsExpected,
    Unexpected,
}

impl Verdict {
    fn of(expectation: Expectation, status: Option<u16>) -> Self {
        match (expectation, status) {
            (Expectation::Accepted, Some(200..=299)) => Self::Accepted,
            (Expectation::Refused, Some(401)) => Self::RefusedAsExpected,
            _ => Self::Unexpected,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Accepted => "accepted",
            Self::RefusedAsExpected => "refused as expected",
            Self::Unexpected => "UNEXPECTED",
        })
    }
}

/// One line of the demo table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    label: String,
    status: String,
    verdict: Verdict,
}

/// The rows for one CLI run: one per report line, plus an `UNEXPECTED` row
/// for each request the CLI did not report on (it stops at the first one
/// without an answer).
fn rows_of(run: DemoRun, output: &Output) -> Result<Vec<Row>, DemoError> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut rows = Vec::new();
    for line in stdout.lines().filter(|line| !line.trim().is_empty()) {
        let (label, status) =
            parse_report_line(line).ok_or_else(|| DemoError::UnreadableReport {
                line: line.to_owned(),
            })?;
        rows.push(Row {
            label: format!("{label}{}", run.suffix),
            verdict: Verdict::of(run.expectation, status.parse().ok()),
            status: status.to_owned(),
        });
    }
    // Exit status 2 is a usage error: nothing was sent, nothing to tabulate.
    if rows.is_empty() && output.status.code() == Some(2) {
        return Err(DemoError::CliFailed {
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    while rows.len() < run.requests {
        rows.push(Row {
            label: format!("(not sent){}", run.suffix),
            status: String::from("---"),
            verdict: Verdict::Unexpected,
        });
    }
    Ok(rows)
}

/// Type and status of a report line: `<type> <status> <latency> ms [body]`.
fn parse_report_line(line: &str) -> Option<(&str, &str)> {
    let mut fields = line.split_whitespace();
    let label = fields.next()?;
    let status = fields.next()?;
    let latency = fields.next()?;
    let unit = fields.next()?;
    let status_ok = status == "---" || (status.len() == 3 && status.parse::<u16>().is_ok());
    (status_ok && latency.parse::<u64>().is_ok() && unit == "ms").then_some((label, status))
}

fn print_table(framework: &str, rows: &[Row]) -> Result<(), DemoError> {
    let width = rows
        .iter()
        .map(|row| row.label.len())
        .chain([4])
        .max()
        .unwrap_or(4);
    let mut out = io::stdout().lock();
    let mut write = || -> io::Result<()> {
        writeln!(out)?;
        writeln!(out, "{:<width$}  STATUS  VERDICT", "TYPE")?;
        for row in rows {
            writeln!(
                out,
                "{:<width$}  {:<6}  {}",
                row.label, row.status, row.verdict
            )?;
        }
        let count = |verdict| rows.iter().filter(|row| row.verdict == verdict).count();
        writeln!(
            out,
            "\n{framework}: {} accepted, {} refused as expected, {} unexpected",
            count(Verdict::Accepted),
            count(Verdict::RefusedAsExpected),
            count(Verdict::Unexpected)
        )
    };
    write().map_err(DemoError::Output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn framework_argument() {
        assert_eq!(parse_args(&[]).ok().flatten().as_deref(), Some("axum"));
        for framework in FRAMEWORKS {
            let separate = parse_args(&strings(&["--framework", framework]));
            assert_eq!(separate.ok().flatten().as_deref(), Some(framework));
            let joined = parse_args(&[format!("--framework={framework}")]);
            assert_eq!(joined.ok().flatten().as_deref(), Some(framework));
        }
        assert!(matches!(parse_args(&strings(&["--help"])), Ok(None)));
        assert!(matches!(
            parse_args(&strings(&["--framework", "tide"])),
            Err(DemoError::UnknownFramework(name)) if name == "tide"
        ));
        assert!(matches!(
            parse_args(&strings(&["--framework"])),
            Err(DemoError::MissingFramework)
        ));
        assert!(matches!(
            parse_args(&strings(&["--release"])),
            Err(DemoError::UnknownArgument(_))
        ));
    }

    #[test]
    fn report_lines() {
        assert_eq!(
            parse_report_line(r#"message.created       200     12 ms  {"id":"evt_1"}"#),
            Some(("message.created", "200"))
        );
        assert_eq!(
            parse_report_line("contact.deleted       ---      1 ms  connection refused"),
            Some(("contact.deleted", "---"))
        );
        assert_eq!(
            parse_report_line("contact.deleted       204      0 ms"),
            Some(("contact.deleted", "204"))
        );
        assert_eq!(parse_report_line("error: something"), None);
        assert_eq!(parse_report_line("a 2000 1 ms"), None);
    }

    #[cfg(unix)]
    fn output(code: i32, stdout: &str) -> Output {
        use std::os::unix::process::ExitStatusExt as _;
        Output {
            status: ExitStatus::from_raw(code << 8),
            stdout: stdout.as_bytes().to_vec(),
            stderr: b"error: something".to_vec(),
        }
    }

    #[cfg(unix)]
    #[test]
    fn rows_for_each_run() {
        let tampered = RUNS[1];
        let rows = rows_of(
            tampered,
            &output(0, "message.created       401      2 ms  {}\n"),
        )
        .expect("rows");
        assert_eq!(
            rows,
            [Row {
                label: String::from("message.created (tampered)"),
                status: String::from("401"),
                verdict: Verdict::RefusedAsExpected,
            }]
        );

        // The CLI stops at the first request without an answer: the rest
        // count as unexpected.
        let all = RUNS[0];
        let rows = rows_of(
            all,
            &output(
                1,
                "contact.created       ---      0 ms  connection refused\n",
            ),
        )
        .expect("rows");
        assert_eq!(rows.len(), 15);
        assert!(rows.iter().all(|row| row.verdict == Verdict::Unexpected));

        assert!(matches!(
            rows_of(all, &output(2, "")),
            Err(DemoError::CliFailed { .. })
        ));
        assert!(matches!(
            rows_of(all, &output(0, "garbage\n")),
            Err(DemoError::UnreadableReport { .. })
        ));
    }

    /// A stand-in server: a shell script run with the demo's environment.
    #[cfg(unix)]
    fn script(name: &str, body: &str) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = std::env::temp_dir().join(format!("xtask-demo-{}-{name}", std::process::id()));
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_server_is_ready_on_its_log_line_and_killed_on_drop() {
        let script = script(
            "ready",
            r#"test "$PROTOCOL_WEBHOOK_SECRET" = whsec_demo_not_for_production || exit 1
echo "INFO listening on http://127.0.0.1:$PORT"
exec sleep 30"#,
        );
        let port = free_port().expect("port");
        let mut server = start_server(&script, port).expect("start");
        let pid = server.id();
        wait_until_ready(&mut server, port).expect("ready from the log line");
        assert!(Path::new(&format!("/proc/{pid}")).exists(), "still running");
        drop(server);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "killed and reaped"
        );
        let _ = std::fs::remove_file(script);
    }

    #[cfg(unix)]
    #[test]
    fn a_server_that_exits_early_is_reported_with_its_output() {
        let script = script("exits", "echo 'cannot bind' >&2; exit 3");
        let port = free_port().expect("port");
        let mut server = start_server(&script, port).expect("start");
        match wait_until_ready(&mut server, port) {
            Err(DemoError::ServerExited { status, log }) => {
                assert_eq!(status.code(), Some(3));
                assert!(log.contains("cannot bind"), "{log}");
            }
            other => panic!("expected an early exit, got {other:?}"),
        }
        let _ = std::fs::remove_file(script);
    }

    #[test]
    fn verdicts() {
        assert_eq!(
            Verdict::of(Expectation::Accepted, Some(200)),
            Verdict::Accepted
        );
        assert_eq!(
            Verdict::of(Expectation::Accepted, Some(204)),
            Verdict::Accepted
        );
        assert_eq!(
            Verdict::of(Expectation::Accepted, Some(401)),
            Verdict::Unexpected
        );
        assert_eq!(
            Verdict::of(Expectation::Accepted, None),
            Verdict::Unexpected
        );
        assert_eq!(
            Verdict::of(Expectation::Refused, Some(401)),
            Verdict::RefusedAsExpected
        );
        assert_eq!(
            Verdict::of(Expectation::Refused, Some(200)),
            Verdict::Unexpected
        );
        assert_eq!(
            Verdict::of(Expectation::Refused, Some(400)),
            Verdict::Unexpected
        );
    }
}
