//! `tokio_ref`: parse the flags, hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: tokio_ref::Args = plumbing::parse();
    plumbing::run("tokio_ref", tokio_ref::PORT, &args.common, |server| {
        tokio_ref::serve(server, usize::from(args.workers))
    })
}
