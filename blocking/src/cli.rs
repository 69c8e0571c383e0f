//! The command line of `blocking`, here rather than in the binary
//! so that the book's test (`bench/tests/book_commands.rs`) checks every
//! command the book gives it with its own parser.

/// The blocking server's command line: the common flags and nothing else.
#[derive(clap::Parser)]
#[command(
    name = "blocking",
    version,
    about = "Blocking I/O, iterative: one connection at a time, served start to end.\n\
             Blocks in accept(2), then in read(2)/write(2) on that one connection; the rest wait in the backlog."
)]
pub struct Args {
    /// The flags every server takes (`plumbing::CommonArgs`).
    #[command(flatten)]
    pub common: plumbing::CommonArgs,
}
