//! `coroutine`: parse the flags, hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: coroutine::Args = plumbing::parse();
    let green = args.green;
    plumbing::run("coroutine", coroutine::PORT, &args.common, |server| {
        coroutine::serve(server, green)
    })
}
