//! `nonblocking`: parse the flags, hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: nonblocking::Args = plumbing::parse();
    plumbing::run(
        "nonblocking",
        nonblocking::PORT,
        &args.common,
        nonblocking::serve,
    )
}
