//! The socket helpers every mode shares: non-blocking connect, the connect
//! check, and the wait. EAGAIN and EINTR are told apart with `plumbing`'s
//! helpers, the same ones the servers use.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
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

/// How many loopback source addresses [`connect_spread`] uses:
/// 127.0.0.1 to 127.0.0.8.
const LOOPBACK_SOURCES: u32 = 8;

/// The `i`th connection's source address: 127.0.0.1 to 127.0.0.8, in turn.
pub fn loopback_source(i: usize) -> Ipv4Addr {
    let offset = u32::try_from(i).unwrap_or(0) % LOOPBACK_SOURCES;
    Ipv4Addr::from(u32::from(Ipv4Addr::LOCALHOST) + offset)
}

/// [`connect`], but from the `i`th of several source addresses when the
/// target is on loopback (`hold`'s thousands of connections).
///
/// Why: Linux picks a connecting socket's local port by scanning the
/// ephemeral range (32768 to 60999 here), even ports first. Past about
/// 14,000 connections from one address the even ports are taken, and every
/// `connect` scans all of them before it tries an odd one. That took 1 to
/// 3.6 ms per `connect` (measured with a plain Python client against the
/// epoll server), so a 19,000-connection ramp stalled this one-threaded
/// bench for seconds at a time. Meanwhile answers waited unread, and HEADs
/// were counted as timed out whatever the server did. Each source address
/// has a port space of its own, so eight of them keep every scan short.
pub fn connect_spread(addr: SocketAddr, i: usize) -> io::Result<TcpStream> {
    let SocketAddr::V4(target) = addr else {
        return connect(addr);
    };
    if !target.ip().is_loopback() {
        return connect(addr);
    }
    let source = loopback_source(i);
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddr::from((source, 0)).into())?;
    match socket.connect(&addr.into()) {
        // A non-blocking connect is under way: the caller waits for it to
        // become writable, as after `mio`'s own `connect`.
        Err(err) if err.raw_os_error() == Some(nix::libc::EINPROGRESS) => {}
        other => other?,
    }
    let stream = TcpStream::from_std(socket.into());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `connect_spread` connects the `i`th connection from 127.0.0.(1 + i % 8)
    /// to a loopback target, so each source address has a port space of its
    /// own; the server sees those addresses as its peers.
    #[test]
    fn loopback_connections_come_from_eight_source_addresses() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let mut peers = Vec::new();
        let mut streams = Vec::new();
        for i in 0..10 {
            streams.push(connect_spread(addr, i).expect("connect"));
            let (_, peer) = listener.accept().expect("accept");
            peers.push(peer.ip().to_string());
        }
        let expected: Vec<String> = (0..10).map(|i| format!("127.0.0.{}", 1 + i % 8)).collect();
        assert_eq!(peers, expected);
    }
}
