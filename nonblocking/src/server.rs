//! The busy-poll loop: no readiness call at all. Every pass tries `accept`,
//! then every connection's read and write, and takes EAGAIN for an answer.

use std::io;
use std::sync::Arc;
use std::time::Instant;

use plumbing::admission::Places;
use plumbing::conn::{Conn, Io, READ_BUF, admit};
use plumbing::nonblocking_accept::{Accept, Acceptor};
use plumbing::table::{Client, Table};
use plumbing::{Server, shutdown, trace};
use protocol::Service;

/// The server: one thread, one loop that never sleeps.
pub struct Loop {
    /// The listener, non-blocking, with its reserve fd.
    acceptor: Acceptor,
    /// Whether this pass tries `accept` (not during an accept pause).
    listening: bool,
    /// Protocol, site, timeouts: shared by every connection.
    service: Arc<Service>,
    /// `--max-conns`.
    places: Places,
    /// The connections, by token.
    clients: Table<Client<()>>,
    /// One read buffer for all connections: each read is handed over at once.
    buf: Vec<u8>,
    /// Shutdown was requested and acted on.
    stopping: bool,
}

impl Loop {
    /// Makes the listener non-blocking: `accept` returns EAGAIN at once
    /// when nobody is waiting.
    pub fn new(server: Server) -> io::Result<Loop> {
        Ok(Loop {
            acceptor: Acceptor::new(server.listener, &server.service)?,
            listening: true,
            service: server.service,
            places: Places::new(server.max_conns),
            clients: Table::default(),
            buf: vec![0u8; READ_BUF],
            stopping: false,
        })
    }

    // ANCHOR: busy_loop
    /// Serves until shutdown, never sleeping: the loop itself is the wait.
    pub fn serve(mut self) -> io::Result<()> {
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

            // 2. No wait: there is no way to know what is ready without
            //    asking, so every pass asks everyone.

            // 3. Dispatch: anyone new? (`accept` returns EAGAIN at once
            //    when the backlog is empty: almost always.) Then every
            //    connection, ready or not: most reads return EAGAIN, each a
            //    system call that found nothing to do.
            let now = Instant::now();
            if self.listening {
                self.on_accept(now);
            }
            for token in self.clients.tokens() {
                self.on_ready(token, now);
            }

            // 4. Timers: checked in `on_ready`, on every pass; a pass is the
            //    only clock tick.

            // 5. The listener is tried again once an accept pause is over.
            self.watch_listener(now)?;
        }
    }
    // ANCHOR_END: busy_loop

    // ANCHOR: on_accept
    /// Accepts until EAGAIN.
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

    /// A new connection joins the table; the next pass tries it.
    fn register(&mut self, conn: Conn) {
        self.clients.insert(Client::new(conn, ()));
    }
    // ANCHOR_END: on_accept

    // ANCHOR: on_ready
    /// One connection on one pass: one read if it wants input, its deadline
    /// if due, one write if it has output. One call each: the next pass
    /// comes at once, and a connection that got EAGAIN is simply tried again.
    fn on_ready(&mut self, token: usize, now: Instant) {
        let Some(client) = self.clients.get_mut(token) else {
            return;
        };
        let conn = &mut client.conn;
        if conn.wants_read() {
            read(conn, &mut self.buf);
        }
        conn.fire(now);
        if conn.wants_write() {
            write(conn);
        }
        self.settle(token);
    }
    // ANCHOR_END: on_ready

    /// After a connection's turn: close it if it is done.
    fn settle(&mut self, token: usize) {
        self.clients.open_or_close(token);
    }

    /// Accepting is off during an accept pause (out of fds with no
    /// reserve), and after shutdown.
    fn watch_listener(&mut self, now: Instant) -> io::Result<()> {
        self.listening = self.acceptor.wants_accept(now) && !self.stopping;
        Ok(())
    }

    /// Shutdown: accepting stops, and every idle connection is closed.
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
/// One `read`, ready or not.
fn read(conn: &mut Conn, buf: &mut [u8]) {
    match conn.read(buf) {
        Io::Bytes(_) | Io::Eof | Io::Failed => {}
        // EAGAIN: nothing yet. The normal answer here, never an error:
        // the next pass asks again.
        Io::WouldBlock => {}
        // EINTR: nothing was read; the next pass reads again.
        Io::Interrupted => {}
    }
}

/// One `write` of what is owed.
fn write(conn: &mut Conn) {
    match conn.write() {
        // A partial write is normal: the protocol keeps the tail for the
        // next pass.
        Io::Bytes(_) | Io::Eof | Io::Failed => {}
        // EAGAIN: the send buffer is full (the client reads slowly). The
        // next pass tries again: there is no one to say when there is room.
        Io::WouldBlock => {}
        // EINTR: nothing was written; the next pass writes again.
        Io::Interrupted => {}
    }
}
// ANCHOR_END: read
