//! The wait call of the `poll` binary: `poll(2)` over an array of `pollfd`.

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Instant;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, poll};
use plumbing::deadline::{ShowTimeout, poll_timeout, timeout_ms};
use plumbing::trace;

use crate::wait::{Clients, Readiness, Report, Wait};

/// `poll(2)`: the interest is an array of `(fd, events)`, and the kernel
/// writes its answer into a separate `revents` field, so the array says
/// exactly which fds are meant, with no bitmap and no FD_SETSIZE. The kernel
/// still looks at every entry on every call, and the loop still scans the
/// whole answer: the work per call grows with the number of connections.
#[derive(Debug, Default)]
pub struct Poll;

// ANCHOR: poll_wait
impl Wait for Poll {
    const FD_LIMIT: Option<RawFd> = None;

    fn wait(
        &mut self,
        listener: Option<BorrowedFd<'_>>,
        clients: &Clients,
        deadline: Option<Instant>,
        report: &mut Report,
    ) -> io::Result<()> {
        // The array: the listener first (if watched), then one entry per
        // connection that wants something, and which connection each is.
        // A connection that wants nothing (a /delay after the client's EOF)
        // is left out: poll reports hangups and errors even with no events
        // asked for, and that would wake the loop again at once, for ever.
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(clients.len() + 1);
        let mut owners: Vec<usize> = Vec::with_capacity(clients.len());
        if let Some(fd) = listener {
            fds.push(PollFd::new(fd, PollFlags::POLLIN));
        }
        for (token, client) in clients.iter() {
            let conn = &client.conn;
            let mut events = PollFlags::empty();
            if conn.wants_read() {
                events |= PollFlags::POLLIN;
            }
            if conn.wants_write() {
                events |= PollFlags::POLLOUT;
            }
            if !events.is_empty() {
                fds.push(PollFd::new(conn.as_fd(), events));
                owners.push(token);
            }
        }
        loop {
            // Milliseconds, rounded up, recomputed from the same deadline on
            // every retry, so an EINTR never stretches the wait.
            let left = timeout_ms(deadline, Instant::now());
            match poll(&mut fds, poll_timeout(left)) {
                Ok(n) => {
                    trace!(
                        "poll: {n} of {} fds ready ({})",
                        fds.len(),
                        ShowTimeout(left)
                    );
                    let mut answers = fds
                        .iter()
                        .map(|fd| fd.revents().unwrap_or(PollFlags::empty()));
                    report.listener = listener.is_some()
                        && answers
                            .next()
                            .is_some_and(|r| r.contains(PollFlags::POLLIN));
                    // Scan the whole answer for the few that are ready.
                    report.conns.clear();
                    for (&token, revents) in owners.iter().zip(answers) {
                        let readiness = Readiness {
                            // POLLHUP and POLLERR count as readable: the read
                            // that follows returns the EOF or the error.
                            readable: revents.intersects(
                                PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR,
                            ),
                            writable: revents.contains(PollFlags::POLLOUT),
                        };
                        if readiness.readable || readiness.writable {
                            report.conns.push((token, readiness));
                        }
                    }
                    return Ok(());
                }
                // EINTR: a signal arrived before any fd was ready. Not an
                // error: wait again for what is left of the same deadline.
                Err(Errno::EINTR) => trace!("poll: EINTR, retrying"),
                Err(errno) => return Err(errno.into()),
            }
        }
    }
}
// ANCHOR_END: poll_wait
