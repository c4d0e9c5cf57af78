//! The example as a user runs it: against the Redis in `REDIS_URL`, and
//! without one.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_example-redis-dedup");

fn redis_url() -> String {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "this test needs a real Redis: set REDIS_URL, e.g.\n  \
             redis-server --port 6390 --save '' --appendonly no &\n  \
             REDIS_URL=redis://127.0.0.1:6390 cargo test -p example-redis-dedup\n\
             (`cargo xtask ci` starts one and sets REDIS_URL itself)"
        ),
    }
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn two_replicas_on_one_redis_run_the_handler_exactly_once() {
    let output = Command::new(BIN)
        .env("REDIS_URL", redis_url())
        .output()
        .expect("the example runs");
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");

    let handled: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains("handler ran for evt_sample"))
        .collect();
    assert_eq!(handled.len(), 1, "{stdout}");
    let answers: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("replica ") && line.contains("Retry-After"))
        .collect();
    // Six simultaneous deliveries and the retry, each answered.
    assert_eq!(answers.len(), 7, "{stdout}");
    assert_eq!(
        answers
            .iter()
            .filter(|line| line.contains("(handled)"))
            .count(),
        1,
        "{stdout}"
    );
    for busy in answers.iter().filter(|line| line.contains(" 409 ")) {
        assert!(!busy.contains("Retry-After: -"), "{busy}");
    }
    let retry = answers.last().expect("the retry's answer");
    assert!(
        retry.contains(" 200 ") && retry.contains(r#""type":"duplicate""#),
        "{stdout}"
    );
    assert!(stdout.ends_with("the handler ran 1 time(s)\n"), "{stdout}");
}

#[test]
fn without_redis_url_it_explains_and_exits_2() {
    for url in [None, Some("")] {
        let mut command = Command::new(BIN);
        command.env_remove("REDIS_URL");
        if let Some(url) = url {
            command.env("REDIS_URL", url);
        }
        let output = command.output().expect("the example runs");
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{url:?}: {stdout}\n{stderr}");
        assert!(stderr.contains("set REDIS_URL"), "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
    }
}

#[test]
fn an_unreachable_redis_is_a_failure_not_a_hang() {
    // Port 1 on loopback: nothing listens there.
    let output = Command::new(BIN)
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .output()
        .expect("the example runs");
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("cannot start"), "{stderr}");
}
