//! # signal_driven: the kernel signals each ready fd
//!
//! ## Model
//! Signal-driven I/O, the fourth model of the sources. Instead of asking
//! which fds are ready (select, poll, epoll), the program asks the kernel to
//! *tell* it: each socket is set `O_ASYNC`, owned by this process
//! (`F_SETOWN`), with a real-time signal of its own choosing (`F_SETSIG`).
//! From then on, every time data arrives, room to write appears, or the
//! peer fails, the kernel queues that signal, and its `siginfo` carries the
//! fd and what happened (`si_fd`, `si_band`). The second phase, copying the
//! data, is the program's, as with readiness: a `read` after the signal.
//!
//! **Taken synchronously, never in a handler.** The signals are blocked in
//! every thread (from the first line of `main`), so they stay queued, and
//! the loop takes them one at a time with `sigtimedwait`, which also takes
//! the earliest deadline as its timeout. No code runs in an asynchronous
//! signal handler, where almost nothing is safe to call. (signalfd would do
//! the same through an fd, but then the loop would wait on that fd with
//! poll or epoll: a readiness call after all. `sigtimedwait` keeps the
//! model pure: its one blocking call is the wait for a signal.)
//!
//! **When the queue overflows.** Real-time signals are queued one per
//! event, up to `RLIMIT_SIGPENDING` per user. When the queue is full the
//! kernel drops the signal and raises plain SIGIO instead, which names no
//! fd. Events were lost, so on SIGIO the loop serves every fd once
//! (`on_overflow`). `--sigpending 1` makes this happen all the time; the
//! conformance suite runs that way too.
//!
//! **Signals are edge-like**: one per change, not one per wait. A connection
//! is read until EAGAIN (with a budget), and what is left is served again
//! on the next round (`again`), since no new signal will say so.
//!
//! **Regular files raise no signals** (O_ASYNC works on sockets, pipes and
//! terminals). That does not matter here: the server reads its site from
//! memory or with ordinary reads, which do not wait on a peer.
//!
//! ## Syscalls
//! At start: `pthread_sigmask`. Per client: `accept4`, then `fcntl` four
//! times (`F_SETOWN`, `F_SETSIG`, `F_GETFL`, `F_SETFL`). Per signal:
//! `sigtimedwait`, then `recvfrom` until EAGAIN and `sendto`. A keep-alive
//! request answered at once costs `sigtimedwait`, `recvfrom`, `recvfrom`
//! (EAGAIN), `sendto`: one more read than epoll, because a signal does not
//! say how much arrived, and one wait per event, where `epoll_wait` returns
//! many. `bench compare`'s costs table counts them under load (the
//! chapter includes it): four system calls per request where epoll makes
//! two.
//!
//! ## Where it blocks
//! Only in `sigtimedwait`, until a signal is queued or the earliest
//! deadline. A `/cpu` request blocks every connection.
//!
//! ## EAGAIN and EINTR
//! EAGAIN on a read ends the drain: the next signal says when there is
//! more. A signal for an fd already drained (several arrivals, one drain)
//! or closed since (its number maybe reused by a new client) reads EAGAIN:
//! a spurious wake-up. A write that returns EAGAIN keeps its tail; the
//! kernel signals `POLL_OUT` when there is room. EINTR from `sigtimedwait`
//! (a signal outside its set) is retried against the same deadline.
//! EAGAIN from `sigtimedwait` is its timeout. Out of fds: the reserve-fd
//! trick of every event loop (`plumbing::nonblocking_accept`).
//!
//! ## Limits
//! - One thread: signals are queued for the process, and one loop takes them.
//! - `--max-conns N`: client N+1 gets `503 Service Unavailable`.
//! - Every queued signal is kernel memory, counted per user against
//!   `RLIMIT_SIGPENDING`; past it, the SIGIO sweep costs a pass over every
//!   connection.
//!
//! ## Try it
//! ```text
//! cargo run --release -p signal_driven -- --trace
//! cargo run --release -p signal_driven -- --trace --sigpending 1
//! curl -s http://127.0.0.1:7009/numbers.txt
//! strace -e trace=rt_sigtimedwait,fcntl,accept4,recvfrom,sendto target/release/signal_driven
//! ```
//!
//! # Layout
//! - `server.rs`: the loop: wait for a signal, serve its fd.
//! - `sys.rs`: the calls nix does not wrap: `F_SETSIG`, `sigtimedwait`
//!   and the `siginfo` it fills, `RLIMIT_SIGPENDING`.
//! - `cli.rs`: [`Args`], the command line (the common flags and
//!   `--sigpending`), in the library so that the book's test
//!   (`bench/tests/book_commands.rs`) parses the book's commands with it.

mod cli;
mod server;
pub mod sys;
pub use cli::Args;

use model::{Binary, Colour, Limits, Variant};
use std::io;

pub use sys::{block_signals, limit_queue};

/// The default port (docs/src/contract.md §1).
pub const PORT: u16 = 7009;

/// This model's binary, its variants and limits (`model`): read
/// by its conformance test and by `bench compare`.
pub const BINARIES: &[Binary] = &[Binary {
    name: "signal_driven",
    version: env!("CARGO_PKG_VERSION"),
    core: Some("signal_driven_core"),
    colour: Colour(227, 119, 194),
    reference: false,
    variants: &[
        Variant::default_with(Limits::NONE),
        // A queue of one signal: nearly every event overflows into SIGIO.
        Variant::flags(&["--sigpending", "1"]),
    ],
}];

/// Serves with signal-driven I/O until shutdown.
pub fn serve(server: plumbing::Server) -> io::Result<()> {
    let places = plumbing::admission::Places::new(server.max_conns);
    server::Loop::new(server.listener, server.service, places)?.serve()
}
