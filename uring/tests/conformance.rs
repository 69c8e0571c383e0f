//! The whole conformance suite against the io_uring server, with multishot
//! accept and recv (the default) and with one accept per client and one
//! recv per read (the fallback for older kernels).
//!
//! Where io_uring is not available (seccomp, `kernel.io_uring_disabled`, an
//! old kernel) the server cannot start, so the suite cannot run: this says
//! so in one line and why, instead of failing forty cases obscurely. That
//! the server itself refuses cleanly there is `tests/unavailable.rs`.

use std::process::ExitCode;

fn main() -> ExitCode {
    if let Err(why) = uring::probe() {
        eprintln!("uring: NOT TESTED: io_uring is not available on this machine: {why}");
        return ExitCode::SUCCESS;
    }
    let uring = || {
        conformance::Target::new("uring", env!("CARGO_BIN_EXE_uring"))
            .refuses(&["--shots", "bogus"])
            .refuses(&["--shots", ""])
    };
    conformance::main(vec![uring(), uring().args(&["--shots", "single"])])
}
