//! The whole conformance suite against both binaries of this crate, as
//! `select::BINARIES` declares them: `select`, which refuses fds at or above
//! FD_SETSIZE, and `poll`, which has no such limit.

fn main() -> std::process::ExitCode {
    conformance::main(conformance::declared(select::BINARIES, |name| match name {
        "select" => env!("CARGO_BIN_EXE_select"),
        _ => env!("CARGO_BIN_EXE_poll"),
    }))
}
