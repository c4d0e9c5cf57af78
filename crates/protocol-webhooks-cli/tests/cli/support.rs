//! Running the binary, fixtures and scratch files.

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_protocol-webhooks");

/// Protocol-independent signature vectors (Python's `hmac` and Node's `crypto`).
const SIGNATURES: &str =
    include_str!("../../../protocol-webhooks/fixtures/vectors/signatures.json");

/// The documented `message.updated` webhook body, pretty-printed, ending in a newline.
pub(crate) const MESSAGE_UPDATED_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../protocol-webhooks/fixtures/events/message.updated.json"
);

/// The binary, with no secret and no inbox inherited from the environment.
pub(crate) fn cli<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("PROTOCOL_WEBHOOK_SECRET")
        .env_remove("PROTOCOL_WEBHOOKS_INBOX");
    command
}

/// Runs `command` with `stdin` as its standard input.
pub(crate) fn run(command: &mut Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut input = child.stdin.take().expect("piped stdin");
    std::thread::scope(|scope| {
        // Written from another thread so that a large body cannot deadlock
        // against a full stdout pipe.
        scope.spawn(move || {
            // A command that exits before reading (a usage error) closes the pipe.
            let _ = input.write_all(stdin);
        });
        child.wait_with_output().expect("the binary finishes")
    })
}

/// The exit code; a signal (no code) fails the test.
pub(crate) fn code(output: &Output) -> i32 {
    output
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {output:?}"))
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A scratch file holding exactly `bytes`, unique to `name`.
pub(crate) fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    std::fs::write(&path, bytes).expect("write scratch file");
    path
}

/// One signature vector.
#[derive(Debug, Clone)]
pub(crate) struct Vector {
    pub(crate) name: String,
    pub(crate) secret: Vec<u8>,
    pub(crate) body: Vec<u8>,
    pub(crate) signature: String,
}

pub(crate) fn vectors() -> Vec<Vector> {
    let cases: Vec<Value> = serde_json::from_str(SIGNATURES).expect("signatures.json is JSON");
    let text = |case: &Value, field: &str| {
        case[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} of {case}"))
            .to_owned()
    };
    cases
        .iter()
        .map(|case| Vector {
            name: text(case, "name"),
            secret: unhex(&text(case, "secret_hex")),
            body: unhex(&text(case, "body_hex")),
            signature: text(case, "signature"),
        })
        .collect()
}

pub(crate) fn vector(name: &str) -> Vector {
    vectors()
        .into_iter()
        .find(|vector| vector.name == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).expect("hex"))
        .collect()
}
