//! The command lines of `epoll`, `epoll-mio`, here rather than in the binaries
//! so that the book's test (`bench/tests/book_commands.rs`) checks every
//! command the book gives them with their own parser.

use crate::Trigger;

/// The epoll server's command line: the common flags, `--trigger` and `--workers`.
#[derive(clap::Parser)]
#[command(
    name = "epoll",
    version,
    about = "I/O multiplexing with epoll(7): an interest list kept in the kernel, level- or edge-triggered, N worker threads.\n\
             Blocks only in epoll_wait, until one of its fds is ready or the earliest deadline."
)]
pub struct Args {
    /// The flags every server takes (`plumbing::CommonArgs`).
    #[command(flatten)]
    pub common: plumbing::CommonArgs,

    /// When epoll reports a ready fd: as long as it is ready (level), or once when it becomes ready (edge, EPOLLET).
    #[arg(long, value_enum, default_value_t = Trigger::Level)]
    pub trigger: Trigger,

    /// This model's own flags.
    #[command(flatten)]
    pub workers: crate::Workers,
}

/// The mio server's command line: the common flags and `--workers`.
#[derive(clap::Parser)]
#[command(
    name = "epoll-mio",
    version,
    about = "I/O multiplexing with epoll(7) through mio: edge-triggered, tokens, a waker, N worker threads.\n\
             Blocks only in mio's Poll::poll (epoll_wait), until one of its fds is ready or the earliest deadline."
)]
pub struct MioArgs {
    /// The flags every server takes (`plumbing::CommonArgs`).
    #[command(flatten)]
    pub common: plumbing::CommonArgs,

    /// This model's own flags.
    #[command(flatten)]
    pub workers: crate::Workers,
}
