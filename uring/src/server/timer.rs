//! The loop's timeout: one `IORING_OP_TIMEOUT` in flight for the earliest
//! deadline of the timer heap (`plumbing::timers`, shared with epoll).

use std::cmp::Reverse;
use std::io;
use std::time::Instant;

use io_uring::types::Timespec;
use plumbing::trace;

use super::Loop;
use crate::ops::{self, Op, errno};

impl Loop {
    // ANCHOR: timer
    /// Keeps a timeout in flight for the earliest deadline (a connection's,
    /// or the end of an accept pause). A later deadline adds nothing: a
    /// timeout in flight ends the wait sooner, the loop finds nothing due
    /// and comes back here. An earlier one adds a new timeout; the old one
    /// completes later, for nothing: harmless, as firing early always is
    /// (`plumbing::timers`).
    pub(super) fn arm_timer(&mut self, now: Instant) -> io::Result<()> {
        let deadlines = [
            self.timers.next(),
            self.acceptor.deadline(),
            self.accept_after,
        ];
        let Some(at) = plumbing::deadline::earliest(deadlines) else {
            return Ok(());
        };
        if self
            .timeouts
            .peek()
            .is_some_and(|Reverse(first)| *first <= at)
        {
            return Ok(());
        }
        let left = at.saturating_duration_since(now);
        trace!("timeout: armed for {left:.1?}");
        self.timespec = Timespec::from(left);
        self.timeouts.push(Reverse(at));
        self.push(ops::timeout(&self.timespec), Op::Timer)
    }

    /// A timeout completed (ETIME: it expired). Timeouts expire in the
    /// order of their times, so it is the earliest one in flight. The due
    /// deadlines themselves are fired by the loop.
    pub(super) fn on_timer(&mut self, result: i32) {
        trace!("timeout: fired ({})", errno(result));
        self.timeouts.pop();
    }
    // ANCHOR_END: timer
}
