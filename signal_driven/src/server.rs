//! The signal-driven loop: every socket raises a real-time signal carrying
//! its fd when it becomes ready; the loop takes the signals one by one with
//! `sigtimedwait` and serves the fd each names.

use std::collections::HashMap;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use plumbing::admission::Places;
use plumbing::conn::{Conn, Io, Progress, READ_BUDGET, READ_BUF, WRITE_BUDGET, admit};
use plumbing::deadline::earliest;
use plumbing::nonblocking_accept::{Accept, Acceptor};
use plumbing::table::{Client, Table};
use plumbing::timers::Timers;
use plumbing::{interrupted, shutdown, trace};
use protocol::Service;

use crate::sys::{self, Wake};

/// The longest sleep in `sigtimedwait` with no deadline at all.
const NO_DEADLINE: Duration = Duration::from_secs(3600);

/// The server: one thread, one loop.
pub struct Loop {
    /// The listener, non-blocking, with O_ASYNC: it signals new clients too.
    acceptor: Acceptor,
    /// Whether accepting is on (off during an accept pause).
    listening: bool,
    /// Protocol, site, timeouts: shared by every connection.
    service: Arc<Service>,
    /// `--max-conns`.
    places: Places,
    /// The connections, by token. A token's connection has no registered
    /// interest to remember: a signal-driven fd signals every change.
    clients: Table<Client<()>>,
    /// Their deadlines, earliest first.
    timers: Timers,
    /// One read buffer for all connections: each read is handed over at once.
    buf: Vec<u8>,
    /// Shutdown was requested and acted on.
    stopping: bool,
    /// A signal names an fd; the table wants a token.
    tokens: HashMap<RawFd, usize>,
    /// Connections to serve again without waiting for a signal: a read or
    /// write stopped with work left (budget spent, or backpressure just
    /// lifted), and the kernel will not signal what it signalled already.
    again: Vec<usize>,
}

impl Loop {
    // ANCHOR: setup
    /// Turns on signal-driven I/O for the listener. Clients that connected
    /// before raised no signal: the first round accepts them.
    pub fn new(listener: TcpListener, service: Arc<Service>, places: Places) -> io::Result<Loop> {
        let acceptor = Acceptor::new(listener, &service)?;
        sys::set_async(&acceptor.as_fd())?;
        // Shutdown wakes the loop with the same real-time signal, sent by
        // the signal thread (its siginfo says a process sent it, not an fd).
        shutdown::on_request(sys::nudge);
        Ok(Loop {
            acceptor,
            listening: true,
            service,
            places,
            clients: Table::default(),
            timers: Timers::default(),
            buf: vec![0u8; READ_BUF],
            stopping: false,
            tokens: HashMap::new(),
            again: Vec::new(),
        })
    }
    // ANCHOR_END: setup

    // ANCHOR: event_loop
    /// Serves until shutdown.
    pub fn serve(mut self) -> io::Result<()> {
        self.on_accept(Instant::now());
        loop {
            // 1. Shutdown: stop accepting, close the idle connections once,
            //    and end when the busy ones have finished.
            if shutdown::requested() && !self.stopping {
                self.stop()?;
            }
            if self.stopping && self.clients.is_empty() {
                trace!("shutdown: no connections left");
                return Ok(());
            }

            // 2. Wait for one signal, or the earliest deadline. Not at all
            //    if connections wait in `again`: take a signal only if one
            //    is pending.
            let deadline = match self.again.is_empty() {
                true => earliest([self.timers.next(), self.acceptor.deadline()]),
                false => Some(Instant::now()),
            };
            let wake = self.wait(deadline)?;

            // 3. Dispatch: the fd the signal names, then the work left over.
            let now = Instant::now();
            match wake {
                Some(Wake::Ready { fd, band }) if fd == self.acceptor.as_fd().as_raw_fd() => {
                    trace!("signal: listener fd={fd} ready (band {band:#x})");
                    self.on_accept(now);
                }
                Some(Wake::Ready { fd, band }) => {
                    trace!("signal: fd={fd} ready (band {band:#x})");
                    // A signal for an fd closed since (or closed and reused
                    // by a new client) finds nothing, or a read that gets
                    // EAGAIN: a spurious wake-up, harmless either way.
                    match self.tokens.get(&fd) {
                        Some(&token) => self.on_ready(token),
                        None => trace!("fd={fd}: no connection (closed since): nothing to do"),
                    }
                }
                Some(Wake::Overflow) => self.on_overflow(now)?,
                Some(Wake::Nudge) => trace!("signal: sent by a process (shutdown)"),
                None => {}
            }
            for token in std::mem::take(&mut self.again) {
                self.on_ready(token);
            }

            // 4. Timers that are due: a /delay's answer, a 408, an idle close.
            let now = Instant::now();
            self.fire_timers(now);

            // 5. The end of an accept pause: the clients that waited raised
            //    their signals already, so accept them now.
            self.watch_listener(now)?;
        }
    }
    // ANCHOR_END: event_loop

    // ANCHOR: wait
    /// `sigtimedwait` for one signal, until `deadline`. EINTR (a signal
    /// outside the set) is retried with what is left of the *same*
    /// deadline, so a signal never stretches a `/delay`.
    fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Option<Wake>> {
        loop {
            let left = match deadline {
                Some(at) => at.saturating_duration_since(Instant::now()),
                None => NO_DEADLINE,
            };
            match sys::wait(left) {
                Ok(wake) => {
                    if wake.is_none() && !left.is_zero() {
                        trace!("sigtimedwait: timed out after {left:.1?}");
                    }
                    return Ok(wake);
                }
                Err(err) if interrupted(&err) => trace!("sigtimedwait: EINTR, retrying"),
                Err(err) => return Err(err),
            }
        }
    }
    // ANCHOR_END: wait

    // ANCHOR: on_accept
    /// The listener signalled: accept until EAGAIN. One signal can stand for
    /// many clients, and none would be signalled again.
    fn on_accept(&mut self, now: Instant) {
        if !self.listening || self.stopping {
            return;
        }
        loop {
            match self.acceptor.accept(now) {
                Accept::Client(stream) => {
                    if let Some(conn) = admit(stream, &self.service, &self.places, None) {
                        self.register(conn);
                    }
                }
                Accept::Refused => {} // out of fds: one refused, maybe more waiting
                Accept::WouldBlock => return,
                Accept::Paused => {
                    self.listening = false;
                    return;
                }
            }
        }
    }

    /// A new connection turns on its signals (`O_ASYNC`), and is served at
    /// once: bytes that arrived before that raised no signal.
    fn register(&mut self, conn: Conn) {
        let token = self.clients.next_token();
        if let Err(err) = sys::set_async(&conn.fd()) {
            trace!("fcntl fd={}: {err}; closing", conn.fd());
            return;
        }
        self.tokens.insert(conn.fd(), token);
        let mut client = Client::new(conn, ());
        client.schedule(token, &mut self.timers);
        self.clients.insert(client);
        self.on_ready(token);
    }
    // ANCHOR_END: on_accept

    // ANCHOR: on_ready
    /// A signal for a connection (or work left over): read, write, and
    /// settle. Signals say "something changed", not what: a read and a
    /// write are both tried, and each stops at EAGAIN.
    fn on_ready(&mut self, token: usize) {
        // A token whose connection was closed earlier in this same round:
        // nothing to do.
        let Some(client) = self.clients.get_mut(token) else {
            return;
        };
        let conn = &mut client.conn;
        let read = drain(conn, &mut self.buf);
        let wrote = write(conn);
        // Work left that no signal will announce: the read budget was spent
        // (bytes wait in the socket), or the read stopped for want of room
        // and the write has just made room. A write that hit EAGAIN is not
        // here: the kernel signals when there is room (POLL_OUT).
        let unfinished = (read == Progress::Unfinished && conn.wants_read())
            || (wrote == Progress::Unfinished && conn.wants_write());
        self.settle(token, unfinished);
    }
    // ANCHOR_END: on_ready

    // ANCHOR: settle
    /// After anything happened to a connection: close it if it is done;
    /// otherwise keep its timer in line with its deadline and, if it has
    /// work left, put it on `again`.
    fn settle(&mut self, token: usize, unfinished: bool) {
        let Some(fd) = self.clients.get_mut(token).map(|client| client.conn.fd()) else {
            return;
        };
        // Done (answered and closing, failed, idle at shutdown): closed.
        let Some(client) = self.clients.open_or_close(token) else {
            self.tokens.remove(&fd);
            return;
        };
        client.schedule(token, &mut self.timers);
        if unfinished {
            self.again.push(token);
        }
    }
    // ANCHOR_END: settle

    // ANCHOR: fire_timers
    /// Fires every timer that is due (stale heap entries are skipped), and
    /// writes what each released.
    fn fire_timers(&mut self, now: Instant) {
        for token in self.timers.due(now, &mut self.clients) {
            let Some(client) = self.clients.get_mut(token) else {
                continue;
            };
            client.conn.fire(now);
            let unfinished = write(&mut client.conn) == Progress::Unfinished;
            self.settle(token, unfinished);
        }
    }
    // ANCHOR_END: fire_timers

    /// Accepting is off during an accept pause (out of fds with no
    /// reserve). At its end nothing will signal again for the clients that
    /// waited (they signalled already): accept them now.
    fn watch_listener(&mut self, now: Instant) -> io::Result<()> {
        let wanted = self.acceptor.wants_accept(now);
        if wanted && !self.listening && !self.stopping {
            trace!("listener: accepting again");
            self.listening = true;
            self.on_accept(now);
        }
        Ok(())
    }

    /// Shutdown: accepting stops (the listener is shut down), and every
    /// idle connection is closed.
    fn stop(&mut self) -> io::Result<()> {
        self.stopping = true;
        for token in self.clients.tokens() {
            self.settle(token, false);
        }
        Ok(())
    }

    // ANCHOR: overflow
    /// The real-time queue overflowed (its length is `RLIMIT_SIGPENDING`,
    /// per user): the kernel dropped signals and raised plain SIGIO, which
    /// names no fd. Which fds changed is lost, so every one is served, as a
    /// busy-poll loop would, once. Real-time signals still queued are
    /// taken first and thrown away: the sweep covers them all.
    fn on_overflow(&mut self, now: Instant) -> io::Result<()> {
        let mut dropped = 0;
        while let Some(Wake::Ready { .. } | Wake::Overflow) = sys::wait(Duration::ZERO)? {
            dropped += 1;
        }
        trace!(
            "signal: SIGIO, the real-time queue overflowed: serving all {} connections ({dropped} queued signals dropped)",
            self.clients.len()
        );
        self.on_accept(now);
        for token in self.clients.tokens() {
            self.on_ready(token);
        }
        Ok(())
    }
    // ANCHOR_END: overflow
}

// ANCHOR: read
/// Signals are edge-like (one per change): read until EAGAIN, or nothing
/// announces the rest. At most [`READ_BUDGET`] reads, so a fast sender
/// cannot starve the rest; what it leaves goes on `again`.
fn drain(conn: &mut Conn, buf: &mut [u8]) -> Progress {
    for _ in 0..READ_BUDGET {
        if !conn.wants_read() {
            return Progress::Unfinished; // backpressure: the bytes stay in the kernel
        }
        match conn.read(buf) {
            Io::Bytes(_) => {}
            // EINTR: nothing was read. Read again.
            Io::Interrupted => {}
            // EAGAIN: drained, the socket is empty. EOF, error: nothing follows.
            Io::WouldBlock | Io::Eof | Io::Failed => return Progress::Done,
        }
    }
    trace!("read fd={}: budget of {READ_BUDGET} reads spent", conn.fd());
    Progress::Unfinished
}
// ANCHOR_END: read

// ANCHOR: write
/// Writes what the protocol has to say until it is all sent, the send
/// buffer is full (EAGAIN), or [`WRITE_BUDGET`] writes are made.
fn write(conn: &mut Conn) -> Progress {
    for _ in 0..WRITE_BUDGET {
        if !conn.wants_write() {
            return Progress::Done;
        }
        match conn.write() {
            // A partial write is normal: the protocol keeps the tail; offer it again.
            Io::Bytes(_) => {}
            // EINTR: nothing was written. Write again.
            Io::Interrupted => {}
            // EAGAIN: the send buffer is full (the client reads slowly).
            // A signal (POLL_OUT) brings the loop back when there is room.
            Io::WouldBlock | Io::Eof | Io::Failed => return Progress::Done,
        }
    }
    match conn.wants_write() {
        true => Progress::Unfinished, // budget spent, bytes left: served again
        false => Progress::Done,
    }
}
// ANCHOR_END: write
