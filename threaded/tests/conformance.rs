//! The whole conformance suite against the threaded server, in the variants
//! `threaded::BINARIES` declares: a thread per connection (serves them all
//! at once), and a pool of 8 threads, which declares its limit: 8
//! connections at once, the ninth waits.

fn main() -> std::process::ExitCode {
    conformance::main(conformance::declared(threaded::BINARIES, |_| {
        env!("CARGO_BIN_EXE_threaded")
    }))
}
