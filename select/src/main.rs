//! `select`: parse the flags, hand over to the library.

use std::process::ExitCode;

/// The select server's command line: the common flags and nothing else.
#[derive(clap::Parser)]
#[command(
    name = "select",
    about = "I/O multiplexing with select(2): one thread, non-blocking sockets, fd bitmaps rebuilt every round.\n\
             Blocks only in select(2), until some fd is ready or the earliest deadline; fds >= 1024 are refused."
)]
struct Args {
    #[command(flatten)]
    common: plumbing::CommonArgs,
}

fn main() -> ExitCode {
    let args: Args = plumbing::parse();
    plumbing::run(
        "select",
        select::SELECT_PORT,
        &args.common,
        select::serve_select,
    )
}
