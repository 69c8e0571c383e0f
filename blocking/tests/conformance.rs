//! The whole conformance suite against the iterative server, which declares
//! (`blocking::BINARIES`) that it serves one connection at a time.

fn main() -> std::process::ExitCode {
    conformance::main(conformance::declared(blocking::BINARIES, |_| {
        env!("CARGO_BIN_EXE_blocking")
    }))
}
