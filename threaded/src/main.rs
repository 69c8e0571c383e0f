//! `threaded`: parse the flags, hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: threaded::Args = plumbing::parse();
    let threads = args.threads;
    plumbing::run("threaded", threaded::PORT, &args.common, |server| {
        threaded::serve(server, threads)
    })
}
