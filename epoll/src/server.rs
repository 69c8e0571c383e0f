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
use plumbing::admission::Places;
use plumbing::conn::{Conn, Io, Progress, READ_BUDGET, READ_BUF, WRITE_BUDGET, admit};
use plumbing::deadline::{ShowTimeout, earliest, poll_timeout, timeout_ms};
use plumbing::nonblocking_accept::{Accept, Acceptor};
use plumbing::table::{Client, Table};
use plumbing::timers::Timers;
use plumbing::{shutdown, trace};
use protocol::Service;

use crate::Trigger;

/// The listener's token in `epoll_event.data`; connections use their slot
/// in the table, which never gets this high.
const LISTENER: u64 = u64::MAX;

/// Most events one `epoll_wait` returns. More ready fds wait for the next
/// call (the kernel rotates its ready list, so none is starved).
const MAX_EVENTS: usize = 1024;

/// One worker: one thread, one loop.
pub struct Loop {
    /// The listener, non-blocking, with its reserve fd.
    acceptor: Acceptor,
    /// The events the listener is registered for now.
    listening: EpollFlags,
    /// Protocol, site, timeouts: shared by every connection.
    service: Arc<Service>,
    /// `--max-conns`, counted over all workers.
    places: Places,
    /// The connections, by token, with the events each is registered for.
    clients: Table<Client<EpollFlags>>,
    /// Their deadlines, earliest first.
    timers: Timers,
    /// One read buffer for all connections: each read is handed over at once.
    buf: Vec<u8>,
    /// Shutdown was requested and acted on.
    stopping: bool,
    /// The epoll instance: the kernel's interest list and ready list.
    epoll: Epoll,
    /// `--trigger`: level or edge, for every registration.
    trigger: Trigger,
}

impl Loop {
    // ANCHOR: setup
    /// Creates the worker's epoll instance and registers its listener,
    /// once, for reading (a client to accept). Done for every worker before
    /// any of them serves, so a failure here is a start-up error.
    pub fn new(
        listener: TcpListener,
        service: Arc<Service>,
        places: Places,
        trigger: Trigger,
    ) -> io::Result<Loop> {
        let acceptor = Acceptor::new(listener, &service)?;
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?; // epoll_create1
        let listening = trigger.flags() | EpollFlags::EPOLLIN;
        epoll.add(acceptor.as_fd(), EpollEvent::new(listening, LISTENER))?;
        Ok(Loop {
            acceptor,
            listening,
            service,
            places,
            clients: Table::default(),
            timers: Timers::default(),
            buf: vec![0u8; READ_BUF],
            stopping: false,
            epoll,
            trigger,
        })
    }
    // ANCHOR_END: setup

    // ANCHOR: event_loop
    /// Serves until shutdown.
    pub fn serve(mut self) -> io::Result<()> {
        let mut events = vec![EpollEvent::empty(); MAX_EVENTS];
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
            let n = self.wait(&mut events, deadline)?;

            // 3. Dispatch: only the fds that are ready, no scan over all.
            let now = Instant::now();
            for event in &events[..n] {
                match event.data() {
                    LISTENER => self.on_accept(now),
                    token => self.on_ready(token as usize, event.events()),
                }
            }

            // 4. Timers that are due: a /delay's answer, a 408, an idle close.
            let now = Instant::now();
            self.fire_timers(now);

            // 5. The listener's interest follows the acceptor: off during an
            //    accept pause, back on (and re-armed) after it.
            self.watch_listener(now)?;
        }
    }
    // ANCHOR_END: event_loop

    // ANCHOR: wait
    /// `epoll_wait` until an fd is ready or `deadline`. EINTR (a signal
    /// arrived first) is retried with what is left of the *same* deadline,
    /// so a signal never stretches a `/delay`.
    fn wait(&mut self, events: &mut [EpollEvent], deadline: Option<Instant>) -> io::Result<usize> {
        loop {
            let left = timeout_ms(deadline, Instant::now());
            match self.epoll.wait(events, poll_timeout(left)) {
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
    // ANCHOR_END: on_accept

    // ANCHOR: on_ready
    /// One ready connection: read, write, and settle its interest.
    fn on_ready(&mut self, token: usize, ready: EpollFlags) {
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
            conn.hang_up();
        }
        let mut unfinished = false;
        if ready.contains(EpollFlags::EPOLLIN) {
            unfinished |= match self.trigger {
                Trigger::Level => read(conn, &mut self.buf),
                Trigger::Edge => drain(conn, &mut self.buf),
            } == Progress::Unfinished;
        }
        // Write after a read (the answer usually fits at once) or when the
        // socket has room again (EPOLLOUT).
        unfinished |= write(conn) == Progress::Unfinished;
        self.settle(token, unfinished);
    }
    // ANCHOR_END: on_ready

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

    /// The listener is registered for EPOLLIN while the acceptor wants
    /// clients, and for nothing during an accept pause (out of fds with no
    /// reserve); turning it back on also re-arms it, edge-triggered.
    fn watch_listener(&mut self, now: Instant) -> io::Result<()> {
        let wanted = match self.acceptor.wants_accept(now) {
            true => self.trigger.flags() | EpollFlags::EPOLLIN,
            false => self.trigger.flags(),
        };
        if wanted != self.listening && !self.stopping {
            trace!("epoll_ctl MOD listener: {wanted:?}");
            self.listening = wanted;
            let mut event = EpollEvent::new(wanted, LISTENER);
            self.epoll.modify(self.acceptor.as_fd(), &mut event)?;
        }
        Ok(())
    }

    /// Shutdown: the listener leaves the interest list (shut down, it would
    /// be reported for ever), and every idle connection is closed.
    fn stop(&mut self) -> io::Result<()> {
        self.stopping = true;
        self.epoll.delete(self.acceptor.as_fd())?;
        for token in self.clients.tokens() {
            self.settle(token, false);
        }
        Ok(())
    }
}

// ANCHOR: read
/// Level-triggered: one `read` per report. Bytes left in the socket are
/// reported again by the next wait, so there is nothing to drain.
fn read(conn: &mut Conn, buf: &mut [u8]) -> Progress {
    if !conn.wants_read() {
        return Progress::Unfinished; // backpressure: the bytes stay in the kernel
    }
    match conn.read(buf) {
        Io::Bytes(_) | Io::Eof | Io::Failed => Progress::Done,
        // EAGAIN after a report: a spurious wake-up (another thread read
        // first, or the kernel dropped a bad packet). Harmless: wait again.
        Io::WouldBlock => Progress::Done,
        // EINTR: nothing was read; the fd is still readable, and the next
        // wait says so at once.
        Io::Interrupted => Progress::Done,
    }
}

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
            // EPOLLOUT brings the loop back when there is room.
            Io::WouldBlock | Io::Eof | Io::Failed => return Progress::Done,
        }
    }
    match conn.wants_write() {
        true => Progress::Unfinished, // budget spent, bytes left: re-armed
        false => Progress::Done,
    }
}
// ANCHOR_END: write
