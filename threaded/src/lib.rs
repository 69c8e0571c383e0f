//! # threaded: a thread per connection, or a pool of threads
//!
//! ## Model
//! Blocking I/O, with the concurrency bought from the kernel's scheduler.
//! The main thread blocks in `accept`; every connection is served by a
//! thread that runs the blocking server's own pull loop
//! ([`blocking::serve_connection`], unchanged) and blocks in `read` and
//! `write` on that one connection. While one thread waits, the kernel runs
//! another. Both phases of every read still block, but only the thread
//! that asked.
//!
//! - By default, a thread per connection (`std::thread::Builder`, with a
//!   stack of `--stack-size` bytes, 64 KiB unless told), started when the
//!   connection is accepted and ended when it closes.
//! - `--pool N`: N threads started up front. The main thread hands each
//!   accepted socket to a free one through a crossbeam channel of capacity
//!   0 (a rendezvous: `send` blocks until a worker is in `recv`). While all
//!   N are busy the main thread waits in `send`, and new clients wait in
//!   the kernel's listen backlog, so a full pool neither holds fds nor
//!   memory for clients it does not serve. The failure mode is the
//!   lesson: N keep-alive clients, however idle, take every worker, and
//!   client N+1 waits until one leaves (or is closed at `--idle-timeout`).
//!
//! ## Syscalls
//! Main thread: `accept4`, then `mmap`/`mprotect`/`clone3` to start a thread
//! (per connection) or a futex wake (pool hand-off). Each connection thread:
//! `setsockopt` (TCP_NODELAY, SO_RCVTIMEO, SO_SNDTIMEO), `recvfrom`,
//! `sendto`, `close`, and `clock_nanosleep` for a pending `/delay`; at exit,
//! `munmap` of its stack (glibc caches a few for reuse) and `exit`.
//!
//! ## Where it blocks
//! The main thread in `accept` (and, with a pool, in the channel's `send`
//! while every worker is busy); each connection thread in `read` while its
//! client sends nothing, in `write` while its client's window is full, and
//! in `nanosleep` for a `/delay`. A `/cpu` request holds its own thread
//! only; with 2 cores, two of them at once hold the machine.
//!
//! ## EAGAIN and EINTR
//! As in `blocking`: EAGAIN from a read means SO_RCVTIMEO ran out, so the
//! connection's deadline is due; EINTR is retried. SIGINT and SIGTERM are
//! blocked in every thread (each inherits the mask) and taken by
//! `plumbing`'s signal thread.
//!
//! Out of fds (EMFILE): `plumbing::blocking_accept::BlockingAcceptor` closes a spare
//! fd, accepts the waiting client into it, answers `503` and closes it, so
//! clients are refused cleanly and the accept loop does not spin.
//!
//! ## Limits
//! - `--max-conns N` (default 10,000): connection N+1 gets `503` (echo: a
//!   close). The pool counts the one connection waiting in the hand-off.
//! - Threads cost memory (the touched part of each stack, the read buffer)
//!   and kernel memory (a kernel stack and task each): the chapter measures
//!   both at 10,000 connections. The kernel's `threads-max`, `pid_max`
//!   (32,768 here) and `vm.max_map_count` (two maps per thread) bound the
//!   count. When the kernel refuses a new thread (`EAGAIN`), that one client
//!   is closed at once and the server goes on.
//! - `--stack-size` below 32 KiB is refused (exit 2): a thread that
//!   overflows its stack aborts the whole process. 32 KiB is twice the
//!   smallest stack that passed the conformance suite (16 KiB, measured).
//! - At shutdown, in-flight responses get `plumbing`'s 2 s grace; a thread
//!   waiting on an idle keep-alive client does not notice shutdown, and the
//!   process exits at the end of the grace.
//!
//! ## Try it
//! ```text
//! cargo run --release -p threaded -- --trace
//! cargo run --release -p threaded -- --pool 8 --trace
//! curl -s http://127.0.0.1:7003/numbers.txt
//! ps -T -p $(pgrep -x threaded)        # one line per thread
//! ```
//!
//! # Layout
//! - `server`: the accept loop, a thread per connection, and the pool.
//! - `cli`: [`Args`], the command line (the common flags and [`Threads`]),
//!   in the library so that the book's test
//!   (`bench/tests/book_commands.rs`) parses the book's commands with it.
//!
//! `crossbeam` earns its place: its channel has the capacity-0 rendezvous
//! the pool needs, and its `WaitGroup` is how the main thread waits for the
//! connection threads at shutdown.

use model::{Binary, Colour, Limits, Variant};

mod cli;
mod server;
pub use cli::Args;

pub use server::serve;

/// The default port (docs/src/contract.md §1).
pub const PORT: u16 = 7003;

// ANCHOR: binaries
/// This model's binary, its variants and limits (`model`): read
/// by its conformance test and by `bench compare`.
pub const BINARIES: &[Binary] = &[Binary {
    name: "threaded",
    version: env!("CARGO_PKG_VERSION"),
    core: Some("threaded_core"),
    colour: Colour(148, 103, 189),
    reference: false,
    variants: &[
        Variant::default_with(Limits {
            thread_per_connection: true,
            ..Limits::NONE
        }),
        // A pool of 8: eight connections at a time, the ninth waits.
        Variant {
            args: &["--pool", "8"],
            limits: Limits {
                at_a_time: Some(8),
                ..Limits::NONE
            },
            measured: true,
        },
    ],
}];
// ANCHOR_END: binaries

/// The smallest `--stack-size` accepted: see the crate docs.
pub const MIN_STACK: usize = 32 * 1024;

/// The threaded model's own flags.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Threads {
    /// Stack size of each connection thread, in bytes (at least 32768).
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024,
          value_parser = parse_stack_size)]
    pub stack_size: usize,

    /// Serve with a pool of N threads instead of a thread per connection: the (N+1)th client waits.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=10_000))]
    pub pool: Option<u16>,
}

fn parse_stack_size(text: &str) -> Result<usize, String> {
    plumbing::args::parse_bytes(text, MIN_STACK, usize::MAX)
}
