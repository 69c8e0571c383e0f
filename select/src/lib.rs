//! # select and poll: readiness, asked for every connection on every call
//!
//! ## Model
//! I/O multiplexing, level-triggered: one thread, non-blocking sockets, and
//! one loop that blocks in a single call asking the kernel "which of these
//! fds can I read or write without blocking?". It then does exactly that
//! work, and asks again. One slow client no longer holds up the others, and
//! an idle server sleeps in the kernel instead of spinning (compare
//! `nonblocking`). This crate builds two binaries on one loop:
//!
//! - `select` (port 7005) asks with `select(2)`: two bitmaps of fds, for read
//!   and write interest, rebuilt before every call because the kernel writes
//!   its answer into them.
//! - `poll` (port 7006) asks with `poll(2)`: an array of `(fd, events)`, the
//!   answer in a separate `revents` field, and no limit on the fd number.
//!
//! `server` is the loop both share (in `server.rs`, as every model's loop is); `wait.rs` says what the loop asks of
//! its wait call; `select.rs` and `poll.rs` hold only the wait call, so the diff between those two files is the difference
//! between the two calls. The loop's own read (one per report) and write
//! loops are in `server`, over `plumbing::conn`'s one-call `read` and
//! `write`; the connections' deadlines are a heap (`plumbing::timers`), as
//! in every event loop, so the wait's timeout costs no scan of its own.
//!
//! ## Syscalls
//! `select` (or `poll`) once per loop round; `accept4` until EAGAIN when the
//! listener is readable; `recvfrom` once per readable connection
//! (level-triggered: bytes left over are reported again by the next call);
//! `sendto` until EAGAIN or nothing is left; `close`. Interest follows the
//! protocol: read while it has room for input, write only while it has
//! bytes to send (an idle socket is always writable, so asking otherwise
//! would make every call return at once).
//!
//! ## Where it blocks
//! Only in `select`/`poll`, for at most the time until the earliest deadline
//! of any connection (a `/delay`, a 408, an idle timeout). Every other call
//! is on a non-blocking fd and returns at once. A `/cpu` request still
//! blocks everyone: one thread does all the work.
//!
//! ## EAGAIN and EINTR
//! EAGAIN after a readiness report is a spurious wake-up (or another process
//! took the client): the connection simply waits for the next report. A
//! write that returns EAGAIN keeps its tail in the protocol and turns on
//! write interest. EINTR from the wait call is retried against the deadline
//! computed before the first try, so a signal never stretches a `/delay`.
//!
//! ## Limits
//! - `select` cannot watch an fd at or above FD_SETSIZE (1024): the bitmap
//!   has no bit for it. Below 1024 are also fds 0–2, the listener and a few
//!   of the process's own, so 1,017 clients fit (measured with `bench hold
//!   -n 1100`); a connection that gets a higher fd is
//!   answered `503 Service Unavailable` (echo: closed) at once and the rest
//!   carry on. `--trace` logs each refusal. `poll` has no such limit.
//! - Both pass their whole interest list to the kernel on every call, and
//!   both scan every connection afterwards: the cost per call is O(all
//!   connections), not O(ready ones). That is what `epoll` fixes.
//! - `--max-conns N`: connection N+1 gets the same 503.
//!
//! ## Try it
//! ```text
//! cargo run --release -p select -- --trace
//! cargo run --release -p select --bin poll -- --trace
//! curl -s http://127.0.0.1:7005/numbers.txt
//! strace -e trace=select,accept4,recvfrom,sendto target/release/select
//! ```
//!
//! # Layout
//! - `server`: the loop both binaries share: accept, read, write,
//!   deadlines, over whichever wait call it is given.
//! - `wait`: what the loop asks of its wait call (the `Wait` trait: the
//!   listener, the connections and their interest, a deadline) and what the
//!   call answers (`Report`).
//! - `select`: the wait call of `select`, two fd sets rebuilt every call.
//! - `poll`: the wait call of `poll`, an array of `pollfd`.
//! - `cli`: [`Args`] and [`PollArgs`], the two command lines (the common
//!   flags, `--help`, `--version`), in the library so that the book's test
//!   (`bench/tests/book_commands.rs`) parses the book's commands with them.

mod cli;
mod poll;
mod select;
mod server;
mod wait;
pub use cli::{Args, PollArgs};

use model::{Binary, Colour, Limits, Variant};
use std::io;

use plumbing::Server;

/// The default port of `select` (docs/src/contract.md §1).
pub const SELECT_PORT: u16 = 7005;
/// The default port of `poll` (docs/src/contract.md §1).
pub const POLL_PORT: u16 = 7006;

/// This crate's two binaries, their variants and limits
/// (`model`): read by its conformance test and by `bench compare`.
pub const BINARIES: &[Binary] = &[
    Binary {
        name: "select",
        version: env!("CARGO_PKG_VERSION"),
        core: Some("select_core"),
        colour: Colour(23, 190, 207),
        reference: false,
        // fds at or above FD_SETSIZE cannot be watched: refused.
        variants: &[Variant::default_with(Limits {
            fd_limit: Some(1024),
            ..Limits::NONE
        })],
    },
    Binary {
        name: "poll",
        version: env!("CARGO_PKG_VERSION"),
        core: Some("poll_core"),
        colour: Colour(214, 39, 40),
        reference: false,
        variants: &[Variant::default_with(Limits::NONE)],
    },
];

/// Serves with `select(2)` until shutdown.
pub fn serve_select(server: Server) -> io::Result<()> {
    let places = plumbing::admission::Places::new(server.max_conns);
    server::Loop::new(server.listener, server.service, places, select::Select)?.serve()
}

/// Serves with `poll(2)` until shutdown.
pub fn serve_poll(server: Server) -> io::Result<()> {
    let places = plumbing::admission::Places::new(server.max_conns);
    server::Loop::new(server.listener, server.service, places, poll::Poll)?.serve()
}
