//! `blocking`: parse the flags, hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: blocking::Args = plumbing::parse();
    plumbing::run("blocking", blocking::PORT, &args.common, blocking::serve)
}
