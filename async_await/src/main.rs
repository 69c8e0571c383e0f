//! `async_await`: parse the flags, hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: async_await::Args = plumbing::parse();
    plumbing::run(
        "async_await",
        async_await::PORT,
        &args.common,
        async_await::serve,
    )
}
