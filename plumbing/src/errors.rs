//! The three errors every loop must tell apart from a real failure, named once
//! (as mio's examples do) so a loop can say `Err(e) if would_block(&e)`.

use std::io;

/// EAGAIN / EWOULDBLOCK: a non-blocking call found nothing to do *now*. Not a
/// failure: wait for readiness (or, in a busy-poll loop, try again later).
pub fn would_block(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::WouldBlock
}

/// EINTR: a signal arrived while the call was blocked. Not a failure: retry,
/// against the same deadline.
pub fn interrupted(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::Interrupted
}

/// A blocking socket's `SO_RCVTIMEO` / `SO_SNDTIMEO` ran out. Linux reports it
/// as EAGAIN, which std calls `WouldBlock`; other systems say `TimedOut`.
pub fn timed_out(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
