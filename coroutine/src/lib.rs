//! # coroutine: green threads with may
//!
//! ## Model
//! Stackful coroutines, the gevent model. Every connection gets a
//! coroutine: a function with a stack of its own (`--stack-size` bytes)
//! that may's scheduler runs on a few worker threads (`--workers N`, 1
//! unless told). The coroutine runs the *blocking* server's pull loop,
//! unchanged ([`blocking::serve_client`]); only the socket is may's. When
//! a read finds no data, may registers the coroutine's interest with its
//! epoll and switches the worker to another coroutine: the switch saves a
//! few registers and swaps stack pointers, in user space. When epoll
//! reports the socket readable, the coroutine is resumed inside its `read`
//! as if the call had simply blocked. Code that looks blocking, an event
//! loop underneath.
//!
//! The main thread accepts (a blocking `accept`, as in `threaded`), hands
//! the socket to may and spawns the coroutine: going from `threaded` to
//! this model changes the spawn call and the socket type, nothing else.
//!
//! ## Syscalls
//! Main thread: `accept4`, `fcntl` (O_NONBLOCK) and `epoll_ctl(ADD)` (may
//! registers each socket once, edge-triggered), then a futex wake to hand
//! the new coroutine to a worker. Workers: `recvfrom`/`read` and `sendto`
//! on non-blocking sockets, `epoll_wait` when every coroutine is parked
//! (with at most may's 10 ms timeout, for its timers), `setsockopt` for the
//! loop's timeouts, `close`, and `mmap`/`mprotect` for each new coroutine
//! stack (may keeps 1000 finished coroutines, stacks and all, for reuse).
//!
//! ## Where it blocks
//! The main thread in `accept`. A worker thread only in `epoll_wait`, when
//! none of its coroutines can run. A *coroutine* parks in `read` until its
//! client sends or its deadline comes (may's timer, set from the loop's
//! read timeout), in `write` while its client's window is full, and in
//! `may::coroutine::sleep` for a `/delay`. Anything that blocks the
//! *thread* instead (a std `sleep`, a blocking file or DNS call, `/cpu`)
//! stalls every coroutine on that worker: with `--workers 1`, the server.
//!
//! ## EAGAIN and EINTR
//! EAGAIN never reaches the loop: may's `read` and `write` turn it into a
//! park and a retry. A read that times out (may's timer) comes back as
//! `TimedOut`, which the pull loop takes as "the deadline is due" exactly
//! like SO_RCVTIMEO's EAGAIN in `blocking`. EINTR is retried by the loop;
//! SIGINT and SIGTERM are blocked in every thread (may's workers inherit
//! the mask) and taken by `plumbing`'s signal thread.
//!
//! ## Limits
//! - Each connection costs its coroutine's stack (the touched pages of
//!   `--stack-size`, at least two: the top, and the bottom page where
//!   may writes a marker) and a [`READ_BUF`] read buffer: the chapter
//!   measures it at 19,000 connections. A coroutine that overflows its
//!   stack hits the guard page, and may ends the process ("coroutine has
//!   overflowed its stack", exit 1): `--stack-size` below [`MIN_STACK`]
//!   (8 KiB) is refused (exit 2), and the default is 32 KiB.
//! - No preemption: a coroutine runs until it parks. `/cpu/100000` holds
//!   its worker for 100 ms, and every coroutine waiting for that worker
//!   waits too. With `--workers 2` the other worker carries on (may's
//!   workers steal queued coroutines from each other).
//! - `--max-conns N` (default 10,000): connection N+1 gets `503`. Out of
//!   fds: `plumbing::blocking_accept::BlockingAcceptor`'s reserve fd answers `503`.
//! - At shutdown, in-flight responses get `plumbing`'s 2 s grace; a
//!   coroutine parked on an idle keep-alive client does not notice, and
//!   the process exits at the end of the grace (as `threaded` does).
//!
//! ## Try it
//! ```text
//! cargo run --release -p coroutine -- --trace
//! cargo run --release -p coroutine -- --workers 2 --stack-size 16384
//! curl -s http://127.0.0.1:7010/numbers.txt
//! curl -s http://127.0.0.1:7010/cpu/100000 & curl -s http://127.0.0.1:7010/numbers.txt
//! ```
//!
//! # Layout
//! - `server`: the accept loop, the spawn (under its `SAFETY:` comment),
//!   may's configuration, and `GreenSocket`, may's socket as the blocking
//!   pull loop sees it.
//! - `sys`: handing an accepted socket to may (`FromRawFd`).
//! - `cli`: [`Args`], the command line (the common flags and [`Green`]),
//!   in the library so that the book's test
//!   (`bench/tests/book_commands.rs`) parses the book's commands with it.
//!
//! `may` is the model. `crossbeam`'s `WaitGroup` is how the main thread
//! waits for the coroutines at shutdown (as in `threaded`).

use model::{Binary, Colour, Limits, Variant};

mod cli;
mod server;
mod sys;
pub use cli::Args;

pub use server::{GreenSocket, serve};
pub use sys::adopt;

/// The default port (docs/src/contract.md §1).
pub const PORT: u16 = 7010;

/// This model's binary, its variants and limits (`model`): read
/// by its conformance test and by `bench compare`.
pub const BINARIES: &[Binary] = &[Binary {
    name: "coroutine",
    version: env!("CARGO_PKG_VERSION"),
    core: Some("coroutine_core"),
    colour: Colour(31, 119, 180),
    reference: false,
    variants: &[
        Variant::default_with(Limits::NONE),
        Variant::flags(&["--workers", "2"]),
    ],
}];

/// Each coroutine's read buffer, in bytes. A coroutine parked in `read`
/// owns its buffer the whole time it waits, so unlike an event loop's one
/// shared buffer this is paid per connection: 4 KiB, where the thread
/// models use 16 KiB. A request head larger than this is read in pieces
/// (the protocol gathers them), so nothing is refused for it.
pub const READ_BUF: usize = 4 * 1024;

/// The smallest `--stack-size` accepted, 8 KiB: the smallest stack with
/// which a release build passed the whole conformance suite (measured; a
/// debug build, with its bigger frames, needed 12 KiB). Below 16 KiB is
/// for the memory experiment: a path the suite does not take could need
/// more, and an overflow kills the process. The default, 32 KiB, is 2.7
/// times what the debug build needed.
pub const MIN_STACK: usize = 8 * 1024;

/// The coroutine model's own flags.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Green {
    /// may's scheduler threads: how many coroutines can run at once.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..=256))]
    pub workers: u64,

    /// Stack size of each coroutine, in bytes (at least 8192; below 16384 for experiments only).
    #[arg(long, value_name = "BYTES", default_value_t = 32 * 1024,
          value_parser = parse_stack_size)]
    pub stack_size: usize,
}

fn parse_stack_size(text: &str) -> Result<usize, String> {
    plumbing::args::parse_bytes(text, MIN_STACK, 1 << 30)
}
