//! The signal-driven loop: every socket raises a real-time signal carrying
//! its fd when it becomes ready; the loop takes the signals one by one with
//! `sigtimedwait` and serves the fd each names.

use std::collections::HashMap;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use plumbing::conn::{Acceptor, Drain, Places, READ_BUF, Reads, admit};
use plumbing::table::{Client, Table};
use plumbing::timers::Timers;
use plumbing::{interrupted, shutdown, trace};
use protocol::Service;

use crate::sys::{self, Wake};

/// Most reads per connection per signal. Signals are edge-like (one per
/// arrival of data), so a connection is read until EAGAIN; the budget stops
/// one fast sender from holding the loop, and what it leaves is taken up
/// again on the next round (`again`), with no signal to say so.
const READ_BUDGET: usize = 16;

/// The longest sleep in `sigtimedwait` with no deadline at all.
const NO_DEADLINE: Duration = Duration::from_secs(3600);

/// The server: one thread, one loop.
pub struct Loop {
    /// The listener, non-blocking, with O_ASYNC: it signals new clients too.
    acceptor: Acceptor,
    /// Protocol, site, timeouts: shared by every connection.
    service: Arc<Service>,
    /// `--max-conns`.
    places: Places,
    /// The connections, by token. A token's connection has no `registered`
    /// interest to remember: a signal-driven fd signals every change.
    clients: Table<Client<()>>,
    /// A signal names an fd; the table wants a token.
    tokens: HashMap<RawFd, usize>,
    /// Their deadlines, earliest first.
    timers: Timers,
    /// Connections to serve again without waiting for a signal: a read or
    /// write stopped with work left (budget spent, or backpressure just
    /// lifted), and the kernel will not signal what it signalled already.
    again: Vec<usize>,
    /// One read buffer for all connections.
    buf: Vec<u8>,
}

impl Loop {
    // ANCHOR: setup
    /// Turns on signal-driven I/O for the listener. Clients that connected
    /// before raised no signal: the first round accepts them.
    pub fn new(listener: TcpListener, service: Arc<Service>, max_conns: usize) -> io::Result<Loop> {
        let acceptor = Acceptor::new(listener, &service)?;
        sys::set_async(&acceptor.as_fd())?;
        // Shutdown wakes the loop with the same real-time signal, sent by
        // the signal thread (its siginfo says a process sent it, not an fd).
        shutdown::on_request(sys::nudge);
        Ok(Loop {
            acceptor,
            service,
            places: Places::new(max_conns),
            clients: Table::default(),
            tokens: HashMap::new(),
            timers: Timers::default(),
            again: Vec::new(),
            buf: vec![0u8; READ_BUF],
        })
    }
    // ANCHOR_END: setup

    // ANCHOR: event_loop
    /// Serves until shutdown.
    pub fn serve(mut self) -> io::Result<()> {
        let mut stopping = false;
        self.accept(Instant::now());
        loop {
            // 0. Shutdown: close the idle connections once; end when the
            //    busy ones have finished. (The listener is shut down, and
            //    `accept` does nothing any more.)
            if shutdown::requested() && !stopping {
                stopping = true;
                for token in self.clients.tokens() {
                    self.settle(token, false);
                }
            }
            if stopping && self.clients.is_empty() {
                trace!("shutdown: no connections left");
                return Ok(());
            }

            // 1. Wait for one signal, or the earliest timer. Not at all if
            //    connections are waiting in `again`: take a signal only if
            //    one is pending.
            let deadline = match self.again.is_empty() {
                true => plumbing::conn::earliest([self.timers.next(), self.acceptor.deadline()]),
                false => Some(Instant::now()),
            };
            let wake = wait(deadline)?;

            // 2. Serve what the signal names.
            let now = Instant::now();
            match wake {
                Some(Wake::Ready { fd, band }) if fd == self.acceptor.as_fd().as_raw_fd() => {
                    trace!("signal: listener fd={fd} ready (band {band:#x})");
                    self.accept(now);
                }
                Some(Wake::Ready { fd, band }) => {
                    trace!("signal: fd={fd} ready (band {band:#x})");
                    // A signal for an fd closed since (or closed and reused
                    // by a new client) finds nothing, or a read that gets
                    // EAGAIN: a spurious wake-up, harmless either way.
                    match self.tokens.get(&fd) {
                        Some(&token) => self.on_signal(token),
                        None => trace!("fd={fd}: no connection (closed since): nothing to do"),
                    }
                }
                Some(Wake::Overflow) => self.on_overflow(now)?,
                Some(Wake::Nudge) => trace!("signal: sent by a process (shutdown)"),
                None => {}
            }
            for token in std::mem::take(&mut self.again) {
                self.on_signal(token);
            }

            // 3. Timers that are due, and the end of an accept pause (the
            //    clients that waited raised their signals already).
            let now = Instant::now();
            for token in self.timers.due(now, &mut self.clients) {
                let unfinished = self.clients.get_mut(token).is_some_and(|c| c.fire(now));
                self.settle(token, unfinished);
            }
            if self.acceptor.deadline().is_some_and(|until| now >= until) {
                self.accept(now);
            }
        }
    }
    // ANCHOR_END: event_loop

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
        self.accept(now);
        for token in self.clients.tokens() {
            self.on_signal(token);
        }
        Ok(())
    }
    // ANCHOR_END: overflow

    // ANCHOR: accept
    /// Accepts every waiting client, turns on its signals, and serves it at
    /// once: bytes that arrived before O_ASYNC was set raised no signal.
    fn accept(&mut self, now: Instant) {
        if !self.acceptor.wants_accept(now) {
            return;
        }
        let mut accepted = Vec::new();
        self.acceptor
            .accept_all(now, |stream, _peer| accepted.push(stream));
        for stream in accepted {
            let Some(conn) = admit(stream, &self.service, &self.places, None) else {
                continue;
            };
            if let Err(err) = sys::set_async(&conn.fd()) {
                trace!("fcntl fd={}: {err}; closing", conn.fd());
                continue;
            }
            let fd = conn.fd();
            let token = self.clients.insert(Client::new(conn, ()));
            self.tokens.insert(fd, token);
            self.on_signal(token);
        }
    }
    // ANCHOR_END: accept

    // ANCHOR: on_signal
    /// A signal for a connection (or a sweep): read until EAGAIN, write what
    /// is owed, and settle. Signals say "something changed", not what: a
    /// read and a write are both tried, and each stops at EAGAIN.
    fn on_signal(&mut self, token: usize) {
        let Some(client) = self.clients.get_mut(token) else {
            return;
        };
        let conn = &mut client.conn;
        let reads = Reads::UntilWouldBlock {
            budget: READ_BUDGET,
        };
        let read = conn.on_readable(&mut self.buf, reads);
        let wrote = match conn.wants_write() {
            true => conn.on_writable(),
            false => Drain::Done,
        };
        // Work left that no signal will announce: the read budget was spent
        // (bytes wait in the socket), or the read stopped for want of room
        // and the write has just made room. A write that hit EAGAIN is not
        // here: the kernel signals when there is room (POLL_OUT).
        let unfinished = (read == Drain::Unfinished && conn.wants_read())
            || (wrote == Drain::Unfinished && conn.wants_write());
        self.settle(token, unfinished);
    }
    // ANCHOR_END: on_signal

    /// After anything happened to a connection: close it if it is done,
    /// otherwise keep its timer in line and, if it has work left, put it on
    /// `again`.
    fn settle(&mut self, token: usize, unfinished: bool) {
        let Some(fd) = self.clients.get_mut(token).map(|client| client.conn.fd()) else {
            return;
        };
        let Some(client) = self.clients.open_or_close(token) else {
            self.tokens.remove(&fd); // closed
            return;
        };
        client.schedule(token, &mut self.timers);
        if unfinished {
            self.again.push(token);
        }
    }
}

/// Waits for a signal until `deadline` (`None`: no deadline). EINTR (a
/// signal outside the set) is retried against the same deadline, so it
/// never stretches a `/delay`.
fn wait(deadline: Option<Instant>) -> io::Result<Option<Wake>> {
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
