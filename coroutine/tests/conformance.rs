//! The whole conformance suite against the coroutine server, in the variants
//! `coroutine::BINARIES` declares: one may worker thread (the default), and
//! two. Both serve every connection at once: a coroutine parked in `read`
//! holds no thread.

fn main() -> std::process::ExitCode {
    conformance::main(conformance::declared(coroutine::BINARIES, |_| {
        env!("CARGO_BIN_EXE_coroutine")
    }))
}
