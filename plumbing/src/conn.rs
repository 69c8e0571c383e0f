//! What every *event-loop* model does with a client and with the listener,
//! written once: the busy-poll loop, select, poll, epoll and the signal-driven
//! server all hold a table of [`Conn`]s and differ only in how they learn
//! which ones to touch. The model's own file is the loop and the wait call;
//! this module is the non-blocking I/O it calls, with every EAGAIN, EINTR and
//! partial write handled here, once, with the reason next to it.
//!
//! - [`Conn`]: a non-blocking socket and its protocol state. [`Conn::on_readable`]
//!   reads, [`Conn::on_writable`] writes, [`Conn::on_timer`] fires deadlines.
//! - [`Acceptor`]: the non-blocking listener, accepting until EAGAIN; when the
//!   process is out of fds it refuses the waiting clients with a reserve fd
//!   (libuv's trick), so a full fd table cannot spin the loop.
//! - [`Places`] and [`admit`]: `--max-conns`, counted across every thread.
//! - [`refuse`]: turning a connection away at the server's limit.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::poll::PollTimeout;
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
    /// Read until EAGAIN, but at most `budget` times. Edge-triggered waits
    /// (`EPOLLET`, mio, signal-driven I/O) need the drain: the kernel reports
    /// a *change*, once, so bytes left in the socket would never be reported
    /// again. The budget keeps one fast sender from holding the loop while
    /// every other client waits; a caller that gets [`Drain::Unfinished`]
    /// must ask the kernel to report the fd again (re-arm it).
    UntilWouldBlock {
        /// Most reads for this one report.
        budget: usize,
    },
}

/// Most `write` calls [`Conn::on_writable`] makes for one readiness report:
/// 16 writes of up to 64 KiB is 1 MiB, enough to keep a fast reader's socket
/// full, not enough for one big download to starve the other clients.
pub const WRITE_BUDGET: usize = 16;

/// Why [`Conn::on_readable`] or [`Conn::on_writable`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drain {
    /// It stopped where the kernel will speak up again when things change:
    /// EAGAIN, EOF, an error, or nothing left to write.
    Done,
    /// It stopped with the socket maybe still ready: the budget ran out, or
    /// the protocol had no room for more input (backpressure). Harmless for
    /// a level-triggered wait, which reports the fd again. An edge-triggered
    /// wait will not (the edge is spent), so the loop must re-arm the fd
    /// once it wants the rest.
    Unfinished,
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
    /// Its place under `--max-conns`, given back when the `Conn` is dropped.
    _place: Place,
}

impl Conn {
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
    pub fn on_readable(&mut self, buf: &mut [u8], reads: Reads) -> Drain {
        let fd = self.fd();
        let budget = match reads {
            Reads::Once => 1,
            Reads::UntilWouldBlock { budget } => budget,
        };
        let mut done = 0;
        while !self.failed {
            let capacity = self.state.read_capacity().min(buf.len());
            if capacity == 0 {
                // Backpressure (or EOF already seen): leave the bytes in the kernel.
                return Drain::Unfinished;
            }
            if done == budget {
                if reads != Reads::Once {
                    trace!("read fd={fd}: budget of {budget} reads spent");
                }
                return Drain::Unfinished;
            }
            done += 1;
            match self.stream.read(&mut buf[..capacity]) {
                Ok(0) => {
                    trace!("read fd={fd}: EOF");
                    self.state.received_eof(Instant::now());
                    return Drain::Done;
                }
                Ok(n) => {
                    trace!("read fd={fd}: {n} bytes");
                    self.state.received(&buf[..n], Instant::now());
                }
                // EAGAIN: nothing (more) to read. After a readiness report
                // this is a spurious wake-up (or a drained socket), never an error.
                Err(err) if would_block(&err) => {
                    trace!("read fd={fd}: EAGAIN");
                    return Drain::Done;
                }
                // EINTR: a signal arrived mid-call; nothing was read. Try again.
                Err(err) if interrupted(&err) => trace!("read fd={fd}: EINTR, retrying"),
                Err(err) => self.fail("read", &err),
            }
        }
        Drain::Done
    }
    // ANCHOR_END: on_readable

    // ANCHOR: on_writable
    /// Writes what the protocol has to say until it has nothing left, the
    /// socket's send buffer is full, or [`WRITE_BUDGET`] writes are made.
    /// Called when the socket is writable, and also straight after a read:
    /// the answer usually fits at once, and waiting a round for writability
    /// would only add a wake-up.
    pub fn on_writable(&mut self) -> Drain {
        let fd = self.fd();
        let mut done = 0;
        while self.state.wants_write() && !self.failed {
            if done == WRITE_BUDGET {
                trace!("write fd={fd}: budget of {WRITE_BUDGET} writes spent");
                return Drain::Unfinished;
            }
            done += 1;
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
                    return Drain::Done;
                }
                Err(err) if interrupted(&err) => trace!("write fd={fd}: EINTR, retrying"),
                // EPIPE, ECONNRESET: the client is gone. (std writes to
                // sockets with MSG_NOSIGNAL, so this is an error, not SIGPIPE.)
                Err(err) => self.fail("write", &err),
            }
        }
        Drain::Done
    }

    /// The wait reported a hang-up or an error (`EPOLLHUP`, `EPOLLERR`): the
    /// peer reset the connection, or both directions are shut. Nothing owed
    /// can be delivered any more, so the connection is done. (A peer's plain
    /// half-close is not a hang-up: it reads as EOF, and what is owed is
    /// still sent.) Waits report these even when no interest was asked for,
    /// so a loop must act on them or be woken again for ever.
    pub fn on_hangup(&mut self) {
        trace!("hangup fd={}: the peer is gone", self.fd());
        self.failed = true;
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
/// `--max-conns`, counted across every thread of a server: a place is taken
/// when a connection is admitted and given back when its [`Conn`] is dropped.
/// One shared counter is all the threads of `epoll --workers N` share, so
/// the flag means the same with one worker or many.
#[derive(Debug, Clone)]
pub struct Places {
    /// Connections now open, over all threads.
    taken: Arc<AtomicUsize>,
    /// `--max-conns`.
    max: usize,
}

/// One connection's place under `--max-conns`; dropping it frees the place.
#[derive(Debug)]
pub struct Place(Arc<AtomicUsize>);

impl Places {
    /// Room for `max` connections at once.
    pub fn new(max: usize) -> Places {
        Places {
            taken: Arc::new(AtomicUsize::new(0)),
            max,
        }
    }

    /// A place, or `None` when all `max` are taken.
    pub fn take(&self) -> Option<Place> {
        let before = self.taken.fetch_add(1, Ordering::Relaxed);
        if before >= self.max {
            self.taken.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(Place(self.taken.clone()))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Takes a newly accepted client in, as a [`Conn`] for the caller's table,
/// or turns it away ([`refuse`]) when `--max-conns` are open already or when
/// its fd is at or above `fd_limit` (the highest fd the model's wait call can
/// watch, plus one: `select`'s FD_SETSIZE).
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
/// The listening socket of an event loop: non-blocking, so `accept` returns
/// EAGAIN instead of waiting when the backlog is empty.
#[derive(Debug)]
pub struct Acceptor {
    listener: TcpListener,
    /// For the 503 of a client refused when the process is out of fds.
    service: Arc<Service>,
    /// A spare fd (`/dev/null`), held only to be closed when `accept` fails
    /// with EMFILE: see [`Acceptor::accept_all`].
    reserve: Option<File>,
    /// Without a reserve (another thread took the freed fd) the listener is
    /// left out of the wait until this time.
    paused_until: Option<Instant>,
}

/// The listener's fd: what a wait call watches (select's `FdSet`, epoll's
/// interest list, `async_await`'s `Async`).
impl AsFd for Acceptor {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }
}

/// Held while accepting: see [`Acceptor::accept_all`].
static ACCEPTING: Mutex<()> = Mutex::new(());

/// How long accepting pauses when out of fds with no reserve to spend.
pub(crate) const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

impl Acceptor {
    /// Makes the listener non-blocking and opens the reserve fd.
    pub fn new(listener: TcpListener, service: &Arc<Service>) -> io::Result<Acceptor> {
        listener.set_nonblocking(true)?;
        Ok(Acceptor {
            listener,
            service: service.clone(),
            reserve: Some(open_reserve()?),
            paused_until: None,
        })
    }

    /// Whether to watch the listener now: not once shutdown is requested,
    /// and not during a pause. A pause that is over is forgotten here, so
    /// its end stops being a deadline.
    pub fn wants_accept(&mut self, now: Instant) -> bool {
        if self.paused_until.is_some_and(|until| now >= until) {
            self.paused_until = None;
        }
        !shutdown::requested() && self.paused_until.is_none()
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
        // Threads share one fd table: while this one has closed its spare
        // fd, another thread's accept would take the freed fd, and the
        // trick below would fail. So the acceptors of one process take
        // turns (one lock, uncontended unless two accept at once).
        let _turn = ACCEPTING
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
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
                // EMFILE / ENFILE: no fd for the client, which stays in the
                // backlog, so the listener stays readable and the wait would
                // report it again at once, for ever: a spinning loop.
                // (Linux picks the fd before it looks at the backlog, so
                // EMFILE also comes with an empty backlog.)
                Err(err) if out_of_fds(&err) => match self.refuse_with_reserve(&err) {
                    Reserve::Refused => {}    // one client refused: try the next
                    Reserve::Empty => return, // the backlog is empty
                    Reserve::Spent => {
                        trace!("accept failed: {err}; no reserve fd, pausing {ACCEPT_PAUSE:?}");
                        self.paused_until = Some(now + ACCEPT_PAUSE);
                        return;
                    }
                },
                // ENOBUFS, ENOMEM, ...: leave the client in the backlog and
                // stop watching the listener for a moment.
                Err(err) => {
                    trace!("accept failed: {err}; pausing {ACCEPT_PAUSE:?}");
                    self.paused_until = Some(now + ACCEPT_PAUSE);
                    return;
                }
            }
        }
    }

    /// The reserve-fd trick (libuv's `uv__emfile_trick`): close the spare fd,
    /// so one fd is free; accept the waiting client into it; refuse it (503,
    /// close); open the spare again. Repeated until the backlog is empty, it
    /// leaves the listener not readable, so the loop sleeps, and each client
    /// gets a clear answer instead of hanging.
    fn refuse_with_reserve(&mut self, err: &io::Error) -> Reserve {
        let Some(spare) = self.reserve.take() else {
            return Reserve::Spent;
        };
        drop(spare); // close(2): one fd is free now
        let outcome = match self.listener.accept() {
            Ok((stream, _peer)) => {
                refuse(stream, &self.service, &format!("accept: {err}"));
                Reserve::Refused
            }
            Err(err) if would_block(&err) => Reserve::Empty,
            // Something else took the freed fd first (EMFILE again), or
            // accept failed otherwise: pause instead.
            Err(_) => Reserve::Spent,
        };
        self.reserve = open_reserve().ok();
        match self.reserve {
            Some(_) => outcome,
            None => Reserve::Spent,
        }
    }
}

/// What spending the reserve fd achieved.
enum Reserve {
    /// A waiting client was accepted into it and refused.
    Refused,
    /// Nobody was waiting: the backlog is empty.
    Empty,
    /// No reserve to spend (or it could not be opened again): pause.
    Spent,
}

/// EMFILE (this process is at its fd limit) or ENFILE (the whole system is).
pub(crate) fn out_of_fds(err: &io::Error) -> bool {
    let code = err.raw_os_error();
    code == Some(nix::libc::EMFILE) || code == Some(nix::libc::ENFILE)
}

/// The spare fd: any cheap file will do.
pub(crate) fn open_reserve() -> io::Result<File> {
    File::open("/dev/null")
}
// ANCHOR_END: acceptor

// ANCHOR: refuse
/// Turns away a connection the server will not serve (over `--max-conns`, or
/// an fd that `select` cannot watch): over HTTP one `503 Service
/// Unavailable` with `Connection: close`, over echo just the close. It never
/// blocks the loop: non-blocking writes of a response that fits in any
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
    // The protocol hands out the head, then the body once the head is
    // sent: write until it has nothing left. All of it (under 300 bytes)
    // fits in an empty send buffer, so this ends at once; on EAGAIN or an
    // error it gives up rather than wait.
    while answer.wants_write() {
        match (&stream).write(answer.output()) {
            Ok(n) if n > 0 => answer.sent(n, Instant::now()),
            Ok(_) => break,
            Err(err) => {
                trace!("write fd={fd}: {err} (refusing)");
                break;
            }
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
