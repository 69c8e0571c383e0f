//! # blocking: the iterative server
//!
//! ## Model
//! Blocking I/O, one connection at a time: `accept` a connection, serve it
//! until it closes, `accept` the next. Both phases of every read block the
//! whole server: waiting for data to arrive, and copying it out. This is the
//! baseline every other model is measured against, and the
//! *pull* driver of the protocol (see `protocol`'s docs): the loop reads when
//! it wants bytes, and sits in `read` until they come.
//!
//! ## Syscalls
//! `accept4`, `setsockopt` (TCP_NODELAY, SO_RCVTIMEO, SO_SNDTIMEO),
//! `recvfrom` and `sendto` (what std's `read` and `write` on a socket are;
//! `sendto` with MSG_NOSIGNAL, so a vanished client is an EPIPE error, not a
//! signal), `clock_nanosleep` for a pending `/delay`, `close`. Nothing else:
//! no readiness call, no non-blocking fd.
//!
//! ## Where it blocks
//! In `accept` while no client is connecting; in `read` while the client it
//! serves sends nothing (until that connection's next deadline); in `write`
//! while the client's receive window is full; in `nanosleep` while a `/delay`
//! response waits for its time. Every other client waits in the kernel's
//! listen backlog meanwhile.
//!
//! ## EAGAIN and EINTR
//! The sockets are blocking, so EAGAIN only means "the `SO_RCVTIMEO` timeout
//! ran out": the connection's deadline (a `/delay`, the 408, the idle timeout)
//! is due, and the loop fires it. EINTR cannot come from SIGINT/SIGTERM
//! (blocked in this thread, taken by `plumbing`'s signal thread); any other
//! interruption is retried. std's `accept` retries EINTR by itself.
//!
//! ## Limits
//! One connection at a time. A keep-alive client holds the whole server until
//! it closes or reaches `--idle-timeout`: with the default 60 s, a second
//! `curl` waits behind an idle first one. `--max-conns` is satisfied by
//! construction. Two `/delay/500` requests on two connections take 1 s, not
//! 0.5 s. That is the lesson: every model after this one exists to lift it.
//!
//! ## Try it
//! ```text
//! cargo run --release -p blocking -- --trace
//! curl -s http://127.0.0.1:7001/numbers.txt
//! printf 'GET /delay/500 HTTP/1.0\r\n\r\n' | nc -q1 127.0.0.1 7001
//! ```
//!
//! # Layout
//! - `server`: the accept loop and the per-connection pull loop.
//! - `cli`: [`Args`], the command line (the common flags, `--help`,
//!   `--version`), in the library so that the book's test
//!   (`bench/tests/book_commands.rs`) parses the book's commands with it.
//!
//! [`serve_client`] (the pull loop [`serve_connection`], then the close) is
//! public: `threaded` runs it on a thread per connection and `forking` in a
//! process per connection, unchanged. `coroutine` runs it too, on may's
//! socket, whose calls park a coroutine instead of blocking the thread:
//! the loop is written against the small [`Socket`] trait, implemented
//! here for std's `TcpStream`. That the same loop serves all four is the
//! lesson of those chapters.

use model::{Binary, Colour, Limits, Variant};

mod cli;
mod server;
pub use cli::Args;

pub use server::{READ_BUF, Socket, serve, serve_client, serve_connection};

/// The default port (docs/src/contract.md §1).
pub const PORT: u16 = 7001;

/// This model's binary, its variants and limits (`model`): read
/// by its conformance test and by `bench compare`.
pub const BINARIES: &[Binary] = &[Binary {
    name: "blocking",
    version: env!("CARGO_PKG_VERSION"),
    core: Some("blocking_core"),
    colour: Colour(120, 120, 120),
    reference: false,
    // One connection at a time: the next waits in the backlog.
    variants: &[Variant::default_with(Limits {
        at_a_time: Some(1),
        ..Limits::NONE
    })],
}];
