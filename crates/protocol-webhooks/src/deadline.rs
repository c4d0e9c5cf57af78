//! The body deadline both ways of reading a body share (feature `tokio`).

use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use tokio::time::Sleep;

use crate::Rejection;

/// Called when the body keeps the reader waiting: makes the timer the first
/// time, so that a body already there, as most webhooks are, costs none,
/// and says whether the wait has passed `after`. The deadline so starts a
/// moment after reading did, when the first bytes were taken.
pub(crate) fn poll_passed(
    deadline: Pin<&mut Option<Sleep>>,
    after: Duration,
    cx: &mut Context<'_>,
) -> Poll<Rejection> {
    let mut deadline = deadline;
    if deadline.is_none() {
        deadline.set(Some(tokio::time::sleep(after)));
    }
    match deadline.as_pin_mut() {
        Some(sleep) => sleep.poll(cx).map(|()| Rejection::BodyTimeout { after }),
        None => Poll::Pending,
    }
}
