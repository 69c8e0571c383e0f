//! `coroutine`: parse the flags, hand over to the library.

use std::process::ExitCode;

/// The coroutine server's command line: the common flags, `--workers` and `--stack-size`.
#[derive(clap::Parser)]
#[command(
    name = "coroutine",
    about = "Green threads (may): a coroutine per connection, running the blocking server's loop.\n\
             A read with no data parks the coroutine, not the thread; only may's epoll_wait blocks a worker."
)]
struct Args {
    #[command(flatten)]
    common: plumbing::CommonArgs,

    #[command(flatten)]
    green: coroutine::Green,
}

fn main() -> ExitCode {
    let args: Args = plumbing::parse();
    let green = args.green;
    plumbing::run("coroutine", coroutine::PORT, &args.common, |server| {
        coroutine::serve(server, green)
    })
}
