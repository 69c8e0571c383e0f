//! `nonblocking`: parse the flags, hand over to the library.

use std::process::ExitCode;

/// The busy-poll server's command line: the common flags and nothing else.
#[derive(clap::Parser)]
#[command(
    name = "nonblocking",
    about = "Non-blocking I/O, busy-polled: one loop tries accept, read and write on everything, with no readiness call.\n\
             Never blocks: EAGAIN means try again on the next pass, so it burns a core even when idle."
)]
struct Args {
    #[command(flatten)]
    common: plumbing::CommonArgs,
}

fn main() -> ExitCode {
    let args: Args = plumbing::parse();
    plumbing::run(
        "nonblocking",
        nonblocking::PORT,
        &args.common,
        nonblocking::serve,
    )
}
