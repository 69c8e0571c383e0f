//! `async_await`: parse the flags, hand over to the library.

use std::process::ExitCode;

/// The async/await server's command line: the common flags only.
#[derive(clap::Parser)]
#[command(
    name = "async_await",
    about = "Futures: an async fn per connection on a small executor and reactor (polling/epoll), one thread.\n\
             An .await that is not ready returns to the executor; the thread blocks only in epoll_wait."
)]
struct Args {
    #[command(flatten)]
    common: plumbing::CommonArgs,
}

fn main() -> ExitCode {
    let args: Args = plumbing::parse();
    plumbing::run(
        "async_await",
        async_await::PORT,
        &args.common,
        async_await::serve,
    )
}
