//! The whole conformance suite against the busy-poll server. It serves many
//! connections at once, with no fd-number bound, and declares
//! (`nonblocking::BINARIES`) that it spins: it uses a whole CPU even with
//! nothing to do.

fn main() -> std::process::ExitCode {
    conformance::main(conformance::declared(nonblocking::BINARIES, |_| {
        env!("CARGO_BIN_EXE_nonblocking")
    }))
}
