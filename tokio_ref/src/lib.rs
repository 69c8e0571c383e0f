//! # tokio_ref: the same server on tokio, the production runtime
//!
//! ## Why it is here
//! It is not a model of its own: it is `async_await`'s server (an accept
//! task, one `async fn` per connection, the same `protocol::Connection`,
//! the same waits) on tokio instead of the small executor and reactor
//! `async_await` writes itself. `diff -w async_await/src/server.rs
//! tokio_ref/src/server.rs` shows the runtime and little else. `bench
//! compare` measures it beside the models as a reference row, as it does
//! nginx: what a production runtime costs and buys, measured in the same
//! run as the hand-made one.
//!
//! ## Model
//! Stackless coroutines, as `async_await`. What tokio adds underneath:
//! - a scheduler: with `--workers 1` (the default) the current-thread
//!   runtime, every task on the thread that called `block_on`; with
//!   `--workers N` the multi-threaded runtime, N worker threads, each with
//!   a local run queue, an idle worker stealing half of a busy one's;
//! - a cooperative budget: a task whose tokio I/O futures (`read`,
//!   `peek`, ...) complete again and again is made to yield after 128, so
//!   it cannot starve the others. `readable()` does not count against it,
//!   so this server's loop is not held to it (measured in the chapter);
//! - a hashed timer wheel (`tokio::time`) instead of a sorted map;
//! - an I/O driver: every socket is registered once, edge-triggered, and
//!   the driver keeps its readiness until an operation finds EAGAIN;
//! - a blocking pool (`spawn_blocking`, `tokio::fs`), not used here: the
//!   `--root` file is read on the worker, as `async_await` does.
//!
//! ## Syscalls
//! `accept4`, `fcntl` (non-blocking, by `plumbing`'s acceptor and std),
//! `epoll_ctl(ADD)` once per socket (edge-triggered, both directions) and
//! `epoll_ctl(DEL)` at its close, `recvfrom`, `sendto`, `close`,
//! `epoll_wait` when no task can run. With more workers, a sleeping
//! worker is woken through an eventfd (`write`) or a futex.
//!
//! ## Where it blocks
//! In `epoll_wait` (the I/O driver, inside the runtime's park) when no task
//! can run, or in a futex when another worker holds the driver. A task
//! waits at its `.await`s, as in `async_await`. Anything that blocks the
//! *thread* (`/cpu`) stalls every task of that worker: with one worker,
//! every task; with two, the others move to the free worker.
//!
//! ## EAGAIN and EINTR
//! `try_read` and `try_write` clear tokio's readiness mark on EAGAIN
//! themselves; the loop then waits again. A wake-up with nothing to read
//! (shutdown wakes every waiting task once) is an EAGAIN, handled in the
//! read. EINTR is retried (SIGINT and SIGTERM are blocked in every thread
//! and taken by `plumbing`'s signal thread, whose hook sends on a
//! `watch` channel every connection waits on).
//!
//! ## Limits
//! - `--max-conns N` (default 10,000): connection N+1 gets `503`. Out of
//!   fds: `plumbing`'s acceptor refuses with its reserve fd, or pauses.
//! - At shutdown the accept task stops accepting, every waiting
//!   connection is woken once (one between requests closes), in-flight
//!   responses finish, and `serve` returns when the last task has ended.
//!
//! ## Try it
//! ```text
//! cargo run --release -p tokio_ref -- --trace
//! cargo run --release -p tokio_ref -- --workers 2
//! curl -s http://127.0.0.1:7013/numbers.txt
//! ```
//!
//! # Layout
//! - `server`: the accept task and the `async fn` per connection.
//! - `waits`: what `async_await`'s reactor gives a task in one call, a wait
//!   for readiness, a deadline or shutdown, whichever comes first, made of
//!   tokio's parts (`tokio::select!`).
//! - `cli`: `--workers`.
//!
//! tokio is the one dependency (features `rt`, `rt-multi-thread`, `net`,
//! `time`, `sync`, `macros`). One unsafe block: registering the listener, which tokio takes on trust (`AsyncFd::register_with_interest`).

use model::{Binary, Colour, Limits, Variant};

mod cli;
mod server;
pub mod waits;
pub use cli::Args;

pub use server::serve;

/// The default port (docs/src/contract.md §1).
pub const PORT: u16 = 7013;

/// The binary, with one worker (the current-thread runtime) and with two
/// (the multi-threaded one); both measured by `bench compare`, as a
/// reference row.
pub const BINARIES: &[Binary] = &[Binary {
    name: "tokio_ref",
    version: env!("CARGO_PKG_VERSION"),
    core: None,
    colour: Colour(44, 160, 160),
    reference: true,
    variants: &[
        Variant::default_with(Limits::NONE),
        Variant::flags(&["--workers", "2"]),
    ],
}];
