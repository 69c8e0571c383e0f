//! The whole conformance suite against the async/await server: one thread,
//! every connection at once (`async_await::BINARIES`).

fn main() -> std::process::ExitCode {
    conformance::main(conformance::declared(async_await::BINARIES, |_| {
        env!("CARGO_BIN_EXE_async_await")
    }))
}
