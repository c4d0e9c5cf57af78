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

use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::net::TcpStream;
use std::process::Output;

use pico_args::Arguments;

use crate::cmd::Cmd;
use crate::server::{Process, free_port};
use crate::{Error, Result, framework};

const CLI_PACKAGE: &str = "protocol-webhooks-cli";
const CLI_BINARY: &str = "protocol-webhooks";

/// A throwaway secret shared by the demo server and the CLI.
const DEMO_SECRET: &str = "whsec_demo_not_for_production";
const SECRET_VAR: &str = "PROTOCOL_WEBHOOK_SECRET";

/// Long enough for a cold example to start, short enough that a broken one
/// does not hang the demo.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// One CLI run: its arguments, what the table adds to each event type,
/// whether the server must refuse with 401 (rather than accept with any
/// 2xx), and how many report lines it must print.
type Run = (&'static str, &'static str, bool, usize);

const RUNS: [Run; 3] = [
    ("--all", "", false, 15),
    ("--event message.created --tamper", " (tampered)", true, 1),
    ("--event message.created --unsigned", " (unsigned)", true, 1),
];

/// The verdicts of the table.
const ACCEPTED: &str = "accepted";
const REFUSED: &str = "refused as expected";
const UNEXPECTED: &str = "UNEXPECTED";

pub(crate) fn run(mut args: Arguments) -> Result {
    let framework = args.opt_value_from_fn("--framework", framework)?;
    let framework = framework.unwrap_or("axum");
    crate::finish(args)?;
    let root = crate::project_root();
    let target = crate::target_dir()?;
    let example = format!("example-{framework}");
    let build = ["build", "-p", &example, "-p", CLI_PACKAGE, "--target-dir"];
    Cmd::cargo(&root).args(build).arg(&target).run()?;
    let binary = |name: &str| {
        let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
        Cmd::new(target.join("debug").join(file), &root).env(SECRET_VAR, DEMO_SECRET)
    };

    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}/webhooks");
    eprintln!("demo: starting {example}, waiting for it to listen on {url}");
    // Plain log lines, should a failure quote them.
    let server = binary(&example).env("PORT", &port.to_string());
    let mut server = Process::start(&server.env("NO_COLOR", "1"))?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    server.wait_until_ready(READY_TIMEOUT, POLL_INTERVAL, |_| {
        TcpStream::connect_timeout(&address, POLL_INTERVAL).is_ok()
    })?;
    eprintln!("demo: sending 15 signed events, one tampered and one unsigned");
    let send = binary(CLI_BINARY).args(["send", &url]);
    let mut rows = Vec::new();
    for run in RUNS {
        let output = send.clone().args(run.0.split_whitespace()).output()?;
        rows.extend(rows_of(run, &output)?);
    }
    drop(server);

    crate::print(&table(framework, &rows))?;
    let unexpected = rows.iter().filter(|row| row.2 == UNEXPECTED);
    match unexpected.count() {
        0 => Ok(()),
        n => Err(Error::Failed(format!("{n} answer(s) were not as expected"))),
    }
}

/// One line of the demo table: the event type, the status, the verdict.
type Row = (String, String, &'static str);

/// The rows for one CLI run: one per report line, plus an unexpected row
/// for each request the CLI did not report on (it stops at the first one
/// without an answer).
fn rows_of((_, suffix, refused, requests): Run, output: &Output) -> Result<Vec<Row>> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut rows = Vec::new();
    for line in stdout.lines().filter(|line| !line.trim().is_empty()) {
        let unreadable = || Error::Failed(format!("cannot read the CLI's report line `{line}`"));
        let (label, status) = parse_report_line(line).ok_or_else(unreadable)?;
        let verdict = match (refused, status.parse()) {
            (false, Ok(200..=299)) => ACCEPTED,
            (true, Ok(401)) => REFUSED,
            _ => UNEXPECTED,
        };
        rows.push((format!("{label}{suffix}"), status.to_owned(), verdict));
    }
    // Exit status 2 is a usage error: nothing was sent, nothing to tabulate.
    if rows.is_empty() && output.status.code() == Some(2) {
        let (status, stderr) = (output.status, String::from_utf8_lossy(&output.stderr));
        let stderr = stderr.trim_end();
        return Err(Error::Failed(format!(
            "the CLI failed ({status}): {stderr}"
        )));
    }
    while rows.len() < requests {
        rows.push((
            format!("(not sent){suffix}"),
            String::from("---"),
            UNEXPECTED,
        ));
    }
    Ok(rows)
}

/// Type and status of a report line: `<type> <status> <latency> ms [body]`.
fn parse_report_line(line: &str) -> Option<(&str, &str)> {
    let mut fields = line.split_whitespace();
    let (label, status) = (fields.next()?, fields.next()?);
    let (latency, unit) = (fields.next()?, fields.next()?);
    let status_ok = status == "---" || (status.len() == 3 && status.parse::<u16>().is_ok());
    (status_ok && latency.parse::<u64>().is_ok() && unit == "ms").then_some((label, status))
}

fn table(framework: &str, rows: &[Row]) -> String {
    let width = rows.iter().map(|row| row.0.len()).fold(4, usize::max);
    let mut text = format!("\n{:<width$}  STATUS  VERDICT\n", "TYPE");
    for (label, status, verdict) in rows {
        text += &format!("{label:<width$}  {status:<6}  {verdict}\n");
    }
    let count = |verdict| rows.iter().filter(|row| row.2 == verdict).count();
    let (accepted, refused) = (count(ACCEPTED), count(REFUSED));
    let unexpected = count(UNEXPECTED);
    text + &format!(
        "\n{framework}: {accepted} accepted, {refused} refused as expected, {unexpected} unexpected\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines() {
        let read = |line| parse_report_line(line).map(|(label, status)| [label, status]);
        let created = r#"message.created  200  12 ms  {"id":"evt_1"}"#;
        assert_eq!(read(created), Some(["message.created", "200"]));
        let refused = "contact.deleted  ---  1 ms  connection refused";
        assert_eq!(read(refused), Some(["contact.deleted", "---"]));
        assert_eq!(
            read("contact.deleted 204 0 ms"),
            Some(["contact.deleted", "204"])
        );
        assert_eq!(read("error: something"), None);
        assert_eq!(read("a 2000 1 ms"), None);
    }

    fn output(code: i32, stdout: &str) -> Output {
        let script = format!(r#"printf %s "$1"; echo 'error: something' >&2; exit {code}"#);
        let sh = Cmd::new("sh", std::path::Path::new("/")).args(["-c", &script, "sh", stdout]);
        sh.output().expect("sh runs")
    }

    #[test]
    fn rows_verdicts_and_the_table() {
        let lines = "message.created  401  2 ms  {}\nmessage.created  200  2 ms  {}\n";
        let verdicts = |rows: &[Row]| rows.iter().map(|row| row.2).collect::<Vec<_>>();
        let rows = rows_of(RUNS[1], &output(0, lines)).expect("rows");
        assert_eq!(verdicts(&rows), [REFUSED, UNEXPECTED]);
        assert_eq!(
            table("poem", &rows[..1]),
            "\nTYPE                        STATUS  VERDICT\n\
             message.created (tampered)  401     refused as expected\n\
             \npoem: 0 accepted, 1 refused as expected, 0 unexpected\n"
        );
        let lines = "a  204  1 ms\nb  401  1 ms\n";
        let rows = rows_of(RUNS[0], &output(0, lines)).expect("rows");
        assert_eq!(verdicts(&rows[..2]), [ACCEPTED, UNEXPECTED]);

        // The CLI stops at the first request without an answer: the rest
        // count as unexpected.
        let refused = output(1, "contact.created  ---  0 ms  connection refused\n");
        let rows = rows_of(RUNS[0], &refused).expect("rows");
        assert_eq!(rows.len(), 15);
        assert!(rows.iter().all(|row| row.2 == UNEXPECTED));
        assert_eq!(rows[14].0, "(not sent)");

        let usage = rows_of(RUNS[0], &output(2, "")).expect_err("usage error");
        assert!(usage.to_string().ends_with("error: something"), "{usage}");
        assert!(rows_of(RUNS[0], &output(0, "garbage\n")).is_err());
    }
}
