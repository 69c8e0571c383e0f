//! # uring: completions instead of readiness
//!
//! ## Model
//! Asynchronous I/O, the fifth model of the sources: the program asks the
//! kernel to *do* the I/O and is told when it is done, both phases (waiting
//! for data, copying it) included. io_uring is two rings of memory shared
//! with the kernel. The loop writes operations (accept, recv, send, timeout,
//! cancel) into the *submission queue*; the kernel carries them out and
//! writes a result for each into the *completion queue*. One system call,
//! `io_uring_enter`, hands over every queued operation and waits for
//! completions. Nothing ever asks whether a socket is *ready*: there is no
//! `epoll_wait`, no `poll`, no EAGAIN to handle on the loop's side.
//!
//! - Accept is *multishot* (Linux 5.19): one operation stays in flight and
//!   completes once per client. So is each connection's `recv` (Linux 6.0):
//!   it completes every time data arrives. Where the kernel refuses either
//!   (the first completion is EINVAL), the loop falls back to one accept per
//!   client and one `recv` per read; `--shots single` chooses that from the
//!   start. (The ring itself needs 6.1, see **Limits**, so on a kernel this
//!   server starts on, the fallbacks are for a kernel or a sandbox that
//!   refuses multishot; the flag reaches them anywhere.)
//! - Each connection has at most one `recv`, one `send` and one file
//!   operation in flight. The
//!   `recv` names a *provided buffer ring* (a pool of 256 buffers of 4 KiB),
//!   not a buffer: the kernel picks one when data arrives, so the 19,000
//!   idle connections of `bench hold` hold no buffer at all.
//! - A send is of the protocol's output, *lent* (no copy: the protocol
//!   writes what comes next into a new buffer until the completion gives it
//!   back), followed by a piece of a body that lives as long as the program
//!   (the `/bytes` pattern, an embedded file) sent from where it is: one
//!   gathered `sendmsg`. `MSG_WAITALL`: the kernel finishes a send the
//!   socket took only in part, so each send completes whole.
//! - A `--root` file is opened and read through the ring (`openat`,
//!   `read`), when the protocol asks: nothing in the loop blocks on a disk.
//! - The wait adapts to the load: after a round that brought a batch (32
//!   completions or more: sixteen clients' worth of a `recv` and a `send`),
//!   it asks for as many again and holds on at most 50 µs for them
//!   (`min_wait`, Linux 6.12; see **Limits**), so that under load one
//!   `io_uring_enter` brings back a round's worth; after a lighter round it
//!   waits for one, since holding on would only keep the clients waiting.
//!   `--wait batch` (always ask for the last round's count) and `--wait one`
//!   (never) are the two halves, kept to measure; `--sqpoll` hands the
//!   submissions to a kernel thread. The uring reference measures all three
//!   against epoll.
//! - Deadlines (a `/delay`, the 408, the idle timeout) live in the same heap
//!   as epoll's (`plumbing::timers`); one `IORING_OP_TIMEOUT` in flight for
//!   the earliest of them wakes the loop.
//!
//! **Buffers must outlive their operations.** This is the model's known
//! use-after-free: the kernel reads a send's bytes and writes a recv's
//! buffer *after* the submitting call returned. Here: a send's bytes are
//! the protocol's output lent to the connection until the completion
//! (`Client::sending`), a gathered send's header is boxed (`Client::gather`),
//! a file's path and read buffer are the connection's until theirs
//! (`file_io`); a connection is freed only when nothing of it is
//! in flight (closing cancels what is and waits for the completions); the
//! pool is leaked, so it lives as long as the process. See `server.rs`,
//! `Client`.
//!
//! ## Syscalls
//! At start: `io_uring_setup`, `io_uring_register` (the probe), two
//! `mmap`s. Then only `io_uring_enter`, once per loop round, however many
//! operations it submits and completions it reaps; plus `setsockopt`
//! (`TCP_NODELAY`) per new client, and `close`; and for a `--root` file an
//! `fstat` and a `readlink` (the containment check, answered from memory),
//! never a `read` or `pread`. A keep-alive request
//! answered at once costs a share of one `io_uring_enter`: its `recv`
//! completion and its `send` travel with everyone else's. `bench compare`'s
//! costs table counts them under load (the chapter includes it): a fraction
//! of a system call per request where epoll makes two. The fraction is not
//! fixed: one `io_uring_enter` brings back what completed while the loop
//! worked on the last batch, so the busier the server, the bigger the batch.
//! (Under `strace`, which stops the server at every call, the batches grow
//! and the fraction shrinks: count with `bench --pid`, not strace.)
//!
//! ## Where it blocks
//! Only in `io_uring_enter`, until at least one operation has completed (a
//! timeout is one). A `/cpu` request blocks every connection.
//!
//! ## EAGAIN and EINTR
//! The kernel retries a socket that is not ready by itself (it arms its own
//! internal poll), so completions carry data, EOF or a real error, not
//! EAGAIN. EINTR from `io_uring_enter` is retried; it cannot stretch a
//! deadline, which is an operation in the ring. A `recv` that finds the
//! pool empty (ENOBUFS) is submitted again. A completion for a connection
//! being closed only frees what it held. A `recv` that brought bytes always
//! names the pool buffer that holds them; one that named none would fail
//! its connection (`ops::Received::Unnamed`), never be read from a buffer
//! picked by guess.
//!
//! Out of fds: an accept that completes with EMFILE hands over to the
//! non-blocking accept of the other event loops (`plumbing::nonblocking_accept::Acceptor`)
//! once, which refuses the waiting clients with its reserve fd and a 503.
//!
//! ## Limits
//! - io_uring must be there and allowed: at start the ring is built and
//!   probed for every operation used, and the buffer ring registered; where
//!   that fails, the server prints one line saying why and exits 1
//!   (`cargo run -p uring --example without_io_uring --
//!   target/release/uring` shows it). EPERM: a seccomp filter, or `sysctl
//!   kernel.io_uring_disabled` (Linux 6.6+; the line names its value when
//!   it is set). ENOSYS: a kernel without io_uring.
//! - Linux 6.1 or later: the ring is set up with `IORING_SETUP_SINGLE_ISSUER`
//!   (6.0) and `IORING_SETUP_DEFER_TASKRUN` (6.1), and an older kernel
//!   refuses the setup with EINVAL; the line says the ring needs 6.1 and
//!   which kernel this is. Everything else the server uses is older:
//!   multishot accept and the buffer ring (5.19), multishot `recv` (6.0).
//! - The batching wait needs Linux 6.12 (`IORING_FEAT_MIN_TIMEOUT`). From
//!   6.1 to 6.11 the server runs all the same and every wait is for one
//!   completion, as `--trace` says at start: the same answers, for more
//!   `io_uring_enter` calls per request under load. It is a saving, not a
//!   need, so it turns no kernel away. The flag is read at start, not
//!   learnt from an error: before 6.12 the kernel refuses `min_wait_usec`
//!   with EINVAL only in a call that submitted nothing, and returns at once,
//!   without waiting, from one that submitted something.
//! - `--max-conns N`: client N+1 gets `503 Service Unavailable`.
//! - One thread, one ring.
//!
//! ## Try it
//! ```text
//! cargo run --release -p uring -- --trace
//! curl -s http://127.0.0.1:7012/numbers.txt
//! strace -e trace=io_uring_enter,io_uring_setup target/release/uring
//! ```
//!
//! # Layout
//! - `server.rs`: the loop: queue, submit and wait, complete; its accept
//!   side in `server/accept.rs`, its timeout in `server/timer.rs`, and the
//!   `--root` files, opened and read through the ring, in `server/file.rs`.
//! - `client.rs`: one connection, what it has in flight, and its stash.
//! - `ops.rs`: the operations, as `user_data` names them, `queue`, and
//!   what a `recv` completion says (`Received`). `queue` is the one caller
//!   of `sys::push`, and its `SAFETY:` comment says what keeps every
//!   operation's memory alive until its completion.
//! - `sys.rs`: the unsafe part: the ring and its probe, queueing an
//!   operation, the buffer pool, adopting an accepted fd.
//! - `cli.rs`: [`Args`], the command line (the common flags and
//!   `--shots`), in the library so that the book's test
//!   (`bench/tests/book_commands.rs`) parses the book's commands with it.

mod cli;
mod client;
mod ops;
mod server;
mod sys;
pub use cli::Args;

use model::{Binary, Colour, Limits, Variant};
use std::io;

/// A ring that passed the probe, and its buffer pool, registered.
pub struct Ring {
    ring: io_uring::IoUring,
    pool: sys::Pool,
}

/// The default port (docs/src/contract.md §1).
pub const PORT: u16 = 7012;

/// This model's binary, its variants and limits (`model`): read
/// by its conformance test and by `bench compare`.
pub const BINARIES: &[Binary] = &[Binary {
    name: "uring",
    version: env!("CARGO_PKG_VERSION"),
    core: Some("uring_core"),
    colour: Colour(0, 0, 0),
    reference: false,
    variants: &[
        Variant::default_with(Limits::NONE),
        // One accept per client and one recv per read, as before 6.0.
        Variant::flags(&["--shots", "single"]),
        // The wait and submission experiments: measured when named
        // (`bench compare --only "uring --wait one"`), not in every run.
        Variant {
            measured: false,
            ..Variant::flags(&["--wait", "batch"])
        },
        Variant {
            measured: false,
            ..Variant::flags(&["--wait", "one"])
        },
        // Its kernel thread spins on the queue for 10 ms after each
        // submission, even out of fds: declared as spinning, so the suite
        // does not hold it to an idle server's CPU.
        Variant {
            measured: false,
            limits: Limits {
                spins: true,
                ..Limits::NONE
            },
            ..Variant::flags(&["--sqpoll"])
        },
    ],
}];

/// `--shots`: whether accepts and receives are multishot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shots {
    /// One accept in flight for every client (Linux 5.19), one recv in
    /// flight for every read of a connection (6.0); each falls back to
    /// single on a kernel that refuses it (EINVAL).
    Multi,
    /// One accept per client and one recv per read, each submitted again
    /// after it completes: what older kernels can do.
    Single,
}

/// `--wait`: how many completions `io_uring_enter` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Wait {
    /// A batch after a round that brought one, else one: the default.
    Adaptive,
    /// Always as many as the last round brought, holding on up to 50 µs.
    Batch,
    /// Always one: back as soon as anything has completed.
    One,
}

/// Builds the ring and checks the kernel has every operation the server
/// uses: `Err` is one line saying why io_uring cannot be used here.
pub fn probe(sqpoll: bool) -> Result<Ring, String> {
    let (ring, pool) = sys::ring(sqpoll)?;
    Ok(Ring { ring, pool })
}

/// What a connection of this server is made of: its slot in the table,
/// field by field (`bench::held` writes the chapter's table from it).
pub fn slot_layout() -> protocol::layout::Part {
    plumbing::table::Table::<client::Client>::slot_layout(client::Client::layout())
}

/// Serves on `ring` until shutdown.
pub fn serve(ring: Ring, server: plumbing::Server, shots: Shots, wait: Wait) -> io::Result<()> {
    server::Loop::new(ring, server, shots, wait)?.serve()
}
