//! The busy-poll loop: no readiness call at all. Every pass tries `accept`,
//! then every connection's read and write, and takes EAGAIN for an answer.

use std::io;
use std::time::Instant;

use plumbing::conn::{Acceptor, Conn, Places, READ_BUF, Reads, admit, close_done};
use plumbing::{Server, shutdown, trace};

// ANCHOR: busy_loop
/// Serves until shutdown, never sleeping: the loop itself is the wait.
pub fn serve(server: Server) -> io::Result<()> {
    let Server {
        listener,
        service,
        max_conns,
        ..
    } = server;
    let mut acceptor = Acceptor::new(listener, &service)?;
    let places = Places::new(max_conns);
    let mut conns: Vec<Conn> = Vec::new();
    let mut buf = vec![0u8; READ_BUF];
    loop {
        if shutdown::requested() && conns.is_empty() {
            trace!("shutdown: no connections left");
            return Ok(());
        }
        let now = Instant::now();

        // 1. Anyone new? `accept` on a non-blocking listener returns EAGAIN
        //    at once when the backlog is empty: almost always.
        if acceptor.wants_accept(now) {
            acceptor.accept_all(now, |stream, _peer| {
                conns.extend(admit(stream, &service, &places, None));
            });
        }

        // 2. Try every connection, ready or not: there is no way to know
        //    without asking. Most reads return EAGAIN; each one is a system
        //    call that found nothing to do.
        for conn in &mut conns {
            if conn.wants_read() {
                conn.on_readable(&mut buf, Reads::Once);
            }
            // Timers are checked on every pass: a pass is the only clock tick.
            conn.on_timer(now);
            if conn.wants_write() {
                conn.on_writable();
            }
        }

        // 3. Close what is finished.
        close_done(&mut conns);
    }
}
// ANCHOR_END: busy_loop
