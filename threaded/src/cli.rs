//! The command line of `threaded`, here rather than in the binary
//! so that the book's test (`bench/tests/book_commands.rs`) checks every
//! command the book gives it with its own parser.

/// The threaded server's command line: the common flags, `--stack-size` and `--pool`.
#[derive(clap::Parser)]
#[command(
    name = "threaded",
    version,
    about = "Blocking I/O, a thread per connection (or a pool of N threads fed through a channel).\n\
             Each thread blocks in read(2)/write(2) on its own connection; the main thread blocks in accept(2)."
)]
pub struct Args {
    /// The flags every server takes (`plumbing::CommonArgs`).
    #[command(flatten)]
    pub common: plumbing::CommonArgs,

    /// This model's own flags.
    #[command(flatten)]
    pub threads: crate::Threads,
}
