//! The coroutine server: the main thread accepts, as `threaded`'s does, and
//! each connection runs the blocking server's pull loop on a may coroutine
//! instead of a thread.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use crossbeam::sync::WaitGroup;
use plumbing::Server;
use plumbing::admission::{Places, refuse};
use plumbing::blocking_accept::BlockingAcceptor;
use plumbing::trace;

use crate::{Green, READ_BUF, sys};

/// Serves until shutdown: a coroutine per connection.
pub fn serve(server: Server, green: Green) -> io::Result<()> {
    let Server {
        listener,
        service,
        max_conns,
        ..
    } = server;
    configure(green);
    let acceptor = BlockingAcceptor::new(listener, &service)?;
    let places = Places::new(max_conns);
    // Every coroutine holds a clone; `wait` below returns once all are gone.
    let running = WaitGroup::new();
    // ANCHOR: accept_loop
    // Each turn blocks the main thread (not a may worker) in accept(2)
    // until a client arrives; the loop ends at shutdown.
    for stream in acceptor {
        let Some(place) = places.take() else {
            refuse(stream, &service, "--max-conns reached");
            continue;
        };
        let fd = stream.as_raw_fd();
        // Non-blocking from here on, and registered with may's epoll.
        let stream = match sys::adopt(stream) {
            Ok(stream) => GreenSocket(stream),
            Err(err) => {
                trace!("fd={fd}: {err}; closing it");
                continue;
            }
        };
        let (service, running) = (service.clone(), running.clone());
        trace!("spawn coroutine for fd={fd}");
        // ANCHOR: spawn
        // SAFETY: may's rules for a coroutine (`may::coroutine::spawn`'s
        // "Safety" section and its README), and why this closure keeps them:
        // - *No thread-local storage held across a switch.* A coroutine
        //   can resume on another worker thread, so a reference into one
        //   thread's TLS could dangle. The pull loop, the protocol and
        //   `plumbing` keep no `thread_local!`; what std keeps per thread
        //   (malloc's caches, the panic count) is looked up afresh on each
        //   use, never held across a read or a write.
        // - *No blocking std calls.* One would stall the worker thread and
        //   every coroutine queued on it (the chapter measures that). Every
        //   wait here goes through `GreenSocket`, that is through may: its
        //   `read`, `write` and `sleep` park the coroutine. The calls that
        //   can still block the thread are short and never wait for a
        //   client: opening and reading a file under `--root`, and a
        //   `--trace` line written to stderr. `/cpu` holds its worker on
        //   purpose: that is what it demonstrates.
        // - *The stack does not grow.* It is `--stack-size` bytes with a
        //   guard page below; deeper, and the process dies. The whole
        //   conformance suite (every route, every error, `--trace`) passed
        //   with 12 KiB stacks in a debug build and 8 KiB in release; the
        //   default is 32 KiB, and below 16 KiB is for experiments (see
        //   `MIN_STACK`).
        // Builder::spawn, not the free `may::coroutine::spawn`: the free
        // function unwraps, and a failed stack allocation would panic the
        // accept loop instead of closing one client.
        let spawned = unsafe {
            may::coroutine::Builder::new().spawn(move || {
                let mut buf = vec![0u8; READ_BUF];
                // The blocking server's loop, unchanged: see `GreenSocket`.
                let _ = blocking::serve_client(stream, &service, &mut buf);
                drop(place);
                drop(running);
            })
        };
        // ANCHOR_END: spawn
        // No memory for a stack: the closure, and the socket in it, is
        // dropped, so this client sees a close, and the next may find room.
        if let Err(err) = spawned {
            trace!("spawn failed for fd={fd}: {err}; closing it");
        }
    }
    // ANCHOR_END: accept_loop
    // Shutdown: responses in flight finish; plumbing ends the process when
    // its grace is over if a coroutine still waits on an idle client.
    running.wait();
    Ok(())
}

// ANCHOR: configure
/// Sets may up before its scheduler starts (it reads its configuration
/// once, when the first coroutine or socket needs it).
fn configure(green: Green) {
    may::config()
        .set_workers(green.workers as usize)
        // may counts stacks in machine words, not bytes. An odd count asks
        // it to fill the whole stack with a marker (to measure its use
        // later), touching every page: round to an even count.
        .set_stack_size((green.stack_size / size_of::<usize>()) & !1);
    // may pins worker i to CPU i by default. Left to the kernel instead,
    // so that `taskset` (the bench's way to give the server its own
    // core) is obeyed.
    may::config().set_worker_pin(false);
    // Start the scheduler (its worker threads and their epolls) now, on
    // no client's time: it starts on first use, and that took about 10 ms.
    // SAFETY: may's rules (see the spawn in `serve`): the closure does
    // nothing, so it touches no thread-local storage, makes no blocking
    // call and needs no stack to speak of.
    let started = unsafe { may::coroutine::Builder::new().spawn(|| {}) };
    if let Ok(handle) = started {
        let _ = handle.join();
    }
    trace!(
        "may: {} worker thread(s), {} byte stacks",
        green.workers, green.stack_size
    );
}
// ANCHOR_END: configure

// ANCHOR: socket
/// may's socket, as the blocking server's pull loop sees it
/// ([`blocking::Socket`]). Each method is may's own. A `read` finding no
/// data (EAGAIN) parks this coroutine until may's epoll reports the socket
/// readable, or the read timeout passes; the worker thread meanwhile runs
/// other coroutines. `sleep` parks the coroutine on may's timer list where
/// std's would put the whole worker thread to sleep.
pub struct GreenSocket(pub may::net::TcpStream);

impl Read for GreenSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for GreenSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl AsRawFd for GreenSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl blocking::Socket for GreenSocket {
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.0.set_nodelay(on)
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.0.set_read_timeout(timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.0.set_write_timeout(timeout)
    }
    fn sleep(duration: Duration) {
        may::coroutine::sleep(duration);
    }
}
// ANCHOR_END: socket
