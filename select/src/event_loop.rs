//! The event loop `select` and `poll` share. Everything here is the same for
//! both; the one thing that differs, how the loop asks the kernel which fds
//! are ready, is the [`Wait`] each binary passes in (`select.rs`, `poll.rs`).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::time::Instant;

use plumbing::conn::{Acceptor, Conn, Places, READ_BUF, Reads, admit, close_done, earliest};
use plumbing::{Server, shutdown, trace};

/// What one wait call found: whether the listener has clients waiting, and
/// for each connection (in the order they were passed in) what it may do.
#[derive(Debug, Default)]
pub struct Ready {
    /// The listener is readable: `accept` will not block.
    pub listener: bool,
    /// Per connection, in table order.
    pub conns: Vec<Readiness>,
}

/// One connection's part of a wait's answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Readiness {
    /// `read` will not block: bytes, EOF, or an error are waiting.
    pub readable: bool,
    /// `write` will not block: there is room in the send buffer.
    pub writable: bool,
}

/// A readiness call: `select(2)` or `poll(2)`.
pub trait Wait {
    /// One past the highest fd this call can watch, if it has such a limit.
    /// A connection whose fd is at or above it is refused.
    const FD_LIMIT: Option<RawFd>;

    /// Blocks until the listener (if given) or a connection is ready, or
    /// until `deadline`. Interest comes from each connection: read if
    /// [`Conn::wants_read`], write if [`Conn::wants_write`]. EINTR is retried
    /// inside, against the same deadline.
    fn wait(
        &mut self,
        listener: Option<BorrowedFd<'_>>,
        conns: &[Conn],
        deadline: Option<Instant>,
        ready: &mut Ready,
    ) -> io::Result<()>;
}

// ANCHOR: event_loop
/// Serves until shutdown: wait, accept, read, write, fire timers, close, and
/// round again.
pub fn serve<W: Wait>(server: Server, mut waiter: W) -> io::Result<()> {
    let Server {
        listener,
        service,
        max_conns,
        ..
    } = server;
    let mut acceptor = Acceptor::new(listener, &service)?;
    let places = Places::new(max_conns);
    let mut conns: Vec<Conn> = Vec::new();
    let mut ready = Ready::default();
    let mut buf = vec![0u8; READ_BUF];
    loop {
        // Shutdown: the listener is no longer watched, idle connections are
        // closed below, and the loop ends with the last busy one.
        if shutdown::requested() && conns.is_empty() {
            trace!("shutdown: no connections left");
            return Ok(());
        }

        // 1. Wait. The timeout is the earliest deadline of any connection
        //    (a /delay, a 408, an idle timeout) or of an accept pause.
        let now = Instant::now();
        let watch_listener = acceptor.wants_accept(now);
        let deadline = earliest(
            conns
                .iter()
                .map(Conn::deadline)
                .chain([acceptor.deadline()]),
        );
        let listener = watch_listener.then(|| acceptor.as_fd());
        waiter.wait(listener, &conns, deadline, &mut ready)?;

        // 2. Act on what is ready. The connections are those that were
        //    waited on; clients accepted below join the next wait.
        let now = Instant::now();
        for (conn, readiness) in conns.iter_mut().zip(&ready.conns) {
            if readiness.readable {
                conn.on_readable(&mut buf, Reads::Once);
            }
            let fired = conn.on_timer(now);
            // Write straight away after a read (the answer usually fits),
            // when the socket has room, or when a timer released an answer.
            if conn.wants_write() && (readiness.readable || readiness.writable || fired) {
                conn.on_writable();
            }
        }
        if ready.listener {
            acceptor.accept_all(now, |stream, _peer| {
                conns.extend(admit(stream, &service, &places, W::FD_LIMIT));
            });
        }

        // 3. Close what is finished: answered and closing, failed, or idle
        //    during shutdown.
        close_done(&mut conns);
    }
}
// ANCHOR_END: event_loop
