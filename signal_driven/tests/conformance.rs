//! The whole conformance suite against the signal-driven server, in the
//! variants `signal_driven::BINARIES` declares: as it comes, and with a
//! real-time queue of one signal (`--sigpending 1`), where nearly every
//! event overflows into plain SIGIO and is found by the sweep over every
//! connection. Both must behave the same.

fn main() -> std::process::ExitCode {
    let targets = conformance::declared(signal_driven::BINARIES, |_| {
        env!("CARGO_BIN_EXE_signal_driven")
    });
    conformance::main(
        targets
            .into_iter()
            .map(|target| {
                target
                    .refuses(&["--sigpending", "0"])
                    .refuses(&["--sigpending", "lots"])
            })
            .collect(),
    )
}
