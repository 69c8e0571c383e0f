//! The command line of `forking`, here rather than in the binary
//! so that the book's test (`bench/tests/book_commands.rs`) checks every
//! command the book gives it with its own parser.

/// The forking server's command line: the common flags and `--workers`.
#[derive(clap::Parser)]
#[command(
    name = "forking",
    version,
    about = "Blocking I/O, a process per connection (fork(2) after accept), or N preforked worker processes.\n\
             Each child blocks in read(2)/write(2) on its one connection; the parent blocks in accept(2)."
)]
pub struct Args {
    /// The flags every server takes (`plumbing::CommonArgs`).
    #[command(flatten)]
    pub common: plumbing::CommonArgs,

    /// Start N worker processes up front, each accepting and serving one connection at a time, instead of a process per connection.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub workers: Option<u16>,
}
