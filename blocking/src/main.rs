//! `blocking`: parse the flags, hand over to the library.

use std::process::ExitCode;

/// The blocking server's command line: the common flags and nothing else.
#[derive(clap::Parser)]
#[command(
    name = "blocking",
    about = "Blocking I/O, iterative: one connection at a time, served start to end.\n\
             Blocks in accept(2), then in read(2)/write(2) on that one connection; the rest wait in the backlog."
)]
struct Args {
    #[command(flatten)]
    common: plumbing::CommonArgs,
}

fn main() -> ExitCode {
    let args: Args = plumbing::parse();
    plumbing::run("blocking", blocking::PORT, &args.common, blocking::serve)
}
