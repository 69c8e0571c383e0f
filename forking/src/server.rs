//! The forking server: a child process per accepted connection, or N
//! preforked workers. Either way a child runs the blocking server's loop.

use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::{Pid, getpid};
use plumbing::admission::refuse;
use plumbing::blocking_accept::BlockingAcceptor;
use plumbing::shutdown::{self, GRACE};
use plumbing::{Server, trace};
use protocol::Service;

use crate::children::Children;
use crate::sys::{self, Forked};

/// How long to wait before forking again when a worker's fork failed.
const FORK_RETRY: Duration = Duration::from_secs(1);

/// Serves until shutdown: a process per connection, or `workers` preforked.
pub fn serve(server: Server, workers: Option<u16>) -> io::Result<()> {
    let children = Children::start()?;
    // Shutdown must wake a parent waiting on its children, too.
    let wake = children.clone();
    shutdown::on_request(move || wake.wake());
    match workers {
        None => process_per_connection(server, &children)?,
        Some(workers) => {
            // N workers serve N connections at once: a `--max-conns` below
            // that lowers the number of workers.
            let workers = usize::from(workers).min(server.max_conns);
            preforked(server, &children, workers)?;
        }
    }
    // In-flight responses finish within the grace: three quarters of it
    // here, so the children are gone before plumbing ends this process.
    children.stop(Instant::now() + GRACE * 3 / 4);
    Ok(())
}

// ANCHOR: process_per_connection
/// Accepts in this process, forks a child for each client.
fn process_per_connection(server: Server, children: &Children) -> io::Result<()> {
    let Server {
        listener,
        service,
        max_conns,
        ..
    } = server;
    let mut acceptor = BlockingAcceptor::new(listener, &service)?;
    // Blocks in accept(2) until a client arrives; None at shutdown. (Not a
    // `for` loop: the child must be able to drop the acceptor.)
    while let Some(stream) = acceptor.next() {
        if children.count() >= max_conns {
            refuse(stream, &service, "--max-conns reached");
            continue;
        }
        let fd = stream.as_raw_fd();
        match children.fork() {
            Ok(Forked::Child { parent }) => {
                // The child: it serves this one client and accepts nobody,
                // so its copies of the listener and the spare fd are closed.
                drop(acceptor);
                serve_client_and_exit(stream, &service, parent)
            }
            // The parent: the child has its own copy of the socket; this
            // one is closed (the connection lives on in the child).
            Ok(Forked::Parent(pid)) => trace!("fork pid={pid} for fd={fd}"),
            // EAGAIN (process limit) or ENOMEM: refuse this client.
            Err(err) => refuse(stream, &service, &format!("fork: {err}")),
        }
    }
    Ok(())
}

/// In a new child: serve the client with the blocking loop, then exit.
fn serve_client_and_exit(stream: TcpStream, service: &Arc<Service>, parent: Pid) -> ! {
    trace::name_process(format!("child {}", getpid()));
    if let Err(err) = sys::take_shutdown_signals(parent, Signal::SIGTERM) {
        trace!("signal set-up failed: {err}");
        sys::exit_child(1);
    }
    let mut buf = vec![0u8; blocking::READ_BUF];
    let code = match blocking::serve_client(stream, service, &mut buf) {
        Ok(()) => 0,
        Err(_) => 1, // traced by serve_client
    };
    trace!("exit {code}");
    sys::exit_child(code)
}
// ANCHOR_END: process_per_connection

// ANCHOR: preforked
/// Forks `workers` children that each run the blocking server on the
/// shared listener, then watches them: a worker that dies is replaced.
fn preforked(server: Server, children: &Children, workers: usize) -> io::Result<()> {
    loop {
        while children.count() < workers && !shutdown::requested() {
            match children.fork() {
                Ok(Forked::Child { parent }) => worker(server, parent),
                Ok(Forked::Parent(pid)) => trace!("fork worker pid={pid}"),
                // EAGAIN or ENOMEM: serve with the workers there are, and
                // try again in a while rather than take the server down.
                Err(err) => {
                    trace!("fork failed: {err}; retrying in {FORK_RETRY:?}");
                    std::thread::sleep(FORK_RETRY);
                    break;
                }
            }
        }
        // Sleep until a worker is reaped (the reaper wakes us) or shutdown.
        // (After a failed fork, `live < workers` holds: straight round.)
        children.wait_until(|live| live < workers || shutdown::requested());
        if shutdown::requested() {
            return Ok(());
        }
        trace!("a worker is gone: forking a new one");
    }
}

/// A preforked worker: the blocking server itself, accepting on the
/// listener every worker shares. The kernel gives each new connection to
/// one of the workers blocked in accept(2).
fn worker(server: Server, parent: Pid) -> ! {
    trace::name_process(format!("worker {}", getpid()));
    if let Err(err) = sys::take_shutdown_signals(parent, Signal::SIGKILL) {
        trace!("signal set-up failed: {err}");
        sys::exit_child(1);
    }
    match blocking::serve(server) {
        Ok(()) => sys::exit_child(0),
        Err(err) => {
            trace!("worker failed: {err}");
            sys::exit_child(1)
        }
    }
}
// ANCHOR_END: preforked
