//! The command line of `tokio_ref`, here rather than in the binary so that
//! the book's test (`bench/tests/book_commands.rs`) checks every command
//! the book gives it with its own parser.

/// The tokio server's command line: the common flags and `--workers`.
#[derive(clap::Parser)]
#[command(
    name = "tokio_ref",
    version,
    about = "The reference: the async_await server's async fn per connection on tokio.\n\
             --workers 1 is tokio's current-thread runtime, more its multi-threaded (work-stealing) one."
)]
pub struct Args {
    /// The flags every server takes (`plumbing::CommonArgs`).
    #[command(flatten)]
    pub common: plumbing::CommonArgs,

    /// Worker threads: 1 runs tokio's current-thread runtime, more its multi-threaded one.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,
}
