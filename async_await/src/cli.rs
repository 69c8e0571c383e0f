//! The command line of `async_await`, here rather than in the binary
//! so that the book's test (`bench/tests/book_commands.rs`) checks every
//! command the book gives it with its own parser.

/// The async/await server's command line: the common flags only.
#[derive(clap::Parser)]
#[command(
    name = "async_await",
    version,
    about = "Futures: an async fn per connection on a small executor and reactor (polling/epoll), one thread.\n\
             An .await that is not ready returns to the executor; the thread blocks only in epoll_wait."
)]
pub struct Args {
    /// The flags every server takes (`plumbing::CommonArgs`).
    #[command(flatten)]
    pub common: plumbing::CommonArgs,
}
