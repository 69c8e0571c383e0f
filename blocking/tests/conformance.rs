//! The whole conformance suite against the blocking server, which declares
//! its one limit: it serves one connection at a time.

use conformance::{Concurrency, Target};

fn main() -> std::process::ExitCode {
    conformance::main(vec![
        Target::new("blocking", env!("CARGO_BIN_EXE_blocking")).concurrency(Concurrency::AtMost(1)),
    ])
}
