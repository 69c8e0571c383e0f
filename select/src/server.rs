//! The event loop `select` and `poll` share. Everything here is the same for
//! both; the one thing that differs, how the loop asks the kernel which fds
//! are ready, is the [`Wait`] each binary passes in (`select.rs`, `poll.rs`).

use std::io;
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Instant;

use plumbing::admission::Places;
use plumbing::conn::{Conn, Io, Progress, READ_BUF, WRITE_BUDGET, admit};
use plumbing::deadline::earliest;
use plumbing::nonblocking_accept::{Accept, Acceptor};
use plumbing::table::{Client, Table};
use plumbing::timers::Timers;
use plumbing::{shutdown, trace};
use protocol::Service;

use crate::wait::{Clients, Readiness, Report, Wait};

/// The server: one thread, one loop.
pub struct Loop<W: Wait> {
    /// The listener, non-blocking, with its reserve fd.
    acceptor: Acceptor,
    /// Whether the listener goes into the next wait.
    listening: bool,
    /// Protocol, site, timeouts: shared by every connection.
    service: Arc<Service>,
    /// `--max-conns`.
    places: Places,
    /// The connections, by token.
    clients: Clients,
    /// Their deadlines, earliest first.
    timers: Timers,
    /// One read buffer for all connections: each read is handed over at once.
    buf: Vec<u8>,
    /// Shutdown was requested and acted on.
    stopping: bool,
    /// The wait call: select or poll.
    poller: W,
}

impl<W: Wait> Loop<W> {
    // ANCHOR: setup
    /// Makes the listener non-blocking. There is nothing to register: the
    /// whole interest goes into every call.
    pub fn new(
        listener: TcpListener,
        service: Arc<Service>,
        places: Places,
        poller: W,
    ) -> io::Result<Loop<W>> {
        let acceptor = Acceptor::new(listener, &service)?;
        Ok(Loop {
            acceptor,
            listening: true,
            service,
            places,
            clients: Table::default(),
            timers: Timers::default(),
            buf: vec![0u8; READ_BUF],
            stopping: false,
            poller,
        })
    }
    // ANCHOR_END: setup

    // ANCHOR: event_loop
    /// Serves until shutdown.
    pub fn serve(mut self) -> io::Result<()> {
        let mut report = Report::default();
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
            self.wait(&mut report, deadline)?;

            // 3. Dispatch: the connections the scan found ready, then the
            //    listener (clients accepted now join the next wait).
            let now = Instant::now();
            for &(token, readiness) in &report.conns {
                self.on_ready(token, readiness);
            }
            if report.listener {
                self.on_accept(now);
            }

            // 4. Timers that are due: a /delay's answer, a 408, an idle close.
            let now = Instant::now();
            self.fire_timers(now);

            // 5. The listener goes into the next wait unless accepting is
            //    paused (out of fds with no reserve).
            self.watch_listener(now)?;
        }
    }
    // ANCHOR_END: event_loop

    /// The model's wait call, with the whole interest: the listener (if
    /// watched) and every connection.
    fn wait(&mut self, report: &mut Report, deadline: Option<Instant>) -> io::Result<()> {
        let listener = self.listening.then(|| self.acceptor.as_fd());
        self.poller.wait(listener, &self.clients, deadline, report)
    }

    // ANCHOR: on_accept
    /// The listener is readable: accept until EAGAIN.
    fn on_accept(&mut self, now: Instant) {
        loop {
            match self.acceptor.accept(now) {
                Accept::Client(stream) => {
                    if let Some(conn) = admit(stream, &self.service, &self.places, W::FD_LIMIT) {
                        self.register(conn);
                    }
                }
                Accept::Refused => {} // out of fds: one refused, maybe more waiting
                Accept::WouldBlock | Accept::Paused => return,
            }
        }
    }

    /// A new connection joins the table; the next wait watches it.
    fn register(&mut self, conn: Conn) {
        let token = self.clients.next_token();
        let mut client = Client::new(conn, ());
        client.schedule(token, &mut self.timers);
        self.clients.insert(client);
    }
    // ANCHOR_END: on_accept

    // ANCHOR: on_ready
    /// One ready connection: read, write, and settle.
    fn on_ready(&mut self, token: usize, ready: Readiness) {
        let Some(client) = self.clients.get_mut(token) else {
            return;
        };
        let conn = &mut client.conn;
        if ready.readable {
            read(conn, &mut self.buf);
        }
        // Write after a read (the answer usually fits at once) or when the
        // socket has room again (writable).
        write(conn);
        self.settle(token);
    }
    // ANCHOR_END: on_ready

    /// After anything happened to a connection: close it if it is done;
    /// otherwise keep its timer in line with its deadline. (Its interest
    /// needs no keeping: the next wait asks it afresh.)
    fn settle(&mut self, token: usize) {
        // Done (answered and closing, failed, idle at shutdown): closed.
        let Some(client) = self.clients.open_or_close(token) else {
            return;
        };
        client.schedule(token, &mut self.timers);
    }

    // ANCHOR: fire_timers
    /// Fires every timer that is due (stale heap entries are skipped), and
    /// writes what each released.
    fn fire_timers(&mut self, now: Instant) {
        for token in self.timers.due(now, &mut self.clients) {
            let Some(client) = self.clients.get_mut(token) else {
                continue;
            };
            client.conn.fire(now);
            write(&mut client.conn);
            self.settle(token);
        }
    }
    // ANCHOR_END: fire_timers

    /// The listener is watched while the acceptor wants clients: not
    /// during an accept pause, not after shutdown.
    fn watch_listener(&mut self, now: Instant) -> io::Result<()> {
        self.listening = self.acceptor.wants_accept(now) && !self.stopping;
        Ok(())
    }

    /// Shutdown: the listener leaves the wait, and every idle connection is
    /// closed.
    fn stop(&mut self) -> io::Result<()> {
        self.stopping = true;
        self.listening = false;
        for token in self.clients.tokens() {
            self.settle(token);
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
        // EAGAIN after a report: a spurious wake-up (another process read
        // first, or the kernel dropped a bad packet). Harmless: wait again.
        Io::WouldBlock => Progress::Done,
        // EINTR: nothing was read; the fd is still readable, and the next
        // wait says so at once.
        Io::Interrupted => Progress::Done,
    }
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
        true => Progress::Unfinished, // budget spent, bytes left: the next wait reports it
        false => Progress::Done,
    }
}
// ANCHOR_END: write
