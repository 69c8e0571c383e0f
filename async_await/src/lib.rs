//! # async_await: futures on a runtime you can read
//!
//! ## Model
//! Stackless coroutines: each connection is an `async fn`, which the
//! compiler turns into a state machine (a struct holding the locals that
//! live across an `.await`, and which `.await` it stopped at). No stack of
//! its own: a task parked at an `.await` is just that struct, a few hundred
//! bytes. A small runtime written here drives them, in two files:
//! - `executor`: a table of tasks and a queue of the ones to poll. Polling
//!   a task runs its `async fn` until an `.await` is not ready; then the
//!   task returns `Pending` and the executor polls the next one.
//! - `reactor`: epoll (through the `polling` crate, as smol's `async-io`
//!   uses it) and a timer list. It keeps the [`Waker`](std::task::Waker)
//!   of each task waiting for a socket or a deadline, and wakes it when
//!   the kernel reports the socket or the deadline passes.
//!
//! The connection's code reads like the blocking pull loop, with `.await`
//! marking every place it may wait; underneath, it is the epoll server.
//! One thread runs everything.
//!
//! ## Syscalls
//! `accept4`, `ioctl(FIONBIO)`/`fcntl` (non-blocking), `epoll_ctl(ADD)`
//! once per socket and `epoll_ctl(DEL)` at its close, `recvfrom`,
//! `sendto`, `close`. Per wait, `polling` sets its timerfd
//! (`timerfd_settime`), re-arms it and its notifier (`epoll_ctl(MOD)`), and
//! calls `epoll_wait`. `epoll_ctl(MOD)` for a socket only when a direction
//! is first waited on, or reported with nobody waiting (see `reactor`).
//!
//! ## Where it blocks
//! Only in `epoll_wait`, inside `Reactor::wait`, when no task can run: until
//! a watched socket is ready, the earliest timer is due, or shutdown
//! notifies the poller. A *task* waits at its `.await`s: for the listener
//! (accept), for bytes or its deadline (read), for room in the send buffer
//! (write), for a timer (`/delay`). Anything that blocks the *thread*
//! instead (`/cpu`, a blocking call) stalls every task.
//!
//! ## EAGAIN and EINTR
//! A read after a readiness report may still find nothing (EAGAIN): a
//! spurious wake-up, for instance the one every reader gets at shutdown.
//! It clears readiness and waits again. A write's EAGAIN parks the task
//! until the socket is writable. EINTR is retried by `polling`'s wait
//! (against the same deadline) and by the read and write paths; SIGINT and
//! SIGTERM are blocked in this thread and taken by `plumbing`'s signal
//! thread, whose hook wakes the reactor (`Poller::notify`).
//!
//! ## Limits
//! - One thread: a `/cpu` request holds every connection. (tokio's
//!   multi-threaded runtime spreads tasks over a thread per core: see the
//!   chapter.)
//! - `--max-conns N` (default 10,000): connection N+1 gets `503`. Out of
//!   fds: `plumbing`'s acceptor refuses with its reserve fd, or pauses.
//! - At shutdown the accept task ends, every reader is woken once (a
//!   connection between requests closes), in-flight responses finish, and
//!   the executor returns when the last task has ended.
//!
//! ## Try it
//! ```text
//! cargo run --release -p async_await -- --trace
//! curl -s http://127.0.0.1:7011/numbers.txt
//! curl -s http://127.0.0.1:7011/delay/500 & curl -s http://127.0.0.1:7011/delay/500
//! ```
//!
//! # Layout
//! - `executor`: `block_on`, `spawn`, the task table, the wakers. Its one
//!   unsafe block, outside `sys`, builds a waker from a raw vtable (a task
//!   is named by an id, not by a pointer), under its `SAFETY:` comment.
//! - `reactor`: the poller, `Async` (a registered socket), the `readable`
//!   and `writable` futures, `sleep_until` and the timers.
//! - `server`: the accept task and the `async fn` per connection.
//! - `held`: what a parked connection is made of, from the types, for the
//!   chapter's table.
//! - `sys`: the two `polling` calls that take an fd on trust.
//! - `cli`: [`Args`], the command line (the common flags, `--help`,
//!   `--version`), in the library so that the book's test
//!   (`bench/tests/book_commands.rs`) parses the book's commands with it.
//!
//! `polling` is the one dependency of the runtime (docs/src/contract.md §1): a thin safe
//! layer over epoll. `socket2` sets the sockets non-blocking. No tokio, no
//! smol, no futures crate: the point is to see all of it.

use model::{Binary, Colour, Limits, Variant};

mod cli;
mod executor;
mod held;
mod reactor;
mod server;
mod sys;
pub use cli::Args;

pub use executor::{block_on, spawn};
pub use held::held_layout;
pub use reactor::{Async, Wake};
pub use server::serve;

/// The default port (docs/src/contract.md §1).
pub const PORT: u16 = 7011;

/// This model's binary, its variants and limits (`model`): read
/// by its conformance test and by `bench compare`.
pub const BINARIES: &[Binary] = &[Binary {
    name: "async_await",
    version: env!("CARGO_PKG_VERSION"),
    core: Some("async_await_core"),
    colour: Colour(174, 199, 232),
    reference: false,
    variants: &[Variant::default_with(Limits::NONE)],
}];
