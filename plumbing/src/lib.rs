//! Everything an iomodels server does that is *not* its I/O model, written
//! once: the command line of docs/src/contract.md §2, the `listening on` line, raising the
//! open-file limit, SIGINT/SIGTERM, `--trace`, and clean start-up errors.
//!
//! # Why a crate of its own
//!
//! It cannot live in `protocol`, which must stay free of sockets, clocks and
//! signals (that is what makes it testable byte by byte). It must not live in
//! a model crate, or every other model would depend on that model. And it is
//! not test code, so not `conformance`. So it is a small crate that every
//! model's `main.rs` calls, and that a student can skip: nothing here differs
//! between models, so nothing here teaches the difference between them.
//!
//! # Using it
//!
//! A model's `main.rs` is a few lines:
//!
//! ```ignore
//! #[derive(clap::Parser)]
//! #[command(name = "blocking", version, about = "...two lines: the model, where it blocks...")]
//! struct Args {
//!     #[command(flatten)]
//!     common: plumbing::CommonArgs,
//!     // model flags (--workers, --trigger, ...) go here
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     let args: Args = plumbing::parse();
//!     plumbing::run("blocking", 7001, &args.common, blocking::serve)
//! }
//! ```
//!
//! [`run`] does the start-up in a fixed order (fd limit, site, the `/cpu`
//! work function, signals, bind, `listening on`), hands the model a [`Server`],
//! and turns the outcome into an exit code.
//!
//! # Layout
//!
//! - [`args`]: [`CommonArgs`], the flags every server takes, and [`parse`].
//! - [`start`]: [`run`] (and [`run_reuse_port`], [`run_core`]), [`Server`],
//!   [`listen`], [`raise_fd_limit`]; a start-up error's one line, naming
//!   the address or the path that failed.
//! - [`reuse_port`]: refusing a port another process holds, when the
//!   listeners are bound with SO_REUSEPORT (which would let them share it).
//! - [`shutdown`]: SIGINT/SIGTERM, handled on a thread of their own.
//! - [`trace`](mod@trace): the `--trace` lines, and the [`trace!`] macro.
//! - [`errors`]: `would_block` / `interrupted` / `timed_out`, named once.
//! - [`blocking_accept`]: the blocking accept loop of the models that hand
//!   each client to a thread or a process, refusing clients cleanly when out
//!   of fds.
//! - [`conn`]: a client of an event loop, a non-blocking socket and its
//!   protocol state, with one `read` and one `write` that say what happened
//!   ([`conn::Io`]); the loops over them are each model's own.
//! - [`nonblocking_accept`]: an event loop's non-blocking listener, one
//!   `accept` at a time, with the reserve fd for the day the process runs
//!   out of fds (which the blocking accept loop borrows).
//! - [`admission`]: `--max-conns` over all threads, and refusing a client
//!   (an event loop's `admit` is in [`conn`], beside the `Conn` it makes).
//! - [`files`]: a `--root` file opened and read with `pread` when the
//!   protocol asks (every model but io_uring, which uses its ring).
//! - [`deadline`]: a wait call's timeout, from the loop's deadlines.
//! - [`table`] and [`timers`]: an event loop's connections by token, and their
//!   deadlines in a heap (epoll, epoll-mio, signal_driven, uring).

pub mod admission;
pub mod args;
pub mod blocking_accept;
pub mod conn;
pub mod deadline;
pub mod errors;
pub mod files;
pub mod nonblocking_accept;
pub mod reuse_port;
pub mod shutdown;
pub mod start;
pub mod table;
pub mod timers;
pub mod trace;

pub use args::{CommonArgs, parse};
pub use errors::{interrupted, timed_out, would_block};
pub use start::{Server, listen, raise_fd_limit, run, run_core, run_reuse_port};
