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

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use plumbing::conn::{
    Acceptor, Conn, Drain, Places, READ_BUF, Reads, ShowTimeout, admit, earliest, timeout_ms,
};
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

/// Most reads per connection per wake-up (mio is edge-triggered).
const READ_BUDGET: usize = 16;

/// The connection side of one worker: its epoll and its connections.
struct Connections {
    /// mio's `Poll`: an epoll instance and its registry.
    poll: Poll,
    /// The connections, by token.
    clients: Table<Client<Option<Interest>>>,
    /// Their deadlines, earliest first.
    timers: Timers,
    /// One read buffer for all connections: each read is handed over at once.
    buf: Vec<u8>,
}

/// One worker, set up and ready to serve.
pub struct Worker {
    /// Its own listener, non-blocking, with its reserve fd.
    acceptor: Acceptor,
    /// Protocol, site, timeouts: shared by every connection.
    service: Arc<Service>,
    /// `--max-conns`, counted over all workers.
    places: Places,
    /// Its epoll instance and connections.
    conns: Connections,
}

impl Worker {
    // ANCHOR: setup
    /// Creates the worker's `Poll` and its waker, and registers its
    /// listener. Done for every worker before any of them serves.
    pub fn new(listener: TcpListener, service: Arc<Service>, places: Places) -> io::Result<Worker> {
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
        Ok(Worker {
            acceptor,
            service,
            places,
            conns: Connections {
                poll,
                clients: Table::default(),
                timers: Timers::default(),
                buf: vec![0u8; READ_BUF],
            },
        })
    }
    // ANCHOR_END: setup

    // ANCHOR: event_loop
    /// Serves until shutdown.
    pub fn serve(self) -> io::Result<()> {
        let Worker {
            mut acceptor,
            service,
            places,
            mut conns,
        } = self;
        let listener_fd = acceptor.as_fd().as_raw_fd();
        let mut accepting = true;
        let mut events = Events::with_capacity(MAX_EVENTS);
        let mut stopping = false;
        loop {
            // 0. Shutdown: stop watching the listener, close the idle
            //    connections once, and end when the busy ones have finished.
            if shutdown::requested() && !stopping {
                stopping = true;
                if accepting {
                    conns
                        .poll
                        .registry()
                        .deregister(&mut SourceFd(&listener_fd))?;
                }
                for token in conns.clients.tokens() {
                    conns.settle(token, false);
                }
            }
            if stopping && conns.clients.is_empty() {
                trace!("shutdown: no connections left");
                return Ok(());
            }

            // 1. Wait for ready fds, or the earliest timer. mio returns EINTR
            //    to the caller: wait again; the timeout is recomputed from the
            //    same deadlines, so a signal never stretches it.
            let deadline = earliest([conns.timers.next(), acceptor.deadline()]);
            let timeout = timeout_ms(deadline, Instant::now());
            match conns.poll.poll(&mut events, timeout) {
                Ok(()) => trace!(
                    "poll: {} fds ready ({})",
                    events.iter().count(),
                    ShowTimeout(timeout)
                ),
                Err(err) if interrupted(&err) => {
                    trace!("poll: EINTR, retrying");
                    continue;
                }
                Err(err) => return Err(err),
            }

            // 2. Only the fds that are ready.
            let now = Instant::now();
            for event in &events {
                match event.token() {
                    LISTENER => {
                        acceptor.accept_all(now, |stream, _peer| {
                            if let Some(conn) = admit(stream, &service, &places, None) {
                                conns.register(conn);
                            }
                        });
                    }
                    WAKER => trace!("waker: shutdown requested"),
                    Token(token) => conns.on_event(token, event),
                }
            }

            // 3. Timers that are due.
            let now = Instant::now();
            conns.fire_timers(now);

            // 4. The listener is deregistered during an accept pause and
            //    registered again after it (which also re-arms it).
            let wanted = acceptor.wants_accept(now);
            if wanted != accepting && !shutdown::requested() {
                trace!("listener: accepting {wanted}");
                let mut source = SourceFd(&listener_fd);
                match wanted {
                    true => {
                        conns
                            .poll
                            .registry()
                            .register(&mut source, LISTENER, Interest::READABLE)?
                    }
                    false => conns.poll.registry().deregister(&mut source)?,
                }
                accepting = wanted;
            }
        }
    }
    // ANCHOR_END: event_loop
}

impl Connections {
    // ANCHOR: register
    /// A new connection is registered, for reading only.
    fn register(&mut self, conn: Conn) {
        let token = self.clients.next_token();
        let fd = conn.fd();
        if let Err(err) =
            self.poll
                .registry()
                .register(&mut SourceFd(&fd), Token(token), Interest::READABLE)
        {
            trace!("register fd={fd}: {err}; closing");
            return;
        }
        let mut client = Client::new(conn, Some(Interest::READABLE));
        client.schedule(token, &mut self.timers);
        self.clients.insert(client);
    }
    // ANCHOR_END: register

    // ANCHOR: on_event
    /// One ready connection: read, write, and settle its interest.
    fn on_event(&mut self, token: usize, event: &mio::event::Event) {
        let Some(client) = self.clients.get_mut(token) else {
            return; // closed earlier in this batch
        };
        let conn = &mut client.conn;
        // An error, or both directions closed (EPOLLHUP): the peer is gone.
        // A plain half-close is `is_read_closed` alone, and reads as EOF.
        if event.is_error() || event.is_write_closed() {
            conn.on_hangup();
        }
        let mut unfinished = false;
        if event.is_readable() {
            // Edge-triggered: drain to EAGAIN, within the budget.
            let reads = Reads::UntilWouldBlock {
                budget: READ_BUDGET,
            };
            unfinished |= conn.on_readable(&mut self.buf, reads) == Drain::Unfinished;
        }
        if conn.wants_write() {
            unfinished |= conn.on_writable() == Drain::Unfinished;
        }
        self.settle(token, unfinished);
    }
    // ANCHOR_END: on_event

    // ANCHOR: settle
    /// After anything happened to a connection: close it if it is done,
    /// otherwise bring its registration in line with what it wants.
    fn settle(&mut self, token: usize, unfinished: bool) {
        let Some(client) = self.clients.open_or_close(token) else {
            return;
        };
        let wanted = match (client.conn.wants_read(), client.conn.wants_write()) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        };
        // reregister is EPOLL_CTL_MOD: it also re-arms an fd left unfinished.
        if wanted != client.registered || unfinished {
            let fd = client.conn.fd();
            let registry = self.poll.registry();
            let mut source = SourceFd(&fd);
            trace!("reregister fd={fd}: {wanted:?}");
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

    /// Fires every timer that is due, skipping stale heap entries (the same
    /// as `server.rs`).
    fn fire_timers(&mut self, now: Instant) {
        for token in self.timers.due(now, &mut self.clients) {
            let unfinished = self.clients.get_mut(token).is_some_and(|c| c.fire(now));
            self.settle(token, unfinished);
        }
    }
}
