//! The whole conformance suite against the busy-poll server. It serves many
//! connections at once, with no fd-number bound, and declares that it spins:
//! it uses a whole CPU even with nothing to do.

use conformance::Target;

fn main() -> std::process::ExitCode {
    conformance::main(vec![
        Target::new("nonblocking", env!("CARGO_BIN_EXE_nonblocking")).spins(),
    ])
}
