//! `poll`: parse the flags, hand over to the library.

use std::process::ExitCode;

/// The poll server's command line: the common flags and nothing else.
#[derive(clap::Parser)]
#[command(
    name = "poll",
    about = "I/O multiplexing with poll(2): one thread, non-blocking sockets, an array of (fd, events).\n\
             Blocks only in poll(2), until some fd is ready or the earliest deadline; no fd-number limit."
)]
struct Args {
    #[command(flatten)]
    common: plumbing::CommonArgs,
}

fn main() -> ExitCode {
    let args: Args = plumbing::parse();
    plumbing::run("poll", select::POLL_PORT, &args.common, select::serve_poll)
}
