//! One epoll worker: its own epoll instance, its own listener, its own
//! connections, in one loop. `epoll_wait` returns only the fds that are
//! ready, so the work per wake-up follows the ready fds, not all of them.

use std::io;
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use plumbing::conn::{
    Acceptor, Conn, Drain, Places, READ_BUF, Reads, ShowTimeout, admit, earliest, poll_timeout,
    timeout_ms,
};
use plumbing::table::{Client, Table};
use plumbing::timers::Timers;
use plumbing::{shutdown, trace};
use protocol::Service;

use crate::Trigger;

/// The token of the listener in `epoll_event.data`; connections use their
/// slot in the table, which never gets this high.
const LISTENER: u64 = u64::MAX;

/// Most events one `epoll_wait` returns. More ready fds wait for the next
/// call (the kernel rotates its ready list, so none is starved).
const MAX_EVENTS: usize = 1024;

/// Edge-triggered: most reads per connection per wake-up. 16 reads of up to
/// 16 KiB: a fast sender cannot keep the loop to itself while the others wait.
const READ_BUDGET: usize = 16;

/// The connection side of one worker: its epoll and its connections.
struct Connections {
    /// The epoll instance: the kernel's interest list and ready list.
    epoll: Epoll,
    /// `--trigger`: level or edge, for every registration.
    trigger: Trigger,
    /// The connections, by token.
    clients: Table<Client<EpollFlags>>,
    /// Their deadlines, earliest first.
    timers: Timers,
    /// One read buffer for all connections: each read is handed over at once.
    buf: Vec<u8>,
}

/// One worker, set up and ready to serve.
pub struct Worker {
    /// Its own listener, non-blocking, with its reserve fd.
    acceptor: Acceptor,
    /// The events the listener is registered for now.
    accepting: EpollFlags,
    /// Protocol, site, timeouts: shared by every connection.
    service: Arc<Service>,
    /// `--max-conns`, counted over all workers.
    places: Places,
    /// Its epoll instance and connections.
    conns: Connections,
}

impl Worker {
    // ANCHOR: setup
    /// Creates the worker's epoll instance and registers its listener,
    /// once, for reading (a client to accept). Done for every worker before
    /// any of them serves, so a failure here is a start-up error.
    pub fn new(
        listener: TcpListener,
        service: Arc<Service>,
        places: Places,
        trigger: Trigger,
    ) -> io::Result<Worker> {
        let acceptor = Acceptor::new(listener, &service)?;
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?; // epoll_create1
        let accepting = trigger.flags() | EpollFlags::EPOLLIN;
        epoll.add(acceptor.as_fd(), EpollEvent::new(accepting, LISTENER))?;
        Ok(Worker {
            acceptor,
            accepting,
            service,
            places,
            conns: Connections {
                epoll,
                trigger,
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
            mut accepting,
            service,
            places,
            mut conns,
        } = self;
        let trigger = conns.trigger;
        let mut events = vec![EpollEvent::empty(); MAX_EVENTS];
        let mut stopping = false;
        loop {
            // 0. Shutdown: stop watching the listener (shut down, it would be
            //    reported for ever), close the idle connections once, and end
            //    when the busy ones have finished.
            if shutdown::requested() && !stopping {
                stopping = true;
                conns.epoll.delete(acceptor.as_fd())?;
                for token in conns.clients.tokens() {
                    conns.settle(token, false);
                }
            }
            if stopping && conns.clients.is_empty() {
                trace!("shutdown: no connections left");
                return Ok(());
            }

            // 1. Wait for ready fds, or the earliest timer (or the end of an
            //    accept pause).
            let deadline = earliest([conns.timers.next(), acceptor.deadline()]);
            let n = wait(&conns.epoll, &mut events, deadline)?;

            // 2. Only the fds that are ready: no scan over all connections.
            let now = Instant::now();
            for event in &events[..n] {
                match event.data() {
                    LISTENER => {
                        acceptor.accept_all(now, |stream, _peer| {
                            if let Some(conn) = admit(stream, &service, &places, None) {
                                conns.register(conn);
                            }
                        });
                    }
                    token => conns.on_event(token as usize, event.events()),
                }
            }

            // 3. Timers that are due: a /delay's answer, a 408, an idle close.
            let now = Instant::now();
            conns.fire_timers(now);

            // 4. The listener's interest follows the acceptor: off during a
            //    pause (out of fds with no reserve), back on after it. Turning
            //    it back on also re-arms it for edge-triggered mode.
            let wanted = match acceptor.wants_accept(now) {
                true => trigger.flags() | EpollFlags::EPOLLIN,
                false => trigger.flags(),
            };
            if wanted != accepting && !shutdown::requested() {
                trace!("epoll_ctl MOD listener: {wanted:?}");
                accepting = wanted;
                let mut event = EpollEvent::new(accepting, LISTENER);
                conns.epoll.modify(acceptor.as_fd(), &mut event)?;
            }
        }
    }
    // ANCHOR_END: event_loop
}

// ANCHOR: wait
/// `epoll_wait` until an fd is ready or `deadline`. EINTR (a signal arrived
/// first) is retried with what is left of the *same* deadline, so a signal
/// never stretches a `/delay`.
fn wait(epoll: &Epoll, events: &mut [EpollEvent], deadline: Option<Instant>) -> io::Result<usize> {
    loop {
        let left = timeout_ms(deadline, Instant::now());
        match epoll.wait(events, poll_timeout(left)) {
            Ok(n) => {
                trace!("epoll_wait: {n} fds ready ({})", ShowTimeout(left));
                return Ok(n);
            }
            Err(Errno::EINTR) => trace!("epoll_wait: EINTR, retrying"),
            Err(errno) => return Err(errno.into()),
        }
    }
}
// ANCHOR_END: wait

impl Connections {
    // ANCHOR: register
    /// A new connection joins the interest list (`EPOLL_CTL_ADD`), for
    /// reading only: it has nothing to write yet.
    fn register(&mut self, conn: Conn) {
        let token = self.clients.next_token();
        let interest = self.trigger.flags() | EpollFlags::EPOLLIN;
        if let Err(err) = self
            .epoll
            .add(conn.as_fd(), EpollEvent::new(interest, token as u64))
        {
            trace!("epoll_ctl ADD fd={}: {err}; closing", conn.fd());
            return;
        }
        let mut client = Client::new(conn, interest);
        client.schedule(token, &mut self.timers);
        self.clients.insert(client);
    }
    // ANCHOR_END: register

    // ANCHOR: on_event
    /// One ready connection: read, write, and settle its interest.
    fn on_event(&mut self, token: usize, ready: EpollFlags) {
        // A token whose connection was closed earlier in this same batch
        // of events: nothing to do. (Its fd may be a new client's by now,
        // under a new token: that one gets its own events.)
        let Some(client) = self.clients.get_mut(token) else {
            return;
        };
        let conn = &mut client.conn;
        // Hang-up or error: the peer reset, or both directions are shut.
        // Reported even when not asked for: act on it, or it comes back
        // on every wait (level) and the connection lingers (edge).
        if ready.intersects(EpollFlags::EPOLLHUP | EpollFlags::EPOLLERR) {
            conn.on_hangup();
        }
        let mut unfinished = false;
        if ready.contains(EpollFlags::EPOLLIN) {
            // Level-triggered: one read; bytes left over are reported again.
            // Edge-triggered: drain to EAGAIN, or nothing reports them again.
            // The budget caps the drain so one fast sender cannot starve
            // the rest; what it leaves is re-armed in `settle`. So is what
            // backpressure leaves (no room for input until output drains).
            let reads = match self.trigger {
                Trigger::Level => Reads::Once,
                Trigger::Edge => Reads::UntilWouldBlock {
                    budget: READ_BUDGET,
                },
            };
            unfinished |= conn.on_readable(&mut self.buf, reads) == Drain::Unfinished;
        }
        // Write after a read (the answer usually fits at once) or when the
        // socket has room again (EPOLLOUT). A spurious wake-up finds EAGAIN
        // in `on_readable` and nothing to write here: harmless.
        if conn.wants_write() {
            unfinished |= conn.on_writable() == Drain::Unfinished;
        }
        self.settle(token, unfinished);
    }
    // ANCHOR_END: on_event

    // ANCHOR: settle
    /// After anything happened to a connection: close it if it is done;
    /// otherwise bring its registered events in line with what it wants
    /// (EPOLLOUT only while it has unsent bytes), and its timer in line with
    /// its deadline.
    fn settle(&mut self, token: usize, unfinished: bool) {
        // Done (answered and closing, failed, idle at shutdown): closed.
        let Some(client) = self.clients.open_or_close(token) else {
            return;
        };
        let mut wanted = self.trigger.flags();
        if client.conn.wants_read() {
            wanted |= EpollFlags::EPOLLIN;
        }
        if client.conn.wants_write() {
            wanted |= EpollFlags::EPOLLOUT;
        }
        // EPOLL_CTL_MOD when the interest changed, and also, edge-triggered,
        // after a read or write stopped unfinished (budget spent, or no room
        // for input): that fd's edge is spent, and bytes may be waiting. MOD
        // makes the kernel look at the fd again and report it if it is still
        // ready (re-arming it), so the rest comes back on a later wait,
        // after the other connections have had their turn.
        let rearm = unfinished && self.trigger == Trigger::Edge;
        if wanted != client.registered || rearm {
            let fd = client.conn.fd();
            trace!("epoll_ctl MOD fd={fd}: {wanted:?}");
            let mut event = EpollEvent::new(wanted, token as u64);
            if let Err(err) = self.epoll.modify(client.conn.as_fd(), &mut event) {
                trace!("epoll_ctl MOD fd={fd}: {err}; closing");
                self.clients.remove(token);
                return;
            }
            client.registered = wanted;
        }
        client.schedule(token, &mut self.timers);
    }
    // ANCHOR_END: settle

    // ANCHOR: fire_timers
    /// Fires every timer that is due, skipping stale heap entries.
    fn fire_timers(&mut self, now: Instant) {
        for token in self.timers.due(now, &mut self.clients) {
            let unfinished = self.clients.get_mut(token).is_some_and(|c| c.fire(now));
            self.settle(token, unfinished);
        }
    }
    // ANCHOR_END: fire_timers
}

impl Trigger {
    /// The flag every registration carries: EPOLLET for edge, none for level.
    fn flags(self) -> EpollFlags {
        match self {
            Trigger::Level => EpollFlags::empty(),
            Trigger::Edge => EpollFlags::EPOLLET,
        }
    }
}
