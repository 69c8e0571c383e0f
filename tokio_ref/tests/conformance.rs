//! The whole conformance suite against the tokio server, with one worker
//! and with two (`tokio_ref::BINARIES`).

fn main() -> std::process::ExitCode {
    conformance::main(conformance::declared(tokio_ref::BINARIES, |_| {
        env!("CARGO_BIN_EXE_tokio_ref")
    }))
}
