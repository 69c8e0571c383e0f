//! The async/await server: an accept task, and an `async fn` per
//! connection that reads like the blocking pull loop with `.await` at every
//! place it may wait.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Instant;

use plumbing::admission::{Place, Places, refuse};
use plumbing::conn::READ_BUF;
use plumbing::files::{self, FileReader};
use plumbing::nonblocking_accept::{Accept, Acceptor};
use plumbing::{Server, interrupted, shutdown, trace, would_block};
use protocol::{Connection, Service};

use crate::executor::{block_on, spawn};
use crate::reactor::{Async, Wake, sleep_until};

thread_local! {
    /// The one read buffer, shared by every connection of this thread (as
    /// in the event-loop servers). Only [`read`], a plain function, borrows
    /// it, and hands what it read to the protocol before it returns: no
    /// task holds it across an `.await`, so 19,000 parked connections do
    /// not need 19,000 buffers. (Compare `coroutine`, whose parked
    /// coroutines each own one.)
    static BUF: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUF].into_boxed_slice());
}

/// Serves until shutdown: the accept task and a task per connection, all
/// on this thread.
pub fn serve(server: Server) -> io::Result<()> {
    let Server {
        listener,
        service,
        max_conns,
        ..
    } = server;
    let acceptor = Acceptor::new(listener, &service)?;
    block_on(accept_loop(acceptor, service, Places::new(max_conns)))
}

// ANCHOR: accept_loop
/// The accept task: waits for the listener to be readable, accepts every
/// waiting client, spawns a task for each.
async fn accept_loop(acceptor: Acceptor, service: Arc<Service>, places: Places) -> io::Result<()> {
    let mut listener = Async::new(acceptor)?;
    loop {
        let now = Instant::now();
        if shutdown::requested() {
            trace!("shutdown: no more accepts");
            return Ok(());
        }
        // Out of fds with no reserve left: `plumbing`'s acceptor pauses.
        if !listener.get_mut().wants_accept(now) {
            let until = listener.get_ref().deadline().unwrap_or(now);
            sleep_until(until).await;
            continue;
        }
        if listener.readable(None).await == Wake::Ready {
            // Until EAGAIN: one report can stand for many clients.
            let now = Instant::now();
            loop {
                match listener.get_mut().accept(now) {
                    Accept::Client(stream) => admit(stream, &service, &places),
                    Accept::Refused => {} // out of fds: one refused, maybe more waiting
                    Accept::WouldBlock | Accept::Paused => break,
                }
            }
            listener.clear_readable();
        }
    }
}

/// Starts a task for a new client, or turns it away at `--max-conns`.
fn admit(stream: TcpStream, service: &Arc<Service>, places: &Places) {
    let Some(place) = places.take() else {
        refuse(stream, service, "--max-conns reached");
        return;
    };
    let fd = stream.as_raw_fd();
    match Async::new(stream) {
        Ok(stream) => spawn(serve_client(stream, service.clone(), place)),
        Err(err) => trace!("fd={fd}: registering failed: {err}; closing it"),
    }
}
// ANCHOR_END: accept_loop

// ANCHOR: serve_client
/// One client, start to end: the pull loop of `blocking`, with an `.await`
/// wherever it may wait. Each `.await` that is not ready returns `Pending`
/// up to the executor, which runs other tasks meanwhile. It is written as
/// one `async fn` with one `.await` per kind of wait, on purpose: the
/// compiler stores the task's state (the locals that live across an
/// `.await`) in one struct, and nesting `async fn`s nests those structs.
/// Kept flat, a parked connection is its protocol state and a few words.
pub(crate) async fn serve_client(stream: Async<TcpStream>, service: Arc<Service>, place: Place) {
    let fd = stream.get_ref().as_raw_fd();
    let mut conn = Connection::new(service, Instant::now());
    // The `--root` file being sent, if any: boxed, and there only while
    // one is wanted or open (a parked connection holds only the `None`).
    let mut file: Option<Box<FileReader>> = None;
    loop {
        // Write what the protocol has to say, as far as the socket takes it.
        if let Err(err) = write(&stream, &mut conn, &mut file) {
            trace!("fd={fd} failed: {err}");
            break;
        }
        if conn.is_closed() {
            break;
        }
        if shutdown::requested() && conn.is_idle() {
            trace!("fd={fd}: shutting down between requests");
            break;
        }
        // The deadline: a /delay's end, a 408, or the idle timeout.
        let deadline = conn.next_deadline();
        // ANCHOR: wait
        if conn.wants_write() {
            // The send buffer is full: wait for room. A client that stops
            // reading is closed when its idle deadline fires.
            if stream.writable(deadline).await == Wake::Deadline {
                conn.fire(Instant::now());
            }
        } else if conn.read_capacity() > 0 {
            // Wait for the client to say more, or for the deadline.
            match stream.readable(deadline).await {
                Wake::Ready => {
                    if let Err(err) = read(&stream, &mut conn) {
                        trace!("fd={fd} failed: {err}");
                        break;
                    }
                }
                Wake::Deadline => {
                    trace!("timer fd={fd}: deadline due");
                    conn.fire(Instant::now());
                }
            }
        } else {
            // The protocol wants no input now (a /delay is pending and its
            // input buffer is full): only the deadline can move us on.
            trace!("fd={fd}: sleep until the next deadline");
            sleep_until(deadline.unwrap_or_else(Instant::now)).await;
            conn.fire(Instant::now());
        }
        // ANCHOR_END: wait
    }
    trace!("close fd={fd}");
    drop(place);
    // `stream` is dropped here: deregistered, then closed.
}
// ANCHOR_END: serve_client

// ANCHOR: read_fn
/// One read, into the shared buffer, handed straight to the protocol.
/// Level-triggered readiness: one read per report; if bytes are left,
/// epoll reports the socket again, so readiness is cleared either way.
fn read(stream: &Async<TcpStream>, conn: &mut Connection) -> io::Result<()> {
    let fd = stream.get_ref().as_raw_fd();
    BUF.with_borrow_mut(|buf| {
        let capacity = conn.read_capacity().min(buf.len());
        let result = stream.get_ref().read(&mut buf[..capacity]);
        stream.clear_readable();
        match result {
            Ok(0) => {
                trace!("read fd={fd}: EOF");
                conn.received_eof(Instant::now());
            }
            Ok(n) => {
                trace!("read fd={fd}: {n} bytes");
                conn.received(&buf[..n], Instant::now());
            }
            // EAGAIN: the wake-up was spurious (the shutdown wake-up, or
            // readiness already used). Not an error: wait again.
            Err(err) if would_block(&err) => trace!("read fd={fd}: EAGAIN"),
            // EINTR: nothing was read. The next wait reports the bytes again.
            Err(err) if interrupted(&err) => trace!("read fd={fd}: EINTR"),
            Err(err) => return Err(err),
        }
        Ok(())
    })
}
// ANCHOR_END: read_fn

// ANCHOR: write_fn
/// Writes what the protocol has to say until it has nothing left or the
/// send buffer is full (EAGAIN: the rest stays in the protocol, and the
/// loop waits for room). A partial write keeps the tail in the protocol.
/// A `--root` file is opened and read here as the output has room: `open`
/// and `pread` on the executor's thread, which block every task on a cold
/// disk (`plumbing::files`; tokio sends them to its blocking pool).
fn write(
    stream: &Async<TcpStream>,
    conn: &mut Connection,
    file: &mut Option<Box<FileReader>>,
) -> io::Result<()> {
    let fd = stream.get_ref().as_raw_fd();
    loop {
        files::serve_file(file, conn, Instant::now());
        if !conn.wants_write() || conn.is_closed() {
            return Ok(());
        }
        let len = conn.output().len();
        match stream.get_ref().write(conn.output()) {
            Ok(n) => {
                trace!("write fd={fd}: {n} of {len} bytes");
                conn.sent(n, Instant::now());
            }
            Err(err) if would_block(&err) => {
                trace!("write fd={fd}: EAGAIN with {len} bytes left");
                stream.clear_writable();
                return Ok(());
            }
            Err(err) if interrupted(&err) => trace!("write fd={fd}: EINTR, retrying"),
            // EPIPE, ECONNRESET: the client is gone.
            Err(err) => return Err(err),
        }
    }
}
// ANCHOR_END: write_fn
