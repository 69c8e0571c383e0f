//! The whole conformance suite against the async/await server: one thread,
//! every connection at once.

fn main() -> std::process::ExitCode {
    conformance::main(vec![conformance::Target::new(
        "async_await",
        env!("CARGO_BIN_EXE_async_await"),
    )])
}
