//! `select`: parse the flags, hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: select::Args = plumbing::parse();
    plumbing::run(
        "select",
        select::SELECT_PORT,
        &args.common,
        select::serve_select,
    )
}
