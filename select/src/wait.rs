//! What the loop asks of its wait call, `select(2)` or `poll(2)`, and what
//! the call answers: the one thing the two binaries do differently.

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Instant;

use plumbing::table::{Client, Table};

/// What one wait call reported: whether the listener has clients waiting, and
/// the connections that may do something, by token.
#[derive(Debug, Default)]
pub struct Report {
    /// The listener is readable: `accept` will not block.
    pub listener: bool,
    /// The connections with something ready, found by scanning them all.
    pub conns: Vec<(usize, Readiness)>,
}

/// One connection's part of a wait's answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Readiness {
    /// `read` will not block: bytes, EOF, or an error are waiting.
    pub readable: bool,
    /// `write` will not block: there is room in the send buffer.
    pub writable: bool,
}

/// The connections as the loop holds them: a table by token. select and
/// poll keep no registration (the whole interest is passed in every call).
pub type Clients = Table<Client<()>>;

/// A readiness call: `select(2)` or `poll(2)`.
pub trait Wait {
    /// One past the highest fd this call can watch, if it has such a limit.
    /// A connection whose fd is at or above it is refused.
    const FD_LIMIT: Option<RawFd>;

    /// Blocks until the listener (if given) or a connection is ready, or
    /// until `deadline`. Interest comes from each connection: read if
    /// [`plumbing::conn::Conn::wants_read`], write if
    /// [`plumbing::conn::Conn::wants_write`]. EINTR is retried
    /// inside, against the same deadline.
    fn wait(
        &mut self,
        listener: Option<BorrowedFd<'_>>,
        clients: &Clients,
        deadline: Option<Instant>,
        report: &mut Report,
    ) -> io::Result<()>;
}
