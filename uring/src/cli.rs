//! The command line of `uring`, here rather than in the binary
//! so that the book's test (`bench/tests/book_commands.rs`) checks every
//! command the book gives it with its own parser.

use crate::{Shots, Wait};

/// The io_uring server's command line: the common flags and `--shots`.
#[derive(clap::Parser)]
#[command(
    name = "uring",
    version,
    about = "Asynchronous I/O with io_uring: accept, recv and send are submitted to the kernel, which completes them.\n\
             Blocks only in io_uring_enter, until at least one operation has completed."
)]
pub struct Args {
    /// The flags every server takes (`plumbing::CommonArgs`).
    #[command(flatten)]
    pub common: plumbing::CommonArgs,

    /// Multishot accept and recv (one operation, many completions; falls back to single where the kernel refuses), or one operation per completion.
    #[arg(long, value_enum, default_value_t = Shots::Multi)]
    pub shots: Shots,

    /// How io_uring_enter waits: for a batch only when the last round brought one (adaptive), for as many completions as the last round brought, up to 50 µs (batch), or for one (one). An experiment: the uring reference measures the three.
    #[arg(long, value_enum, default_value_t = Wait::Adaptive)]
    pub wait: Wait,

    /// A kernel thread polls the submission queue (IORING_SETUP_SQPOLL), so submitting needs no system call; it spins for 10 ms after each submission, on the server's own core when the server is pinned (it inherits the pinning). An experiment: the uring reference measures it.
    #[arg(long)]
    pub sqpoll: bool,
}
