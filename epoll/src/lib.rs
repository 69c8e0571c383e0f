//! # epoll: readiness for the ready fds only
//!
//! ## Model
//! I/O multiplexing with an interest list that lives in the kernel. select
//! and poll pass every fd in on every call and scan every fd afterwards;
//! with epoll the loop registers each fd once (`epoll_ctl ADD`), changes it
//! only when its interest changes (`MOD`), and `epoll_wait` hands back just
//! the fds that are ready. The work per wake-up follows the ready fds, not
//! the open ones: 19,000 idle connections cost nothing while they are idle.
//! This crate builds two binaries on the same design:
//!
//! - `epoll` (port 7007), on raw epoll through nix, `server.rs`:
//!   - `--trigger level` (the default): `epoll_wait` reports an fd as long as
//!     it is ready, so one read per report is enough, as with poll.
//!   - `--trigger edge` (`EPOLLET`): an fd is reported when it *becomes*
//!     ready, once. The loop must drain it to EAGAIN, or the bytes left are
//!     never reported again. The drain has a budget (16 reads, 16 writes) so
//!     one fast client cannot starve the rest; a connection that spends it is
//!     re-armed (`EPOLL_CTL_MOD` makes the kernel report it again if it is
//!     still ready) and finishes on a later round, after the others.
//!   - `--workers N` (default 1): N threads, each with its own epoll, its own
//!     listener on the same port (`SO_REUSEPORT`: the kernel spreads new
//!     connections over them) and its own connections. They share nothing
//!     but one atomic counter of open connections, for `--max-conns`.
//! - `epoll-mio` (port 7008), the same loop on mio, `mio_server.rs`: read it
//!   beside `server.rs` to see what mio does for you (always edge-triggered,
//!   `Token`s and `Interest`s, a `Waker`). It takes `--workers N` too.
//!
//! Both keep write interest (`EPOLLOUT`) only while a connection has unsent
//! bytes, and keep every connection's deadline (a `/delay`, a 408, an idle
//! timeout) in a binary heap whose earliest entry is `epoll_wait`'s timeout
//! (`plumbing::timers`). Each file holds its own read, drain and write
//! loops over `plumbing::conn`'s one-call `read` and `write`, beside its
//! wait: that is where this model's EAGAIN and EINTR are decided.
//!
//! ## Syscalls
//! Per worker: `epoll_create1` once; `epoll_ctl ADD` per new connection,
//! `MOD` when its interest changes (output waiting, or drained; backpressure)
//! or to re-arm after a spent budget; `epoll_wait` once per loop round;
//! `accept4` until EAGAIN; `recvfrom` (once, or until EAGAIN when
//! edge-triggered); `sendto` until EAGAIN or nothing is left; `close`, which
//! also removes the fd from the interest list. A request on a keep-alive
//! connection that is answered at once costs `epoll_wait`, `recvfrom`,
//! `sendto`: no `epoll_ctl` at all.
//!
//! ## Where it blocks
//! Only in `epoll_wait`, until an fd is ready or the earliest timer is due.
//! A `/cpu` request blocks every connection of its worker (not the other
//! workers').
//!
//! ## EAGAIN and EINTR
//! EAGAIN on a read after a report is a spurious wake-up (or a drained fd):
//! the connection waits for the next report. A write that returns EAGAIN
//! keeps its tail and turns `EPOLLOUT` on. A second EOF report, or one for a
//! connection closed earlier in the same batch, finds nothing to do. EINTR
//! from `epoll_wait` is retried against the deadline computed before the
//! first try. Hang-ups and errors (`EPOLLHUP`, `EPOLLERR`) are reported even
//! when not asked for, and close the connection.
//!
//! Out of fds (EMFILE, ENFILE): each worker holds a spare fd (`/dev/null`).
//! When `accept` fails for want of an fd, it closes the spare, accepts the
//! client into the freed fd, answers `503` and closes it, and opens the
//! spare again, until the backlog is empty (libuv's trick). Without it the
//! client would stay in the backlog and the listener would be reported
//! ready on every wait: a loop spinning at 100% CPU, serving no one.
//!
//! ## Limits
//! - `--max-conns N`: client N+1 gets `503 Service Unavailable` (echo: a
//!   close), counted over all workers.
//! - With `--workers N`, `SO_REUSEPORT` places a client by a hash of its
//!   address and port, not by load: workers can be unevenly busy. A client
//!   stays on its worker for its whole life.
//! - A port in use is refused with `--workers N` too. `SO_REUSEPORT` would
//!   let a second server of the same user share the port (and take part of
//!   its clients) instead of failing with "address in use", so once the
//!   first listener listens, `plumbing::reuse_port` lists the sockets
//!   listening on the port (`/proc/self/net/tcp`) and refuses to start if
//!   one is not its own: one line, exit 1. The race that remains: two
//!   servers started at the same instant both bind before either looks.
//!   It is harmless because each looks only after its own listener
//!   listens, so the second to look sees the first: at worst both refuse,
//!   never both serve. A program that joins later without looking is not
//!   caught: the sharing is then that program's doing.
//!
//! ## Try it
//! ```text
//! cargo run --release -p epoll -- --trace
//! cargo run --release -p epoll -- --trigger edge --workers 2
//! cargo run --release -p epoll --bin epoll-mio -- --trace
//! curl -s http://127.0.0.1:7007/numbers.txt
//! strace -f -e trace=epoll_wait,epoll_ctl,accept4,recvfrom,sendto,close target/release/epoll
//! ```
//!
//! # Layout
//! - `server.rs`: the raw epoll loop.
//! - `mio_server.rs`: the same loop on mio.
//! - `cli.rs`: [`Args`] and [`MioArgs`], the two command lines (the common
//!   flags, `--trigger`, [`Workers`]), in the library so that the book's test
//!   (`bench/tests/book_commands.rs`) parses the book's commands with it.
//! - The timer heap and the table of connections by token are
//!   `plumbing::timers` and `plumbing::table`, shared with signal_driven
//!   and uring.

mod cli;
mod mio_server;
mod server;
pub use cli::{Args, MioArgs};

use model::{Binary, Colour, Limits, Variant};
use std::io;
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;

use nix::sys::epoll::EpollFlags;
use plumbing::Server;
use plumbing::admission::Places;
use protocol::Service;

/// The default port of `epoll` (docs/src/contract.md §1).
pub const EPOLL_PORT: u16 = 7007;
/// The default port of `epoll-mio` (docs/src/contract.md §1).
pub const EPOLL_MIO_PORT: u16 = 7008;

/// This crate's two binaries, their variants and limits
/// (`model`): read by its conformance test and by `bench compare`
/// (which measures all but edge-triggered with two workers).
pub const BINARIES: &[Binary] = &[
    Binary {
        name: "epoll",
        version: env!("CARGO_PKG_VERSION"),
        core: Some("epoll_core"),
        colour: Colour(220, 120, 30),
        reference: false,
        variants: &[
            Variant::default_with(Limits::NONE),
            Variant::flags(&["--trigger", "edge"]),
            Variant::flags(&["--workers", "2"]),
            Variant {
                measured: false,
                ..Variant::flags(&["--trigger", "edge", "--workers", "2"])
            },
        ],
    },
    Binary {
        name: "epoll-mio",
        version: env!("CARGO_PKG_VERSION"),
        core: Some("epoll_mio_core"),
        colour: Colour(255, 187, 120),
        reference: false,
        variants: &[
            Variant::default_with(Limits::NONE),
            Variant {
                measured: false,
                ..Variant::flags(&["--workers", "2"])
            },
        ],
    },
];

/// `--trigger`: when epoll reports a ready fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Trigger {
    /// As long as it is ready (the default; like select and poll).
    Level,
    /// When it becomes ready, once (`EPOLLET`): the loop drains it.
    Edge,
}

impl Trigger {
    /// The flag every registration carries: EPOLLET for edge, none for level.
    pub(crate) fn flags(self) -> EpollFlags {
        match self {
            Trigger::Level => EpollFlags::empty(),
            Trigger::Edge => EpollFlags::EPOLLET,
        }
    }
}

/// `--workers N`, taken by both binaries.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Workers {
    /// Worker threads, each with its own epoll instance and its own SO_REUSEPORT listener.
    #[arg(long = "workers", value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub count: u16,
}

/// Starts the server named `name` with `plumbing`, then `serve`s it on
/// `workers` threads. Only with more than one worker is the first listener
/// bound with SO_REUSEPORT: a lone server on a port in use must fail to start.
pub fn run(
    name: &str,
    default_port: u16,
    common: &plumbing::CommonArgs,
    workers: Workers,
    serve: impl FnOnce(Server, usize) -> io::Result<()>,
) -> ExitCode {
    let count = usize::from(workers.count);
    let serve = |server| serve(server, count);
    match count {
        1 => plumbing::run(name, default_port, common, serve),
        _ => plumbing::run_reuse_port(name, default_port, common, serve),
    }
}

/// Serves with raw epoll on `workers` threads until shutdown.
pub fn serve(server: Server, trigger: Trigger, workers: usize) -> io::Result<()> {
    let setup = |listener, service, places| server::Loop::new(listener, service, places, trigger);
    on_workers(server, workers, setup, server::Loop::serve)
}

/// Serves with mio on `workers` threads until shutdown.
pub fn serve_mio(server: Server, workers: usize) -> io::Result<()> {
    on_workers(
        server,
        workers,
        mio_server::Loop::new,
        mio_server::Loop::serve,
    )
}

// ANCHOR: workers
/// Sets up `workers` workers, each with a listener of its own on the
/// server's port (the first is the server's, the others are bound again
/// with `SO_REUSEPORT`), then runs each on a thread of its own. Every worker
/// is set up before any serves: once one accepts, the fds could run out
/// under another's set-up. With one worker it runs on the calling thread.
/// Returns when every worker has returned, with the first error, if any.
fn on_workers<W: Send>(
    server: Server,
    workers: usize,
    setup: impl Fn(TcpListener, Arc<Service>, Places) -> io::Result<W>,
    serve: fn(W) -> io::Result<()>,
) -> io::Result<()> {
    let places = Places::new(server.max_conns);
    let mut ready = Vec::with_capacity(workers);
    for _ in 1..workers {
        let listener = server.listen_again()?;
        ready.push(setup(listener, server.service.clone(), places.clone())?);
    }
    ready.insert(0, setup(server.listener, server.service, places)?);
    if workers <= 1 {
        return ready.into_iter().try_for_each(serve);
    }
    std::thread::scope(|scope| {
        let mut threads = Vec::with_capacity(workers);
        for (i, worker) in ready.into_iter().enumerate() {
            threads.push(
                std::thread::Builder::new()
                    .name(format!("worker-{i}"))
                    .spawn_scoped(scope, move || serve(worker))?,
            );
        }
        let mut outcome = Ok(());
        for thread in threads {
            let result = thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("a worker panicked")));
            outcome = outcome.and(result);
        }
        outcome
    })
}
// ANCHOR_END: workers
