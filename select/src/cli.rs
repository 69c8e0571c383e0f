//! The command lines of `select`, `poll`, here rather than in the binaries
//! so that the book's test (`bench/tests/book_commands.rs`) checks every
//! command the book gives them with their own parser.

/// The select server's command line: the common flags and nothing else.
#[derive(clap::Parser)]
#[command(
    name = "select",
    version,
    about = "I/O multiplexing with select(2): one thread, non-blocking sockets, fd bitmaps rebuilt every round.\n\
             Blocks only in select(2), until some fd is ready or the earliest deadline; fds >= 1024 are refused."
)]
pub struct Args {
    /// The flags every server takes (`plumbing::CommonArgs`).
    #[command(flatten)]
    pub common: plumbing::CommonArgs,
}

/// The poll server's command line: the common flags and nothing else.
#[derive(clap::Parser)]
#[command(
    name = "poll",
    version,
    about = "I/O multiplexing with poll(2): one thread, non-blocking sockets, an array of (fd, events).\n\
             Blocks only in poll(2), until some fd is ready or the earliest deadline; no fd-number limit."
)]
pub struct PollArgs {
    /// The flags every server takes (`plumbing::CommonArgs`).
    #[command(flatten)]
    pub common: plumbing::CommonArgs,
}
