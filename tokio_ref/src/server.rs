//! The tokio server: `async_await`'s accept task and `async fn` per
//! connection, on tokio's runtime instead of the one `async_await` writes.
//! `diff -w` the two files: what differs is the runtime, not the loop.

use std::cell::RefCell;
use std::io;
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
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::net::TcpStream as Async;
use tokio::task::JoinSet;
use tokio::time::sleep_until;

use crate::waits::{Listening, Stop, Wake, wait};

thread_local! {
    /// The one read buffer, shared by every connection of this thread (as
    /// in the event-loop servers). Only [`read`], a plain function, borrows
    /// it, and hands what it read to the protocol before it returns: no
    /// task holds it across an `.await`, so 19,000 parked connections do
    /// not need 19,000 buffers. (Compare `coroutine`, whose parked
    /// coroutines each own one.)
    static BUF: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUF].into_boxed_slice());
}

/// Serves until shutdown: the accept task and a task per connection, on
/// tokio's current-thread runtime (one worker) or its multi-threaded one.
pub fn serve(server: Server, workers: usize) -> io::Result<()> {
    let Server {
        listener,
        service,
        max_conns,
        ..
    } = server;
    let acceptor = Acceptor::new(listener, &service)?;
    let runtime = match workers {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()?,
    };
    runtime.block_on(accept_loop(acceptor, service, Places::new(max_conns)))
}

// ANCHOR: accept_loop
/// The accept task: waits for the listener to be readable, accepts every
/// waiting client, spawns a task for each; at shutdown, waits for them.
async fn accept_loop(acceptor: Acceptor, service: Arc<Service>, places: Places) -> io::Result<()> {
    // SAFETY: the fd is the listener's, which the `Acceptor` owns and keeps
    // open until it is dropped with the `AsyncFd`; `Listening` returns that
    // same fd every time.
    let mut listener =
        unsafe { AsyncFd::register_with_interest(Listening(acceptor), Interest::READABLE) }?;
    let stop = Stop::install();
    let mut tasks = JoinSet::new();
    loop {
        let now = Instant::now();
        // A finished task is kept, with its result, until it is joined.
        while tasks.try_join_next().is_some() {}
        if shutdown::requested() {
            trace!("shutdown: no more accepts");
            // As `async_await`'s executor returns after its last task.
            while tasks.join_next().await.is_some() {}
            return Ok(());
        }
        // Out of fds with no reserve left: `plumbing`'s acceptor pauses.
        if !listener.get_mut().0.wants_accept(now) {
            let until = listener.get_ref().0.deadline().unwrap_or(now);
            sleep_until(until.into()).await;
            continue;
        }
        if let Ok(mut listener) = listener.readable_mut().await {
            // Until EAGAIN: one report can stand for many clients.
            let now = Instant::now();
            loop {
                match listener.get_inner_mut().0.accept(now) {
                    Accept::Client(stream) => admit(stream, &service, &places, &stop, &mut tasks),
                    Accept::Refused => {} // out of fds: one refused, maybe more waiting
                    Accept::WouldBlock | Accept::Paused => break,
                }
            }
            listener.clear_ready();
        }
    }
}

/// Starts a task for a new client, or turns it away at `--max-conns`.
fn admit(
    stream: TcpStream,
    service: &Arc<Service>,
    places: &Places,
    stop: &Stop,
    tasks: &mut JoinSet<()>,
) {
    let Some(place) = places.take() else {
        refuse(stream, service, "--max-conns reached");
        return;
    };
    let fd = stream.as_raw_fd();
    // tokio registers the socket as it is: it must be non-blocking already.
    match stream
        .set_nonblocking(true)
        .and_then(|()| Async::from_std(stream))
    {
        Ok(stream) => drop(tasks.spawn(serve_client(stream, service.clone(), place, stop.clone()))),
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
async fn serve_client(stream: Async, service: Arc<Service>, place: Place, mut stop: Stop) {
    let fd = stream.as_raw_fd();
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
            if wait(stream.writable(), deadline, &mut stop).await == Wake::Deadline {
                conn.fire(Instant::now());
            }
        } else if conn.read_capacity() > 0 {
            // Wait for the client to say more, or for the deadline.
            match wait(stream.readable(), deadline, &mut stop).await {
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
            sleep_until(deadline.unwrap_or_else(Instant::now).into()).await;
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
/// tokio's readiness is edge-triggered and kept by its I/O driver: after
/// any read the socket stays marked readable, so the next wait returns at
/// once, and only a read that finds EAGAIN clears the mark (`try_read`
/// does it): one more `recvfrom` per request than `async_await`'s.
fn read(stream: &Async, conn: &mut Connection) -> io::Result<()> {
    let fd = stream.as_raw_fd();
    BUF.with_borrow_mut(|buf| {
        let capacity = conn.read_capacity().min(buf.len());
        match stream.try_read(&mut buf[..capacity]) {
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
/// and `pread` on the worker's thread, which block every task on a cold
/// disk (`plumbing::files`; `tokio::fs` would send them to its blocking
/// pool: see the chapter).
fn write(
    stream: &Async,
    conn: &mut Connection,
    file: &mut Option<Box<FileReader>>,
) -> io::Result<()> {
    let fd = stream.as_raw_fd();
    loop {
        files::serve_file(file, conn, Instant::now());
        if !conn.wants_write() || conn.is_closed() {
            return Ok(());
        }
        let len = conn.output().len();
        // `try_write` clears tokio's writable mark itself on EAGAIN.
        match stream.try_write(conn.output()) {
            Ok(n) => {
                trace!("write fd={fd}: {n} of {len} bytes");
                conn.sent(n, Instant::now());
            }
            Err(err) if would_block(&err) => {
                trace!("write fd={fd}: EAGAIN with {len} bytes left");
                return Ok(());
            }
            Err(err) if interrupted(&err) => trace!("write fd={fd}: EINTR, retrying"),
            // EPIPE, ECONNRESET: the client is gone.
            Err(err) => return Err(err),
        }
    }
}
// ANCHOR_END: write_fn
