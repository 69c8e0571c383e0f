//! The whole conformance suite against the forking server: a process per
//! connection (every connection at once, each in a process, and an fd table,
//! of its own), and 4 preforked workers, which declare their limit: 4
//! connections at once, the fifth waits in the listen backlog.

use conformance::{Concurrency, Target};

fn main() -> std::process::ExitCode {
    let binary = env!("CARGO_BIN_EXE_forking");
    conformance::main(vec![
        Target::new("forking", binary).process_per_connection(),
        Target::new("forking", binary)
            .args(&["--workers", "4"])
            .concurrency(Concurrency::AtMost(4)),
    ])
}
