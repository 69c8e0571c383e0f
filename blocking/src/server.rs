//! The blocking server's two loops: accept one connection, then read, feed
//! the protocol, write, until the connection is done.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use plumbing::files::FileReader;
use plumbing::{Server, interrupted, shutdown, timed_out, trace};
use protocol::{Connection, Service};

/// Size of the read buffer: the most one `read` call copies out. 16 KiB
/// holds a maximal request head and more; a real server would tune it.
pub const READ_BUF: usize = 16 * 1024;

/// A deadline already due must still become a timeout the kernel accepts:
/// `SO_RCVTIMEO` of zero would mean "block forever".
const MIN_TIMEOUT: Duration = Duration::from_millis(1);

/// How far the read timeout already set on the socket may be from the one
/// wanted before it is set again: see `arm_read_timeout`.
const TIMEOUT_SLACK: Duration = Duration::from_millis(1);

// ANCHOR: accept_loop
/// Serves connections one after another until shutdown is requested.
pub fn serve(server: Server) -> io::Result<()> {
    let Server {
        listener, service, ..
    } = server;
    let mut buf = vec![0u8; READ_BUF];
    loop {
        // Blocks until a client has completed its handshake. Everyone else
        // queues in the backlog meanwhile, for as long as this takes.
        match listener.accept() {
            Ok((stream, peer)) => {
                trace!("accept fd={} peer={peer}", stream.as_raw_fd());
                // A failed connection (reset, timeout) never ends the server.
                let _ = serve_client(stream, &service, &mut buf);
            }
            // Shutdown shuts the listener down, which wakes accept with an error.
            Err(_) if shutdown::requested() => return Ok(()),
            Err(err) => {
                // EMFILE, ECONNABORTED, ...: log and go on. A short pause
                // keeps a full fd table from turning this loop into a spin.
                trace!("accept failed: {err}");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        if shutdown::requested() {
            return Ok(());
        }
    }
}

/// One client, start to end: the pull loop, then the close. How it ended is
/// traced and returned; either way only this connection is over. (The
/// threaded and forking servers call this too, from each thread or child.)
pub fn serve_client<S: Socket>(
    mut stream: S,
    service: &Arc<Service>,
    buf: &mut [u8],
) -> io::Result<()> {
    let fd = stream.as_raw_fd();
    let outcome = serve_connection(&mut stream, service, buf);
    if let Err(err) = &outcome {
        trace!("fd={fd} failed: {err}");
    }
    trace!("close fd={fd}");
    drop(stream);
    outcome
}
// ANCHOR_END: accept_loop

// ANCHOR: socket
/// What the pull loop needs of a connected socket. The blocking, threaded
/// and forking servers hand it std's `TcpStream`, whose calls block the
/// calling thread. `coroutine` hands it may's `TcpStream`, whose calls park
/// the calling *coroutine* and let the thread run another: the loop cannot
/// tell the difference, which is the whole idea of green threads.
pub trait Socket: Read + Write + AsRawFd {
    /// `TCP_NODELAY` on or off.
    fn set_nodelay(&self, on: bool) -> io::Result<()>;
    /// How long a `read` may wait before it fails with a timeout.
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// How long a `write` may wait before it fails with a timeout.
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Waits `duration` without reading (a pending `/delay`).
    fn sleep(duration: Duration);
}

/// std's socket: every call blocks the thread that makes it.
impl Socket for TcpStream {
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        TcpStream::set_nodelay(self, on)
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout)
    }
    fn sleep(duration: Duration) {
        std::thread::sleep(duration);
    }
}
// ANCHOR_END: socket

// ANCHOR: serve_connection
/// The pull loop: write what the protocol has to say, then block until the
/// client says more or the connection's next deadline comes. Returns when
/// the connection is done (closed, failed, or idle at shutdown); the caller
/// closes the socket.
pub fn serve_connection<S: Socket>(
    stream: &mut S,
    service: &Arc<Service>,
    buf: &mut [u8],
) -> io::Result<()> {
    let fd = stream.as_raw_fd();
    // Responses are written whole; no need for Nagle to hold small ones back.
    stream.set_nodelay(true)?;
    // A client that stops reading must not hold the server forever.
    stream.set_write_timeout(Some(service.idle_timeout))?;
    let mut conn = Connection::new(service.clone(), Instant::now());
    // The `--root` file being sent, if any.
    let mut file = FileReader::default();
    // The SO_RCVTIMEO now set on the socket (none yet).
    let mut armed = None;
    loop {
        flush(stream, &mut conn, &mut file)?;
        if conn.is_closed() {
            return Ok(());
        }
        if shutdown::requested() && conn.is_idle() {
            trace!("fd={fd}: shutting down between requests");
            return Ok(());
        }
        // The deadline: a /delay's end, a 408, or the idle timeout.
        let deadline = conn.next_deadline().unwrap_or_else(Instant::now);
        let timeout = deadline
            .saturating_duration_since(Instant::now())
            .max(MIN_TIMEOUT);
        let capacity = conn.read_capacity().min(buf.len());
        if capacity == 0 {
            // The protocol wants no input now (e.g. a /delay is pending and
            // its input buffer is full): only the deadline can move us on.
            trace!("fd={fd}: sleep {timeout:?} until the next deadline");
            S::sleep(timeout);
            conn.fire(Instant::now());
            continue;
        }
        arm_read_timeout(stream, timeout, &mut armed)?;
        // ANCHOR: read
        match stream.read(&mut buf[..capacity]) {
            Ok(0) => {
                trace!("read fd={fd}: EOF");
                conn.received_eof(Instant::now());
            }
            Ok(n) => {
                trace!("read fd={fd}: {n} bytes");
                conn.received(&buf[..n], Instant::now());
            }
            // EAGAIN from a blocking socket: SO_RCVTIMEO ran out, so the
            // deadline is due. Not an error: fire it.
            Err(err) if timed_out(&err) => {
                trace!("read fd={fd}: timed out after {timeout:?}, firing deadline");
                conn.fire(Instant::now());
            }
            // EINTR: a signal interrupted the wait. Go round again; the
            // timeout is recomputed from the same deadline.
            Err(err) if interrupted(&err) => trace!("read fd={fd}: EINTR, retrying"),
            Err(err) => return Err(err),
        }
        // ANCHOR_END: read
    }
}
// ANCHOR_END: serve_connection

// ANCHOR: arm_read_timeout
/// Makes the next read time out after `timeout`. `SO_RCVTIMEO` holds until
/// it is changed, and changing it is a `setsockopt(2)` that takes the
/// socket's lock: once per request on a busy keep-alive connection, that
/// cost the thread-per-connection server about a sixth of its requests per
/// second (measured; see the blocking reference page). So the timeout already set is kept when it is
/// within [`TIMEOUT_SLACK`] of the one wanted: on a keep-alive connection
/// the idle deadline moves with each request, and the timeout to it stays
/// within microseconds of `--idle-timeout`. Ending up to 1 ms early costs a
/// spurious timeout (nothing is due yet: `fire` does nothing, and the loop
/// sets the exact timeout); 1 ms late is below the kernel's own rounding of
/// the timeout up to a clock tick.
fn arm_read_timeout(
    stream: &impl Socket,
    timeout: Duration,
    armed: &mut Option<Duration>,
) -> io::Result<()> {
    let close_enough = armed.is_some_and(|set: Duration| set.abs_diff(timeout) <= TIMEOUT_SLACK);
    if !close_enough {
        stream.set_read_timeout(Some(timeout))?;
        *armed = Some(timeout);
    }
    Ok(())
}
// ANCHOR_END: arm_read_timeout

// ANCHOR: flush
/// Writes everything the connection has to write. A blocking `write` may
/// still write less than asked (a partial write): the protocol keeps the
/// tail, and we go round again until nothing is left. A `--root` file is
/// opened and read here as the output has room (`open` and `pread`, which
/// block on a cold disk: `plumbing::files`).
fn flush(stream: &mut impl Socket, conn: &mut Connection, file: &mut FileReader) -> io::Result<()> {
    let fd = stream.as_raw_fd();
    loop {
        file.serve(conn, Instant::now());
        if !conn.wants_write() {
            return Ok(());
        }
        let len = conn.output().len();
        match stream.write(conn.output()) {
            Ok(n) => {
                trace!("write fd={fd}: {n} of {len} bytes");
                conn.sent(n, Instant::now());
            }
            Err(err) if interrupted(&err) => trace!("write fd={fd}: EINTR, retrying"),
            // SO_SNDTIMEO ran out: the client read nothing for a whole idle timeout.
            Err(err) if timed_out(&err) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "client stopped reading",
                ));
            }
            Err(err) => return Err(err),
        }
    }
}
// ANCHOR_END: flush
