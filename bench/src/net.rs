//! The socket helpers every mode shares: non-blocking connect, the connect
//! check, and the bench's own fd limit.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Events, Poll};

/// EAGAIN: nothing to do on this socket now; wait for its next event.
pub fn would_block(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::WouldBlock
}

/// EINTR: a signal interrupted the call; try again.
pub fn interrupted(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::Interrupted
}

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

/// Raises the bench's own soft fd limit to the hard limit (hold needs a
/// socket per connection). Returns the limit now in force.
pub fn raise_fd_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => hard,
            Err(_) => soft,
        },
        Ok((soft, _)) => soft,
        Err(_) => 1024,
    }
}
