//! Runs a command where io_uring is forbidden, as a container's seccomp
//! filter forbids it: `io_uring_setup` fails with EPERM in the command and
//! in everything it starts. For seeing what the server and its tests do on
//! such a machine:
//!
//! ```text
//! cargo run -p uring --example without_io_uring -- target/release/uring
//! cargo run -p uring --example without_io_uring -- cargo test -p uring
//! ```
//!
//! The first prints one line and exits 1; the second reports the uring
//! tests as ignored, with the reason (and fails them with
//! `IOMODELS_REQUIRE=io_uring`, as `.ci/run` sets it).

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

#[path = "../tests/common/mod.rs"]
mod common;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: without_io_uring COMMAND [ARGS...]");
        return ExitCode::from(2);
    };
    if let Err(err) = common::forbid_io_uring() {
        eprintln!("without_io_uring: cannot install the seccomp filter: {err}");
        return ExitCode::from(1);
    }
    // exec only returns on failure.
    let err = Command::new(&program).args(args).exec();
    eprintln!(
        "without_io_uring: cannot run {}: {err}",
        program.to_string_lossy()
    );
    ExitCode::from(127)
}
