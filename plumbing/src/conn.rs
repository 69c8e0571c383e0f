//! What every *event-loop* model does with a client and with the listener,
//! written once: the busy-poll loop, select, poll, epoll and the signal-driven
//! server all hold a table of [`Conn`]s and differ only in how they learn
//! which ones to touch. The model's own file is the loop and the wait call;
//! this module is the non-blocking I/O it calls, with every EAGAIN, EINTR and
//! partial write handled here, once, with the reason next to it.
//!
//! - [`Conn`]: a non-blocking socket and its protocol state. [`Conn::on_readable`]
//!   reads, [`Conn::on_writable`] writes, [`Conn::on_timer`] fires deadlines.
//! - [`Acceptor`]: the non-blocking listener, accepting until EAGAIN, with a
//!   pause after EMFILE so a full fd table cannot spin the loop.
//! - [`refuse`]: turning a connection away at the server's limit.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::{Connection, Service};

use crate::{interrupted, shutdown, trace, would_block};

/// Size of an event loop's one read buffer, shared by all its connections:
/// a read is handed to the protocol before the next one.
pub const READ_BUF: usize = 16 * 1024;

/// How many reads one readiness report is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// One `read`. Enough for level-triggered waits (select, poll, epoll's
    /// default): if bytes are left, the next wait reports the fd again.
    Once,
    /// Read until EAGAIN. Required by edge-triggered waits (`EPOLLET`, signal-
    /// driven I/O): the kernel reports a *change*, once, so bytes left in the
    /// socket would never be reported again.
    UntilWouldBlock,
}

// ANCHOR: conn
/// One client of an event-loop server: its non-blocking socket and its
/// protocol state.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    state: Connection,
    /// A read or write failed for real (a reset, a broken pipe): close it.
    failed: bool,
}

impl Conn {
    /// Wraps a freshly accepted socket: non-blocking, and `TCP_NODELAY`
    /// (responses are written whole; Nagle would only hold them back).
    pub fn new(stream: TcpStream, service: &Arc<Service>, now: Instant) -> io::Result<Conn> {
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            state: Connection::new(service.clone(), now),
            failed: false,
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
        self.state.read_capacity() > 0
    }

    /// Write interest: bytes are waiting to be written. Asking for writability
    /// without this would wake the loop on every pass: an idle socket is
    /// always writable.
    pub fn wants_write(&self) -> bool {
        self.state.wants_write()
    }

    /// When [`Conn::on_timer`] must run next, if ever.
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

    // ANCHOR: on_readable
    /// The socket is readable (or, in the busy-poll loop, might be): read at
    /// most what the protocol has room for, and hand it over. A real failure
    /// (a reset) marks the connection done.
    pub fn on_readable(&mut self, buf: &mut [u8], reads: Reads) {
        let fd = self.fd();
        while !self.failed {
            let capacity = self.state.read_capacity().min(buf.len());
            if capacity == 0 {
                return; // backpressure or EOF seen: leave the bytes in the kernel
            }
            match self.stream.read(&mut buf[..capacity]) {
                Ok(0) => {
                    trace!("read fd={fd}: EOF");
                    self.state.received_eof(Instant::now());
                    return;
                }
                Ok(n) => {
                    trace!("read fd={fd}: {n} bytes");
                    self.state.received(&buf[..n], Instant::now());
                    if reads == Reads::Once {
                        return;
                    }
                }
                // EAGAIN: nothing (more) to read. After a readiness report
                // this is a spurious wake-up (or a drained socket), never an error.
                Err(err) if would_block(&err) => {
                    trace!("read fd={fd}: EAGAIN");
                    return;
                }
                // EINTR: a signal arrived mid-call; nothing was read. Try again.
                Err(err) if interrupted(&err) => trace!("read fd={fd}: EINTR, retrying"),
                Err(err) => self.fail("read", &err),
            }
        }
    }
    // ANCHOR_END: on_readable

    // ANCHOR: on_writable
    /// Writes what the protocol has to say until it has nothing left or the
    /// socket's send buffer is full. Called when the socket is writable, and
    /// also straight after a read: the answer usually fits at once, and
    /// waiting a round for writability would only add a wake-up.
    pub fn on_writable(&mut self) {
        let fd = self.fd();
        while self.state.wants_write() && !self.failed {
            let len = self.state.output().len();
            match self.stream.write(self.state.output()) {
                // A partial write (n < len) is normal: the protocol keeps the
                // tail, and the loop goes round to offer it again.
                Ok(n) => {
                    trace!("write fd={fd}: {n} of {len} bytes");
                    self.state.sent(n, Instant::now());
                }
                // EAGAIN: the send buffer is full (the client reads slowly).
                // Keep the rest; write interest brings us back when there is room.
                Err(err) if would_block(&err) => {
                    trace!("write fd={fd}: EAGAIN with {len} bytes left");
                    return;
                }
                Err(err) if interrupted(&err) => trace!("write fd={fd}: EINTR, retrying"),
                // EPIPE, ECONNRESET: the client is gone. (std writes to
                // sockets with MSG_NOSIGNAL, so this is an error, not SIGPIPE.)
                Err(err) => self.fail("write", &err),
            }
        }
    }

    /// A read or write failed: this connection is done; no other is affected.
    fn fail(&mut self, call: &str, err: &io::Error) {
        trace!("{call} fd={}: {err}", self.fd());
        self.failed = true;
    }
    // ANCHOR_END: on_writable

    /// Fires the connection's deadline if it is due, and says whether it did.
    /// Calling it early does nothing, so a loop may call it on every
    /// connection after every wake-up (a wait that returned early on a signal
    /// or a spurious wake-up included).
    pub fn on_timer(&mut self, now: Instant) -> bool {
        if self.deadline().is_some_and(|at| at <= now) {
            trace!("timer fd={}: deadline due", self.fd());
            self.state.fire(now);
            return true;
        }
        false
    }
}

// ANCHOR: admit
/// Takes a newly accepted client into the table `conns`, or turns it away
/// ([`refuse`]) when the table holds `max_conns` already or when its fd is at
/// or above `fd_limit` (the highest fd the model's wait call can watch, plus
/// one: `select`'s FD_SETSIZE).
pub fn admit(
    conns: &mut Vec<Conn>,
    stream: TcpStream,
    service: &Arc<Service>,
    max_conns: usize,
    fd_limit: Option<RawFd>,
) {
    let fd = stream.as_raw_fd();
    if conns.len() >= max_conns {
        return refuse(stream, service, "--max-conns reached");
    }
    if let Some(limit) = fd_limit.filter(|&limit| fd >= limit) {
        return refuse(
            stream,
            service,
            &format!("fd {fd} >= {limit}, cannot be watched"),
        );
    }
    match Conn::new(stream, service, Instant::now()) {
        Ok(conn) => conns.push(conn),
        Err(err) => trace!("fd={fd}: setting up failed: {err}"),
    }
}

/// Closes (drops) every connection that is done, with a trace line each.
pub fn close_done(conns: &mut Vec<Conn>) {
    conns.retain(|conn| {
        let done = conn.is_done();
        if done {
            trace!("close fd={}", conn.fd());
        }
        !done
    });
}
// ANCHOR_END: admit

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
/// The listening socket of an event loop: non-blocking, so `accept` returns
/// EAGAIN instead of waiting when the backlog is empty.
#[derive(Debug)]
pub struct Acceptor {
    listener: TcpListener,
    /// After EMFILE (no fd free) the backlog stays non-empty and the listener
    /// stays readable: watching it would wake the loop again at once, for
    /// ever. So it is left out of the wait until this time.
    paused_until: Option<Instant>,
}

/// How long accepting pauses after running out of fds.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

impl Acceptor {
    /// Makes the listener non-blocking.
    pub fn new(listener: TcpListener) -> io::Result<Acceptor> {
        listener.set_nonblocking(true)?;
        Ok(Acceptor {
            listener,
            paused_until: None,
        })
    }

    /// The listener's fd.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }

    /// Whether to watch the listener now: not once shutdown is requested,
    /// and not during a pause after EMFILE.
    pub fn wants_accept(&self, now: Instant) -> bool {
        !shutdown::requested() && self.paused_until.is_none_or(|until| now >= until)
    }

    /// The end of a pause, as a deadline for the wait's timeout.
    pub fn deadline(&self) -> Option<Instant> {
        self.paused_until
    }

    /// Accepts every connection waiting in the backlog, until EAGAIN, and
    /// hands each to `admit`. One readiness report can stand for many
    /// clients, and none of them would be reported again by an
    /// edge-triggered wait.
    pub fn accept_all(&mut self, now: Instant, mut admit: impl FnMut(TcpStream, SocketAddr)) {
        self.paused_until = None;
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    trace!("accept fd={} peer={peer}", stream.as_raw_fd());
                    admit(stream, peer);
                }
                // EAGAIN: the backlog is empty. (Also after another process
                // took the client first: a spurious wake-up.)
                Err(err) if would_block(&err) => return,
                // std's accept retries EINTR itself; kept for clarity.
                Err(err) if interrupted(&err) => {}
                // Shutdown shut the listener down: accept fails, and is done.
                Err(_) if shutdown::requested() => return,
                // EMFILE / ENFILE (out of fds), ENOBUFS, ...: the client stays
                // in the backlog. Stop watching the listener for a moment.
                Err(err) => {
                    trace!("accept failed: {err}; pausing {ACCEPT_PAUSE:?}");
                    self.paused_until = Some(now + ACCEPT_PAUSE);
                    return;
                }
            }
        }
    }
}
// ANCHOR_END: acceptor

// ANCHOR: refuse
/// Turns away a connection the server will not serve (over `--max-conns`, or
/// an fd that `select` cannot watch): over HTTP one `503 Service
/// Unavailable` with `Connection: close`, over echo just the close. It never
/// blocks the loop: one non-blocking write of a response that fits in any
/// empty send buffer, then the close. What the client has sent so far is
/// read first: closing a socket with unread input sends a reset instead of a
/// FIN, and a reset can destroy the 503 before the client reads it. (Bytes
/// that arrive after the close still draw a reset; by then the client has
/// the 503 and the FIN.)
pub fn refuse(stream: TcpStream, service: &Arc<Service>, why: &str) {
    let fd = stream.as_raw_fd();
    trace!("refuse fd={fd}: {why}");
    let mut answer = Connection::refused(service.clone(), Instant::now());
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    if answer.wants_write() {
        match (&stream).write(answer.output()) {
            Ok(n) => answer.sent(n, Instant::now()),
            Err(err) => trace!("write fd={fd}: {err} (refusing)"),
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
    let mut scratch = [0u8; 4096];
    while let Ok(n) = (&stream).read(&mut scratch) {
        if n == 0 {
            break;
        }
    }
    trace!("close fd={fd}");
}
// ANCHOR_END: refuse
