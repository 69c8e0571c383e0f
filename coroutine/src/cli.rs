//! The command line of `coroutine`, here rather than in the binary
//! so that the book's test (`bench/tests/book_commands.rs`) checks every
//! command the book gives it with its own parser.

/// The coroutine server's command line: the common flags, `--workers` and `--stack-size`.
#[derive(clap::Parser)]
#[command(
    name = "coroutine",
    version,
    about = "Green threads (may): a coroutine per connection, running the blocking server's loop.\n\
             A read with no data parks the coroutine, not the thread; only may's epoll_wait blocks a worker."
)]
pub struct Args {
    /// The flags every server takes (`plumbing::CommonArgs`).
    #[command(flatten)]
    pub common: plumbing::CommonArgs,

    /// This model's own flags.
    #[command(flatten)]
    pub green: crate::Green,
}
