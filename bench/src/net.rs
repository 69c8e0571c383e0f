//! The socket helpers every mode shares: non-blocking connect, the connect
//! check, and the wait. EAGAIN and EINTR are told apart with `plumbing`'s
//! helpers, the same ones the servers use.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

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
