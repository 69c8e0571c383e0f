//! # nonblocking: the busy-poll server
//!
//! ## Model
//! Non-blocking I/O with no readiness notification. Every socket is
//! `O_NONBLOCK`, so no call ever waits: `accept`, `read` and `write` either
//! do their work or fail at once with EAGAIN ("nothing now"). One loop tries
//! them all, over and over. One slow client no longer holds up the others,
//! as in `blocking`, but the price is that the loop never sleeps: an idle
//! server burns a whole core asking "anything yet?" thousands of times a
//! millisecond. Every later model keeps the non-blocking sockets and adds a
//! way to sleep until there is something to do.
//!
//! ## Syscalls
//! `accept4` (EAGAIN almost every time), `recvfrom` on every connection that
//! may read, on every pass (EAGAIN almost every time), one `sendto` per pass
//! while a connection has something to send, `close`. No `select`, `poll`, `epoll_wait` or sleep:
//! `strace -c` on an idle server with one open connection shows only
//! `accept4` and `recvfrom`, millions of them, nearly all EAGAIN.
//!
//! ## Where it blocks
//! Nowhere. That is the point, and the problem. A `/delay` is a deadline
//! checked on every pass; a `/cpu` request still stops the loop for its
//! duration, as in every one-thread model.
//!
//! ## EAGAIN and EINTR
//! EAGAIN is the normal answer to every call here and is never an error; the
//! connection is tried again on the next pass. A partial write keeps its
//! tail in the protocol for the next pass. EINTR (no call blocks, so it is
//! rare) is retried on the next pass. Each is decided in `server.rs`, over
//! `plumbing::conn`'s one-call `read` and `write`.
//!
//! ## Limits
//! CPU: a core at 100% from the first second, idle or not, and the more
//! connections it holds the longer each pass takes (every pass touches all of
//! them). `--max-conns N`: connection N+1 gets a `503 Service Unavailable`
//! (echo: closed) at once. `--trace` prints a line for every `read` that
//! finds EAGAIN (a failed `accept` is not traced): silent with no client, a
//! flood with one; pipe it through `grep -v EAGAIN` or `head`.
//!
//! ## Try it
//! ```text
//! cargo run --release -p nonblocking &   # $! is the server's PID
//! top -p $!                               # 100% CPU, with no client at all
//! exec 3<>/dev/tcp/127.0.0.1/7004; strace -c -f -p $!
//! ```
//!
//! # Layout
//! - `server`: the busy-poll loop.
//! - `cli`: [`Args`], the command line (the common flags, `--help`,
//!   `--version`), in the library so that the book's test
//!   (`bench/tests/book_commands.rs`) parses the book's commands with it.

use model::{Binary, Colour, Limits, Variant};

mod cli;
mod server;
pub use cli::Args;

/// Serves with the busy-poll loop until shutdown.
pub fn serve(server: plumbing::Server) -> std::io::Result<()> {
    server::Loop::new(server)?.serve()
}

/// The default port (docs/src/contract.md §1).
pub const PORT: u16 = 7004;

/// This model's binary, its variants and limits (`model`): read
/// by its conformance test and by `bench compare`.
pub const BINARIES: &[Binary] = &[Binary {
    name: "nonblocking",
    version: env!("CARGO_PKG_VERSION"),
    core: Some("nonblocking_core"),
    colour: Colour(188, 189, 34),
    reference: false,
    // It never sleeps: a whole CPU even idle.
    variants: &[Variant::default_with(Limits {
        spins: true,
        ..Limits::NONE
    })],
}];
