//! # forking: a process per connection, or preforked workers
//!
//! ## Model
//! Blocking I/O, with the concurrency bought from the kernel's scheduler,
//! one *process* per connection: the classic Unix server (inetd, early
//! Apache, PostgreSQL to this day). Every child runs the blocking server's
//! own pull loop ([`blocking::serve_connection`], unchanged) on its one
//! socket, in an address space and an fd table of its own.
//!
//! - By default the parent blocks in `accept` and, for each client,
//!   `fork`s. The child closes its copy of the listener, serves the client,
//!   and exits; the parent closes its copy of the client's socket and goes
//!   back to `accept`.
//! - `--workers N`: N children are forked up front, and each runs the whole
//!   blocking server, `accept` included, on the listener they all inherited.
//!   The kernel hands each new connection to one worker blocked in `accept`.
//!   The parent only watches: a worker that dies is replaced. N workers
//!   serve N connections at once; client N+1 waits in the listen backlog
//!   until one leaves (a keep-alive client holds its worker until it closes
//!   or reaches `--idle-timeout`).
//!
//! Children are reaped on SIGCHLD. Every thread has SIGCHLD blocked, and a
//! reaper thread takes it with `sigwait` and calls `waitpid(-1, WNOHANG)`
//! until no exited child is left: signals of one kind do not queue, so one
//! SIGCHLD may stand for many exits. No child stays a zombie.
//!
//! ## Syscalls
//! Parent: `accept4`, `clone` (what glibc's `fork` is), `close` of the
//! client's socket; the reaper `rt_sigtimedwait` (sigwait) and `wait4`.
//! Child: `close` of the listener and the spare fd, `rt_sigaction` and
//! `rt_sigprocmask` for its shutdown signals, `prctl(PR_SET_PDEATHSIG)`,
//! then the blocking loop's `setsockopt`, `recvfrom`, `sendto`, and
//! `exit_group`.
//!
//! ## Where it blocks
//! The parent in `accept` (per connection) or on its children (preforked);
//! the reaper in `sigwait`; each child in `read`, `write`, or `nanosleep`
//! for a `/delay`, on its own connection. A `/cpu` request holds only its
//! own process.
//!
//! ## EAGAIN and EINTR
//! As in `blocking`: EAGAIN from a read is the SO_RCVTIMEO deadline; EINTR
//! is retried. A child has no signal thread (`fork` copies only the thread
//! that called it), so it takes SIGTERM/SIGINT with a handler that only
//! sets the shutdown flag, installed without SA_RESTART: the `read` it is
//! blocked in fails with EINTR, and the loop stops once its connection is
//! idle. `fork` failing (EAGAIN: the process limit; ENOMEM) refuses that one
//! client with a 503.
//!
//! ## Limits
//! - `--max-conns N`: counted as live children; client N+1 gets a `503`
//!   from the parent. With `--workers`, N workers serve at most N at once
//!   and nobody is refused: a `--max-conns` below N lowers the workers to it.
//! - A process costs more than a thread: its page tables are copied at
//!   `fork` (the bigger the parent, the slower: the spawn_cost example), and
//!   each child has its own copy of every page it writes.
//! - The fd limit is per process: a child needs a few fds whatever the
//!   parent holds.
//! - At shutdown the parent stops accepting, sends SIGTERM to every child
//!   (in-flight responses finish, idle connections close), waits up to 1.5 s
//!   (three quarters of the 2 s grace), sends SIGKILL to any left, and
//!   reaps them all before it exits 0. When the parent dies any other way
//!   (even SIGKILL), the kernel signals every child (`PR_SET_PDEATHSIG`): a
//!   child serving a connection gets SIGTERM and finishes its response; a
//!   preforked worker gets SIGKILL, since it may sit in an `accept` that
//!   nobody will wake now. No child outlives the server (tested).
//! - A worker that dies at once every time would be replaced at once every
//!   time (no back-off): a real supervisor would slow down.
//!
//! ## Try it
//! ```text
//! cargo run --release -p forking -- --trace
//! cargo run --release -p forking -- --workers 4 --trace
//! curl -s http://127.0.0.1:7002/numbers.txt
//! ps --ppid $(pgrep -xo forking) -o pid,stat,cmd     # the children
//! cargo run --release -p forking --example spawn_cost   # fork vs thread
//! ```
//!
//! # Layout
//! - `server`: the accept-and-fork loop, and the preforked workers.
//! - `children`: the parent's table of live children and the reaper.
//! - `sys`: the unsafe calls, `fork`, `_exit` and the child's signal
//!   handler, each under a `// SAFETY:` comment.
//! - `cli`: [`Args`], the command line (the common flags and `--workers`),
//!   in the library so that the book's test
//!   (`bench/tests/book_commands.rs`) parses the book's commands with it.

use model::{Binary, Colour, Limits, Variant};

mod children;
mod cli;
mod server;
mod sys;
pub use cli::Args;

pub use server::serve;

/// The default port (docs/src/contract.md §1).
pub const PORT: u16 = 7002;

/// This model's binary, its variants and limits (`model`): read
/// by its conformance test and by `bench compare`.
pub const BINARIES: &[Binary] = &[Binary {
    name: "forking",
    version: env!("CARGO_PKG_VERSION"),
    core: Some("forking_core"),
    colour: Colour(140, 86, 75),
    reference: false,
    variants: &[
        // A process per connection, each with an fd table of its own.
        Variant::default_with(Limits {
            process_per_connection: true,
            ..Limits::NONE
        }),
        // Two preforked workers: two connections at a time.
        Variant {
            args: &["--workers", "2"],
            limits: Limits {
                at_a_time: Some(2),
                ..Limits::NONE
            },
            measured: true,
        },
    ],
}];
