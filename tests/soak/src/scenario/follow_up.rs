//! The valid request a fault scenario sends last: whatever came before,
//! the server must still answer it 200.

use core::fmt;
use std::collections::HashMap;

use super::send_valid;
use crate::Server;
use crate::report::Problems;

/// Sends the valid event `id` on a new connection; its status, or why
/// there was none.
pub(crate) async fn send(server: &Server, id: &str) -> Result<u16, String> {
    send_valid(server, id)
        .await?
        .response
        .map(|response| response.status)
        .map_err(|failure| failure.to_string())
}

/// Anything but 200 is a problem.
pub(crate) fn check(follow_up: &Result<u16, String>, problems: &mut Problems) {
    match follow_up {
        Ok(200) => {}
        Ok(status) => problems.push(format!("the valid request afterwards got {status}")),
        Err(error) => problems.push(format!("the valid request afterwards failed: {error}")),
    }
}

/// The report line of the follow-up and of the handler calls over the
/// whole scenario.
pub(crate) fn write_line(
    f: &mut fmt::Formatter<'_>,
    follow_up: &Result<u16, String>,
    counts: &HashMap<String, u32>,
) -> fmt::Result {
    let follow_up = match follow_up {
        Ok(status) => status.to_string(),
        Err(error) => error.clone(),
    };
    writeln!(
        f,
        "  valid request afterwards: {follow_up}; handler calls: {}",
        counts.values().map(|&count| u64::from(count)).sum::<u64>()
    )
}
