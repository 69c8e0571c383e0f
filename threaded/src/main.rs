//! `threaded`: parse the flags, hand over to the library.

use std::process::ExitCode;

/// The threaded server's command line: the common flags, `--stack-size` and `--pool`.
#[derive(clap::Parser)]
#[command(
    name = "threaded",
    about = "Blocking I/O, a thread per connection (or a pool of N threads fed through a channel).\n\
             Each thread blocks in read(2)/write(2) on its own connection; the main thread blocks in accept(2)."
)]
struct Args {
    #[command(flatten)]
    common: plumbing::CommonArgs,

    #[command(flatten)]
    threads: threaded::Threads,
}

fn main() -> ExitCode {
    let args: Args = plumbing::parse();
    let threads = args.threads;
    plumbing::run("threaded", threaded::PORT, &args.common, |server| {
        threaded::serve(server, threads)
    })
}
