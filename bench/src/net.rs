//! The socket helpers every mode shares: non-blocking connect, the connect
//! check, and the wait. EAGAIN and EINTR are told apart with `plumbing`'s
//! helpers, the same ones the servers use.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Poll};
pub use plumbing::{interrupted, would_block};

/// Waits up to `timeout` for events. EINTR is an empty wake-up, not an
/// error: the caller's loop recomputes its deadlines and waits again.
pub fn wait(poll: &mut Poll, events: &mut Events, timeout: Duration) -> io::Result<()> {
    match poll.poll(events, Some(timeout)) {
        Err(err) if interrupted(&err) => {
            events.clear();
            Ok(())
        }
        other => other,
    }
}

/// Like [`wait`], but first polls without sleeping (`epoll_wait` with a zero
/// timeout) for up to `spin`, and sleeps only if nothing came in that time.
///
/// Why a load generator spins: under load the next answer is usually a few
/// microseconds away. A thread asleep in `epoll_wait` has to be woken for it,
/// and the wake-up is paid by the *server*, on its CPU, inside its `write`
/// (the socket's wake-up callback, then an interrupt to the sleeping CPU; on
/// a VM, a VM exit as well). On the 2-core machines the course runs on, that
/// cost 2–3% of nginx's throughput. wrk sleeps half as often by accident (it
/// makes two `epoll_ctl` calls per request, which keep it busy); the bench
/// does it on purpose and for a bounded time, so a slow or idle server is
/// still waited for in one blocking call.
pub fn wait_spinning(
    poll: &mut Poll,
    events: &mut Events,
    spin: Duration,
    timeout: Duration,
) -> io::Result<()> {
    let start = Instant::now();
    let spin = spin.min(timeout);
    loop {
        wait(poll, events, Duration::ZERO)?;
        if !events.is_empty() {
            return Ok(());
        }
        let spent = start.elapsed();
        if spent >= spin {
            return wait(poll, events, timeout.saturating_sub(spent));
        }
    }
}

/// Starts a non-blocking connect; completion shows up as a writable event.
pub fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// After a writable event on a connecting socket: `Ok(true)` connected,
/// `Ok(false)` still connecting (a spurious event), `Err` failed. This is
/// the check mio's docs prescribe: `take_error`, then `peer_addr`.
pub fn connected(stream: &TcpStream) -> io::Result<bool> {
    if let Some(err) = stream.take_error()? {
        return Err(err);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(err) => Err(err),
    }
}
