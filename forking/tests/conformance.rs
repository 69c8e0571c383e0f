//! The whole conformance suite against the forking server, in the variants
//! `forking::BINARIES` declares: a process per connection (every connection
//! at once, each in a process, and an fd table, of its own), and two
//! preforked workers, which declare their limit: two connections at once,
//! the third waits in the listen backlog.

fn main() -> std::process::ExitCode {
    conformance::main(conformance::declared(forking::BINARIES, |_| {
        env!("CARGO_BIN_EXE_forking")
    }))
}
