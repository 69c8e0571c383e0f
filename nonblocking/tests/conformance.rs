//! The whole conformance suite against the busy-poll server, which declares
//! no limit: it serves many connections at once, with no fd-number bound.

use conformance::Target;

fn main() -> std::process::ExitCode {
    conformance::main(vec![Target::new(
        "nonblocking",
        env!("CARGO_BIN_EXE_nonblocking"),
    )])
}
