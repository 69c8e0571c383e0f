//! The command line of `nonblocking`, here rather than in the binary
//! so that the book's test (`bench/tests/book_commands.rs`) checks every
//! command the book gives it with its own parser.

/// The busy-poll server's command line: the common flags and nothing else.
#[derive(clap::Parser)]
#[command(
    name = "nonblocking",
    version,
    about = "Non-blocking I/O, busy-polled: one loop tries accept, read and write on everything, with no readiness call.\n\
             Never blocks: EAGAIN means try again on the next pass, so it burns a core even when idle."
)]
pub struct Args {
    /// The flags every server takes (`plumbing::CommonArgs`).
    #[command(flatten)]
    pub common: plumbing::CommonArgs,
}
