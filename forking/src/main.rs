//! `forking`: parse the flags, hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: forking::Args = plumbing::parse();
    let workers = args.workers;
    plumbing::run("forking", forking::PORT, &args.common, |server| {
        forking::serve(server, workers)
    })
}
