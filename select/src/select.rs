//! The wait call of the `select` binary: `select(2)` over two fd sets.

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::select::{FD_SETSIZE, FdSet, select};
use nix::sys::time::{TimeVal, TimeValLike};
use plumbing::deadline::ShowTimeout;
use plumbing::trace;

use crate::wait::{Clients, Readiness, Report, Wait};

/// `select(2)`: the interest is rebuilt as two bitmaps on every call, the
/// kernel scans fds `0..nfds` and overwrites the bitmaps with the answer, and
/// the loop then tests every connection's bit. Work per call grows with the
/// number of connections (and the highest fd), not with how many are ready.
#[derive(Debug, Default)]
pub struct Select;

/// A bitmap holds FD_SETSIZE (1024) bits: fds 0..=1023, no more. nix's
/// `FdSet::insert` panics on a higher fd (glibc's `FD_SET` would write past
/// the bitmap), so such a connection is refused before it gets here.
const LIMIT: RawFd = FD_SETSIZE as RawFd;

// ANCHOR: select_wait
impl Wait for Select {
    const FD_LIMIT: Option<RawFd> = Some(LIMIT);

    fn wait(
        &mut self,
        listener: Option<BorrowedFd<'_>>,
        clients: &Clients,
        deadline: Option<Instant>,
        report: &mut Report,
    ) -> io::Result<()> {
        loop {
            // The sets are input *and* output: select overwrites them with
            // the answer, so they are built anew for every call, retries too.
            let mut reads = FdSet::new();
            let mut writes = FdSet::new();
            let mut watched = 0;
            if let Some(fd) = listener {
                reads.insert(fd);
                watched += 1;
            }
            for (_, client) in clients.iter() {
                let conn = &client.conn;
                if conn.wants_read() {
                    reads.insert(conn.as_fd());
                }
                if conn.wants_write() {
                    writes.insert(conn.as_fd());
                }
                watched += usize::from(conn.wants_read() || conn.wants_write());
            }
            // The timeout, recomputed from the same deadline on every retry,
            // so an EINTR never stretches the wait. None: wait for readiness alone.
            let left = deadline.map(|at| at.saturating_duration_since(Instant::now()));
            let mut timeout = left
                .map(|left| TimeVal::microseconds(left.as_micros().try_into().unwrap_or(i64::MAX)));
            // nfds: one past the highest fd in either set (nix computes it).
            match select(None, &mut reads, &mut writes, None, timeout.as_mut()) {
                Ok(n) => {
                    trace!("select: {n} of {watched} fds ready ({})", ShowTimeout(left));
                    report.listener = listener.is_some_and(|fd| reads.contains(fd));
                    // The answer is the same two bitmaps: test every
                    // connection's bits to find the few that are ready.
                    report.conns.clear();
                    for (token, client) in clients.iter() {
                        let fd = client.conn.as_fd();
                        let readiness = Readiness {
                            readable: reads.contains(fd),
                            writable: writes.contains(fd),
                        };
                        if readiness.readable || readiness.writable {
                            report.conns.push((token, readiness));
                        }
                    }
                    return Ok(());
                }
                // EINTR: a signal arrived before any fd was ready. Not an
                // error: wait again for what is left of the same deadline.
                Err(Errno::EINTR) => trace!("select: EINTR, retrying"),
                Err(errno) => return Err(errno.into()),
            }
        }
    }
}
// ANCHOR_END: select_wait
