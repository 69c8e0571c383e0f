//! `poll`: parse the flags, hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: select::PollArgs = plumbing::parse();
    plumbing::run("poll", select::POLL_PORT, &args.common, select::serve_poll)
}
