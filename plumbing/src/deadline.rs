//! The timeout arithmetic of a wait call: from the loop's deadlines (a
//! connection's `/delay`, 408 or idle timeout, the end of an accept pause)
//! to what `poll(2)`, `epoll_wait(2)` and the trace lines take.

use std::time::{Duration, Instant};

use nix::poll::PollTimeout;

/// The earliest of the deadlines, if any: what the wait call's timeout is
/// computed from.
pub fn earliest(deadlines: impl IntoIterator<Item = Option<Instant>>) -> Option<Instant> {
    deadlines.into_iter().flatten().min()
}

/// A wait call's timeout until `deadline`, rounded *up* to whole
/// milliseconds for `poll` and `epoll_wait` (rounding down would wake the
/// loop just before the deadline, to find nothing due and wait 0 ms, again
/// and again). `None`: no deadline, wait for readiness alone.
pub fn timeout_ms(deadline: Option<Instant>, now: Instant) -> Option<Duration> {
    let left = deadline?.saturating_duration_since(now);
    Some(Duration::from_millis(left.as_micros().div_ceil(1000) as u64))
}

/// [`timeout_ms`] as `poll(2)` and `epoll_wait(2)` take it (nix's
/// `PollTimeout`, which is also its `EpollTimeout`): `NONE` waits for
/// readiness alone; a wait past `PollTimeout::MAX` (about 24 days) is cut
/// to it, and simply ends early.
pub fn poll_timeout(left: Option<Duration>) -> PollTimeout {
    match left {
        None => PollTimeout::NONE,
        Some(ms) => PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
    }
}

/// A wait's timeout in a trace line: `timeout 200ms`, or `no timeout`.
#[derive(Debug, Clone, Copy)]
pub struct ShowTimeout(pub Option<Duration>);

impl std::fmt::Display for ShowTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(timeout) => write!(f, "timeout {timeout:.1?}"),
            None => write!(f, "no timeout"),
        }
    }
}

// ANCHOR: acceptor
