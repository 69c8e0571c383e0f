//! The whole conformance suite against the coroutine server: one may worker
//! thread (the default), and two. Both serve every connection at once:
//! a coroutine parked in `read` holds no thread.

use conformance::Target;

fn main() -> std::process::ExitCode {
    let binary = env!("CARGO_BIN_EXE_coroutine");
    conformance::main(vec![
        Target::new("coroutine", binary),
        Target::new("coroutine", binary).args(&["--workers", "2"]),
    ])
}
