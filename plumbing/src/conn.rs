//! One client of an event-loop server: a non-blocking socket and its
//! protocol state, with the two system calls a loop makes on it, one call
//! each. [`Conn::read`] and [`Conn::write`] make exactly one `read(2)` or
//! `write(2)`, hand the result to the protocol, and say what happened as an
//! [`Io`]: bytes, EOF, would block (EAGAIN), interrupted (EINTR), failed.
//!
//! What to do about each answer is the model's lesson, so it is not here:
//! the busy-poll loop makes one call per pass, select, poll and
//! level-triggered epoll one call per readiness report, edge-triggered epoll
//! and the signal-driven server drain to EAGAIN under a budget. Each writes
//! that loop in its own file, beside its wait call, where its chapter shows
//! it. This module holds no loop.
//!
//! A `--root` file is opened and read here too, after each call that may
//! have let the protocol ask for it (bytes received, bytes sent, a deadline
//! fired): a plain `open` and `pread` ([`FileReader`]). Those calls can
//! block on the disk, and no readiness report says so: a regular file is
//! always "ready" (the `files` module says more).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::time::Instant;

use protocol::{Connection, Service};

use crate::admission::{Place, Places, refuse};
use crate::files::{self, FileReader};
use crate::{interrupted, shutdown, trace, would_block};

/// Size of an event loop's one read buffer, shared by all its connections:
/// a read is handed to the protocol before the next one.
pub const READ_BUF: usize = 16 * 1024;

/// Most reads a loop that drains (edge-triggered epoll, mio, signal-driven
/// I/O) makes on one connection for one report: 16 reads of up to 16 KiB.
/// A fast sender cannot keep the loop to itself while the others wait.
pub const READ_BUDGET: usize = 16;

/// Most writes a loop makes on one connection for one report: 16 writes of
/// up to 64 KiB is 1 MiB, enough to keep a fast reader's socket full, not
/// enough for one big download to starve the other clients.
pub const WRITE_BUDGET: usize = 16;

// ANCHOR: admit
/// Takes a newly accepted client in, as a [`Conn`] for the caller's table,
/// or turns it away ([`refuse`]) when `--max-conns` are open already or
/// when its fd is at or above `fd_limit` (the highest fd the model's wait
/// call can watch, plus one: `select`'s FD_SETSIZE).
pub fn admit(
    stream: TcpStream,
    service: &Arc<Service>,
    places: &Places,
    fd_limit: Option<RawFd>,
) -> Option<Conn> {
    let fd = stream.as_raw_fd();
    if let Some(limit) = fd_limit.filter(|&limit| fd >= limit) {
        refuse(
            stream,
            service,
            &format!("fd {fd} >= {limit}, cannot be watched"),
        );
        return None;
    }
    let Some(place) = places.take() else {
        refuse(stream, service, "--max-conns reached");
        return None;
    };
    match Conn::new(stream, service, place, Instant::now()) {
        Ok(conn) => Some(conn),
        Err(err) => {
            trace!("fd={fd}: setting up failed: {err}");
            None
        }
    }
}
// ANCHOR_END: admit

/// What one `read` or `write` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Io {
    /// Some bytes moved (for a write, maybe fewer than offered: a partial
    /// write, whose tail the protocol keeps).
    Bytes(usize),
    /// A read found the end of the stream: the client half-closed or left.
    Eof,
    /// EAGAIN: nothing to read, or no room to write. Never an error on a
    /// non-blocking socket: the answer to "anything yet?" was "no".
    WouldBlock,
    /// EINTR: a signal arrived during the call, before anything moved.
    Interrupted,
    /// A real error (a reset, a broken pipe): the connection is now done.
    Failed,
}

/// How a model's read or write loop stopped, for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Where the kernel will speak up again when things change: EAGAIN,
    /// EOF, an error, or nothing left to write.
    Done,
    /// With the socket maybe still ready: a budget ran out, or the protocol
    /// had no room for more input (backpressure). A level-triggered wait
    /// reports the fd again; an edge-triggered one will not, so that loop
    /// must re-arm the fd, or serve it again, once it wants the rest.
    Unfinished,
}

// ANCHOR: conn
/// One client of an event-loop server: its non-blocking socket and its
/// protocol state.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    state: Connection,
    /// The `--root` file being sent, if any: boxed, and there only while a
    /// file is wanted or open (most connections never open one).
    file: Option<Box<FileReader>>,
    /// A read or write failed for real (a reset, a broken pipe): close it.
    failed: bool,
    /// Its place under `--max-conns`, given back when the `Conn` is dropped.
    _place: Place,
}

impl Conn {
    /// What a `Conn` is made of, field by field, its protocol state too.
    pub fn layout() -> protocol::layout::Part {
        protocol::layout!(Conn {
            stream,
            state,
            file,
            failed,
            _place
        })
        .expand("state", Connection::layout())
    }

    /// Wraps a freshly accepted socket: non-blocking, and `TCP_NODELAY`
    /// (responses are written whole; Nagle would only hold them back).
    pub fn new(
        stream: TcpStream,
        service: &Arc<Service>,
        place: Place,
        now: Instant,
    ) -> io::Result<Conn> {
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            state: Connection::new(service.clone(), now),
            file: None,
            failed: false,
            _place: place,
        })
    }

    /// The socket's fd, for the wait call's interest list and for trace lines.
    pub fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// The socket, borrowed: what `FdSet` and `PollFd` take.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }

    /// Read interest: the protocol has room for input. False after EOF, while
    /// closing, and while the output is full (backpressure: a client that
    /// does not read its answers is not read from).
    pub fn wants_read(&self) -> bool {
        self.state.read_capacity() > 0 && !self.failed
    }

    /// Write interest: bytes are waiting to be written. Asking for writability
    /// without this would wake the loop on every pass: an idle socket is
    /// always writable.
    pub fn wants_write(&self) -> bool {
        self.state.wants_write() && !self.failed
    }

    /// When [`Conn::fire`] must run next, if ever.
    pub fn deadline(&self) -> Option<Instant> {
        self.state.next_deadline()
    }

    /// True when the loop should close it: everything owed was written, a
    /// read or write failed, or the server is shutting down and this
    /// connection sits between requests.
    pub fn is_done(&self) -> bool {
        self.failed || self.state.is_closed() || (shutdown::requested() && self.state.is_idle())
    }
    // ANCHOR_END: conn

    // ANCHOR: read
    /// One `read(2)` of at most what the protocol has room for, handed to
    /// the protocol. (With no room it reads nothing and says `Bytes(0)`: a
    /// loop asks [`Conn::wants_read`] first.)
    pub fn read(&mut self, buf: &mut [u8]) -> Io {
        let fd = self.fd();
        let room = self.state.read_capacity().min(buf.len());
        if room == 0 || self.failed {
            return Io::Bytes(0);
        }
        match self.stream.read(&mut buf[..room]) {
            Ok(0) => {
                trace!("read fd={fd}: EOF");
                self.state.received_eof(Instant::now());
                self.serve_file(Instant::now());
                Io::Eof
            }
            Ok(n) => {
                trace!("read fd={fd}: {n} bytes");
                self.state.received(&buf[..n], Instant::now());
                self.serve_file(Instant::now());
                Io::Bytes(n)
            }
            Err(err) if would_block(&err) => {
                trace!("read fd={fd}: EAGAIN");
                Io::WouldBlock
            }
            Err(err) if interrupted(&err) => {
                trace!("read fd={fd}: EINTR");
                Io::Interrupted
            }
            Err(err) => self.fail("read", &err),
        }
    }
    // ANCHOR_END: read

    // ANCHOR: write
    /// One `write(2)` of what the protocol has to say; the bytes written are
    /// taken off its output. (std writes to sockets with MSG_NOSIGNAL, so a
    /// client that has gone is an EPIPE here, not a SIGPIPE.)
    pub fn write(&mut self) -> Io {
        let fd = self.fd();
        if !self.wants_write() {
            return Io::Bytes(0);
        }
        let len = self.state.output().len();
        match self.stream.write(self.state.output()) {
            Ok(n) => {
                trace!("write fd={fd}: {n} of {len} bytes");
                self.state.sent(n, Instant::now());
                self.serve_file(Instant::now());
                Io::Bytes(n)
            }
            Err(err) if would_block(&err) => {
                trace!("write fd={fd}: EAGAIN with {len} bytes left");
                Io::WouldBlock
            }
            Err(err) if interrupted(&err) => {
                trace!("write fd={fd}: EINTR");
                Io::Interrupted
            }
            Err(err) => self.fail("write", &err),
        }
    }
    // ANCHOR_END: write

    /// The wait reported a hang-up or an error (`EPOLLHUP`, `EPOLLERR`): the
    /// peer reset the connection, or both directions are shut. Nothing owed
    /// can be delivered any more, so the connection is done. (A peer's plain
    /// half-close is not a hang-up: it reads as EOF, and what is owed is
    /// still sent.)
    pub fn hang_up(&mut self) {
        trace!("hangup fd={}: the peer is gone", self.fd());
        self.failed = true;
    }

    /// A read or write failed: this connection is done; no other is affected.
    fn fail(&mut self, call: &str, err: &io::Error) -> Io {
        trace!("{call} fd={}: {err}", self.fd());
        self.failed = true;
        Io::Failed
    }

    /// Fires the connection's deadline (a `/delay`'s answer, a 408, an idle
    /// close) if it is due, and says whether it did. Calling it early does
    /// nothing, so a loop may call it after any wake-up, a spurious one
    /// included. What it releases is written by the loop's next write.
    pub fn fire(&mut self, now: Instant) -> bool {
        if self.deadline().is_some_and(|at| at <= now) {
            trace!("timer fd={}: deadline due", self.fd());
            self.state.fire(now);
            self.serve_file(now);
            return true;
        }
        false
    }

    /// Does what the protocol wants of a `--root` file now, if anything.
    fn serve_file(&mut self, now: Instant) {
        files::serve_file(&mut self.file, &mut self.state, now);
    }
}
