//! The whole conformance suite against the threaded server: a thread per
//! connection (serves them all at once), and a pool of 8 threads, which
//! declares its limit: 8 connections at once, the ninth waits.

use conformance::{Concurrency, Target};

fn main() -> std::process::ExitCode {
    let binary = env!("CARGO_BIN_EXE_threaded");
    conformance::main(vec![
        Target::new("threaded", binary),
        Target::new("threaded", binary)
            .args(&["--pool", "8"])
            .concurrency(Concurrency::AtMost(8)),
    ])
}
