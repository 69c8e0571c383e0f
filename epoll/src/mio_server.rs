//! One epoll worker again, written on mio instead of raw epoll. Read it
//! beside `server.rs`: the loop has the same steps in the same order, and
//! the differences are what mio does for you.
//!
//! - **Edge-triggered, always.** mio registers every fd with `EPOLLET`
//!   (and `EPOLLRDHUP`), with no level-triggered option: so this loop
//!   drains to EAGAIN, under the same budget, and re-arms what it leaves.
//! - **Tokens.** `Token(usize)` instead of a bare `u64` in
//!   `epoll_event.data`; `Interest` instead of `EpollFlags`, which cannot be
//!   empty: a connection that wants nothing is deregistered instead.
//! - **A waker.** `mio::Waker` (an eventfd registered in the same epoll)
//!   lets another thread wake `poll`: here the signal thread, on shutdown.
//! - **Portable names.** `Event::is_readable`, `is_error`,
//!   `is_write_closed` instead of testing `EPOLLIN`/`EPOLLERR`/`EPOLLHUP`.
//!
//! What mio does not do: timers (the same heap as `server.rs`), EINTR (it
//! returns it; retried here), and anything about the bytes.

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::time::Instant;

use mio::event::Event;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use plumbing::admission::Places;
use plumbing::conn::{Conn, Io, Progress, READ_BUDGET, READ_BUF, WRITE_BUDGET, admit};
use plumbing::deadline::{ShowTimeout, earliest, timeout_ms};
use plumbing::nonblocking_accept::{Accept, Acceptor};
use plumbing::table::{Client, Table};
use plumbing::timers::Timers;
use plumbing::{interrupted, shutdown, trace};
use protocol::Service;

/// The listener's token; connections use their slot in the table.
const LISTENER: Token = Token(usize::MAX);
/// The waker's token: an event with it means "shutdown was requested".
const WAKER: Token = Token(usize::MAX - 1);

/// Most events one `poll` returns.
const MAX_EVENTS: usize = 1024;

/// One worker: one thread, one loop.
pub struct Loop {
    /// The listener, non-blocking, with its reserve fd.
    acceptor: Acceptor,
    /// Whether the listener is registered now.
    listening: bool,
    /// Protocol, site, timeouts: shared by every connection.
    service: Arc<Service>,
    /// `--max-conns`, counted over all workers.
    places: Places,
    /// The connections, by token, with the interest each is registered for.
    clients: Table<Client<Option<Interest>>>,
    /// Their deadlines, earliest first.
    timers: Timers,
    /// One read buffer for all connections: each read is handed over at once.
    buf: Vec<u8>,
    /// Shutdown was requested and acted on.
    stopping: bool,
    /// mio's `Poll`: an epoll instance and its registry.
    poll: Poll,
}

impl Loop {
    // ANCHOR: setup
    /// Creates the worker's `Poll` and its waker, and registers its
    /// listener. Done for every worker before any of them serves.
    pub fn new(listener: TcpListener, service: Arc<Service>, places: Places) -> io::Result<Loop> {
        let acceptor = Acceptor::new(listener, &service)?;
        let poll = Poll::new()?; // epoll_create1
        // Shutdown wakes the loop through the waker, from the signal thread.
        let waker = Waker::new(poll.registry(), WAKER)?;
        shutdown::on_request(move || {
            let _ = waker.wake();
        });
        // A raw fd registers through `SourceFd`; mio's own `TcpListener`
        // would do the same inside.
        let listener_fd = acceptor.as_fd().as_raw_fd();
        poll.registry()
            .register(&mut SourceFd(&listener_fd), LISTENER, Interest::READABLE)?;
        Ok(Loop {
            acceptor,
            listening: true,
            service,
            places,
            clients: Table::default(),
            timers: Timers::default(),
            buf: vec![0u8; READ_BUF],
            stopping: false,
            poll,
        })
    }
    // ANCHOR_END: setup

    // ANCHOR: event_loop
    /// Serves until shutdown.
    pub fn serve(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(MAX_EVENTS);
        loop {
            // 1. Shutdown: stop watching the listener, close the idle
            //    connections once, and end when the busy ones have finished.
            if shutdown::requested() && !self.stopping {
                self.stop()?;
            }
            if self.stopping && self.clients.is_empty() {
                trace!("shutdown: no connections left");
                return Ok(());
            }

            // 2. Wait until an fd is ready, or the earliest deadline.
            let deadline = earliest([self.timers.next(), self.acceptor.deadline()]);
            self.wait(&mut events, deadline)?;

            // 3. Dispatch: only the fds that are ready, no scan over all.
            let now = Instant::now();
            for event in &events {
                match event.token() {
                    LISTENER => self.on_accept(now),
                    WAKER => trace!("waker: shutdown requested"),
                    Token(token) => self.on_ready(token, event),
                }
            }

            // 4. Timers that are due: a /delay's answer, a 408, an idle close.
            let now = Instant::now();
            self.fire_timers(now);

            // 5. The listener's interest follows the acceptor: deregistered
            //    during an accept pause, registered (and re-armed) after it.
            self.watch_listener(now)?;
        }
    }
    // ANCHOR_END: event_loop

    // ANCHOR: wait
    /// mio's `poll` (`epoll_wait`) until an fd is ready or `deadline`. mio
    /// returns EINTR to the caller: it is retried with what is left of the
    /// *same* deadline, so a signal never stretches a `/delay`.
    fn wait(&mut self, events: &mut Events, deadline: Option<Instant>) -> io::Result<()> {
        loop {
            let left = timeout_ms(deadline, Instant::now());
            match self.poll.poll(events, left) {
                Ok(()) => {
                    let n = events.iter().count();
                    trace!("poll: {n} fds ready ({})", ShowTimeout(left));
                    return Ok(());
                }
                Err(err) if interrupted(&err) => trace!("poll: EINTR, retrying"),
                Err(err) => return Err(err),
            }
        }
    }
    // ANCHOR_END: wait

    // ANCHOR: on_accept
    /// The listener is readable: accept until EAGAIN. One report can stand
    /// for many clients, and edge-triggered, none would be reported again.
    fn on_accept(&mut self, now: Instant) {
        loop {
            match self.acceptor.accept(now) {
                Accept::Client(stream) => {
                    if let Some(conn) = admit(stream, &self.service, &self.places, None) {
                        self.register(conn);
                    }
                }
                Accept::Refused => {} // out of fds: one refused, maybe more waiting
                Accept::WouldBlock | Accept::Paused => return,
            }
        }
    }

    /// A new connection is registered, for reading only: it has nothing to
    /// write yet.
    fn register(&mut self, conn: Conn) {
        let token = self.clients.next_token();
        let interest = Interest::READABLE;
        if let Err(err) =
            self.poll
                .registry()
                .register(&mut SourceFd(&conn.fd()), Token(token), interest)
        {
            trace!("register fd={}: {err}; closing", conn.fd());
            return;
        }
        let mut client = Client::new(conn, Some(interest));
        client.schedule(token, &mut self.timers);
        self.clients.insert(client);
    }
    // ANCHOR_END: on_accept

    // ANCHOR: on_ready
    /// One ready connection: read, write, and settle its interest.
    fn on_ready(&mut self, token: usize, ready: &Event) {
        // A token whose connection was closed earlier in this same batch
        // of events: nothing to do.
        let Some(client) = self.clients.get_mut(token) else {
            return;
        };
        let conn = &mut client.conn;
        // An error, or both directions closed (EPOLLHUP): the peer is gone.
        // A plain half-close is `is_read_closed` alone, and reads as EOF.
        if ready.is_error() || ready.is_write_closed() {
            conn.hang_up();
        }
        let mut unfinished = false;
        if ready.is_readable() {
            unfinished |= drain(conn, &mut self.buf) == Progress::Unfinished;
        }
        // Write after a read (the answer usually fits at once) or when the
        // socket has room again (writable).
        unfinished |= write(conn) == Progress::Unfinished;
        self.settle(token, unfinished);
    }
    // ANCHOR_END: on_ready

    // ANCHOR: settle
    /// After anything happened to a connection: close it if it is done;
    /// otherwise bring its registration in line with what it wants, and its
    /// timer in line with its deadline.
    fn settle(&mut self, token: usize, unfinished: bool) {
        // Done (answered and closing, failed, idle at shutdown): closed.
        let Some(client) = self.clients.open_or_close(token) else {
            return;
        };
        let wanted = match (client.conn.wants_read(), client.conn.wants_write()) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        };
        // `reregister` is EPOLL_CTL_MOD when the interest changed, and also
        // after a read or write stopped unfinished: it re-arms the spent edge.
        if wanted != client.registered || unfinished {
            let fd = client.conn.fd();
            trace!("reregister fd={fd}: {wanted:?}");
            let registry = self.poll.registry();
            let mut source = SourceFd(&fd);
            let result = match (client.registered, wanted) {
                (None, Some(interest)) => registry.register(&mut source, Token(token), interest),
                (Some(_), Some(interest)) => {
                    registry.reregister(&mut source, Token(token), interest)
                }
                (Some(_), None) => registry.deregister(&mut source),
                (None, None) => Ok(()),
            };
            if let Err(err) = result {
                trace!("reregister fd={fd}: {err}; closing");
                self.clients.remove(token);
                return;
            }
            client.registered = wanted;
        }
        client.schedule(token, &mut self.timers);
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

    /// The listener is registered while the acceptor wants clients, and
    /// deregistered during an accept pause (out of fds with no reserve);
    /// registering it again also re-arms it.
    fn watch_listener(&mut self, now: Instant) -> io::Result<()> {
        let wanted = self.acceptor.wants_accept(now);
        if wanted != self.listening && !self.stopping {
            trace!("listener: accepting {wanted}");
            self.listening = wanted;
            let fd = self.acceptor.as_fd().as_raw_fd();
            let registry = self.poll.registry();
            match wanted {
                true => registry.register(&mut SourceFd(&fd), LISTENER, Interest::READABLE)?,
                false => registry.deregister(&mut SourceFd(&fd))?,
            }
        }
        Ok(())
    }

    /// Shutdown: the listener is deregistered (shut down, it would be
    /// reported for ever), and every idle connection is closed.
    fn stop(&mut self) -> io::Result<()> {
        self.stopping = true;
        if self.listening {
            let fd = self.acceptor.as_fd().as_raw_fd();
            self.poll.registry().deregister(&mut SourceFd(&fd))?;
        }
        for token in self.clients.tokens() {
            self.settle(token, false);
        }
        Ok(())
    }
}

// ANCHOR: read
/// Edge-triggered: read until EAGAIN, or nothing reports the rest again
/// (the kernel reports a change, once). At most [`READ_BUDGET`] reads, so a
/// fast sender cannot starve the rest; what it leaves is re-armed.
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
            // Write interest brings the loop back when there is room.
            Io::WouldBlock | Io::Eof | Io::Failed => return Progress::Done,
        }
    }
    match conn.wants_write() {
        true => Progress::Unfinished, // budget spent, bytes left: re-armed
        false => Progress::Done,
    }
}
// ANCHOR_END: write
