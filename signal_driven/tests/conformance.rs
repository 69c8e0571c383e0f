//! The whole conformance suite against the signal-driven server: as it
//! comes, and with a real-time queue of one signal (`--sigpending 1`), where
//! nearly every event overflows into plain SIGIO and is found by the sweep
//! over every connection. Both must behave the same.

fn main() -> std::process::ExitCode {
    let server = || {
        conformance::Target::new("signal_driven", env!("CARGO_BIN_EXE_signal_driven"))
            .refuses(&["--sigpending", "0"])
            .refuses(&["--sigpending", "lots"])
    };
    conformance::main(vec![server(), server().args(&["--sigpending", "1"])])
}
